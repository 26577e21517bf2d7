#include "idl/observability/json_log.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

namespace idl::jlog {

namespace {

std::atomic<int> g_minLevel{static_cast<int>(Level::Info)};
std::mutex g_mutex;
std::string g_service = "idl";

void qtHandler(QtMsgType type, const QMessageLogContext &, const QString &msg)
{
    Level level = Level::Info;
    switch (type) {
    case QtDebugMsg:
        level = Level::Debug;
        break;
    case QtInfoMsg:
        level = Level::Info;
        break;
    case QtWarningMsg:
        level = Level::Warn;
        break;
    case QtCriticalMsg:
        level = Level::Error;
        break;
    case QtFatalMsg:
        level = Level::Fatal;
        break;
    }
    const QByteArray text = msg.toUtf8();
    write(level, std::string_view(text.constData(), static_cast<size_t>(text.size())),
          {{"source", QStringLiteral("qt")}});
}

} // namespace

void init(std::string_view service, Level minLevel)
{
    {
        std::lock_guard lock(g_mutex);
        g_service = std::string(service);
    }
    setMinLevel(minLevel);
    qInstallMessageHandler(qtHandler);
}

void setMinLevel(Level level)
{
    g_minLevel.store(static_cast<int>(level));
}

bool enabled(Level level)
{
    return static_cast<int>(level) >= g_minLevel.load();
}

void write(Level level, std::string_view msg, std::initializer_list<Field> fields)
{
    if (!enabled(level))
        return;
    QJsonObject o;
    o.insert(QStringLiteral("ts"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs));
    o.insert(QStringLiteral("level"), QString::fromLatin1(levelName(level)));
    {
        std::lock_guard lock(g_mutex);
        o.insert(QStringLiteral("service"), QString::fromStdString(g_service));
    }
    o.insert(QStringLiteral("msg"),
             QString::fromUtf8(msg.data(), static_cast<qsizetype>(msg.size())));
    for (const auto &[key, value] : fields)
        o.insert(QString::fromUtf8(key.data(), static_cast<qsizetype>(key.size())),
                 QJsonValue::fromVariant(value));
    QByteArray line = QJsonDocument(o).toJson(QJsonDocument::Compact);
    line.append('\n');
    std::lock_guard lock(g_mutex);
#ifdef _WIN32
    fwrite(line.constData(), 1, static_cast<size_t>(line.size()), stderr);
    fflush(stderr);
#else
    const char *p = line.constData();
    qsizetype left = line.size();
    while (left > 0) {
        const auto n = ::write(2, p, static_cast<size_t>(left));
        if (n <= 0)
            break;
        p += n;
        left -= n;
    }
#endif
}

} // namespace idl::jlog
