#include "idl/stack/demo_traffic.h"

#include "idl/observability/json_log.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>

#include <array>

namespace idl::stack {

namespace {

struct App
{
    const char *name;
    std::array<const char *, 3> hosts;
};

constexpr std::array<App, 5> kApps{{
    {"checkout", {"web-1", "web-2", "web-3"}},
    {"payments", {"pay-1", "pay-2", "pay-1"}},
    {"search", {"search-1", "search-2", "search-3"}},
    {"auth", {"auth-1", "auth-1", "auth-2"}},
    {"inventory", {"inv-1", "inv-2", "inv-1"}},
}};

} // namespace

DemoTraffic::DemoTraffic(QUrl collectorUrl, QByteArray apiKey, int eventsPerSecond, QObject *parent)
    : QObject(parent), m_url(std::move(collectorUrl)), m_apiKey(std::move(apiKey)),
      m_rate(std::max(1, eventsPerSecond))
{
    m_timer.setInterval(250);
    connect(&m_timer, &QTimer::timeout, this, &DemoTraffic::tick);
}

void DemoTraffic::start()
{
    m_timer.start();
}

void DemoTraffic::stop()
{
    m_timer.stop();
}

QByteArray DemoTraffic::makeBatch(int n)
{
    QByteArray out;
    std::uniform_int_distribution<int> pct(0, 99);
    std::uniform_int_distribution<int> ms(3, 900);
    std::uniform_int_distribution<int> user(1, 5000);
    for (int i = 0; i < n; ++i) {
        const App &app = kApps[static_cast<size_t>(pct(m_rng)) % kApps.size()];
        const int p = pct(m_rng);
        const char *level = p < 15   ? "debug"
                            : p < 80 ? "info"
                            : p < 92 ? "warn"
                            : p < 99 ? "error"
                                     : "fatal";
        const int latency = ms(m_rng);
        const int status = p < 80 ? 200 : p < 92 ? 404 : p < 99 ? 500 : 503;
        QJsonObject o;
        o.insert(QStringLiteral("ts"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs));
        o.insert(QStringLiteral("app"), QLatin1String(app.name));
        o.insert(QStringLiteral("host"), QLatin1String(app.hosts[static_cast<size_t>(p) % 3]));
        o.insert(QStringLiteral("level"), QLatin1String(level));
        QString msg;
        if (status == 200)
            msg = QStringLiteral("GET /api/%1/items/%2 200 in %3 ms")
                      .arg(QLatin1String(app.name))
                      .arg(user(m_rng))
                      .arg(latency);
        else if (status == 404)
            msg = QStringLiteral("item %1 not found for user %2").arg(user(m_rng)).arg(user(m_rng));
        else
            msg = QStringLiteral("upstream %1 failed: connection reset after %2 ms")
                      .arg(QLatin1String(kApps[static_cast<size_t>(p) % kApps.size()].name))
                      .arg(latency);
        o.insert(QStringLiteral("msg"), msg);
        o.insert(QStringLiteral("status"), status);
        o.insert(QStringLiteral("duration_ms"), latency);
        o.insert(QStringLiteral("user"), QJsonObject{{QStringLiteral("id"), user(m_rng)}});
        o.insert(QStringLiteral("demo_seq"), static_cast<qint64>(++m_seq));
        out += QJsonDocument(o).toJson(QJsonDocument::Compact);
        out += '\n';
    }
    return out;
}

void DemoTraffic::tick()
{
    if (m_inFlight > 4)
        return; // the collector is slow: don't pile up requests
    const int n = std::max(1, m_rate / 4);
    QNetworkRequest req(m_url);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/x-ndjson"));
    req.setRawHeader(QByteArrayLiteral("Authorization"), "Bearer " + m_apiKey);
    req.setTransferTimeout(10'000);
    ++m_inFlight;
    QNetworkReply *reply = m_nam.post(req, makeBatch(n));
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        --m_inFlight;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const auto body = QJsonDocument::fromJson(reply->readAll()).object();
        if (status == 202 || status == 200) {
            m_accepted += static_cast<quint64>(body.value(QStringLiteral("accepted")).toInteger());
        } else {
            ++m_failed;
            if (m_failed % 20 == 1)
                jlog::warn("demo traffic: collector refused a batch",
                           {{"status", status}, {"error", reply->errorString()}});
        }
        reply->deleteLater();
    });
}

} // namespace idl::stack
