#include "idl/console/profile_store.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>

namespace idl::console {

namespace {

QString groupKey(const QString &name)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(name));
}

QString nameFromKey(const QString &key)
{
    return QUrl::fromPercentEncoding(key.toLatin1());
}

} // namespace

ConnectionSettings Profile::connection(const QString &token) const
{
    return ConnectionSettings{gatewayUrl, token, caFile, clientCertFile, clientKeyFile};
}

Result<StackInfo> readStackJson(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return makeError(
            ErrorCode::NotFound,
            QStringLiteral("cannot read %1: %2").arg(path, f.errorString()).toStdString());
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &err);
    if (!doc.isObject())
        return makeError(ErrorCode::BadJson, QStringLiteral("%1 is not a JSON object: %2")
                                                 .arg(path, err.errorString())
                                                 .toStdString());
    const QJsonObject o = doc.object();
    StackInfo s;
    s.name = o.value(QLatin1String("name")).toString(QStringLiteral("local"));
    s.gatewayUrl = QUrl(o.value(QLatin1String("gateway_url")).toString());
    s.collectorUrl = QUrl(o.value(QLatin1String("collector_url")).toString());
    s.adminToken = o.value(QLatin1String("admin_token")).toString();
    s.ingestApiKey = o.value(QLatin1String("ingest_api_key")).toString();
    if (!s.gatewayUrl.isValid() || s.gatewayUrl.isEmpty())
        return makeError(ErrorCode::MissingField,
                         QStringLiteral("%1 has no gateway_url (is the gateway running?)")
                             .arg(path)
                             .toStdString());
    if (s.adminToken.isEmpty())
        return makeError(ErrorCode::MissingField,
                         QStringLiteral("%1 has no admin_token").arg(path).toStdString());
    return s;
}

ProfileStore::ProfileStore(QSettings *settings) : m_settings(settings) {}

QList<Profile> ProfileStore::profiles() const
{
    QList<Profile> out;
    m_settings->beginGroup(QStringLiteral("profiles"));
    const QStringList keys = m_settings->childGroups();
    m_settings->endGroup();
    for (const auto &k : keys) {
        if (auto p = find(nameFromKey(k)))
            out.append(*p);
    }
    std::sort(out.begin(), out.end(), [](const Profile &a, const Profile &b) {
        return a.name.compare(b.name, Qt::CaseInsensitive) < 0;
    });
    return out;
}

std::optional<Profile> ProfileStore::find(const QString &name) const
{
    const QString g = QStringLiteral("profiles/") + groupKey(name);
    if (!m_settings->childGroups().contains(QStringLiteral("profiles")))
        return std::nullopt;
    m_settings->beginGroup(g);
    const bool exists = m_settings->contains(QStringLiteral("url"));
    Profile p;
    if (exists) {
        p.name = name;
        p.gatewayUrl = QUrl(m_settings->value(QStringLiteral("url")).toString());
        p.caFile = m_settings->value(QStringLiteral("ca_file")).toString();
        p.clientCertFile = m_settings->value(QStringLiteral("client_cert_file")).toString();
        p.clientKeyFile = m_settings->value(QStringLiteral("client_key_file")).toString();
        p.colour = QColor(m_settings->value(QStringLiteral("colour"), p.colour.name()).toString());
        p.stackFile = m_settings->value(QStringLiteral("stack_file")).toString();
    }
    m_settings->endGroup();
    if (!exists)
        return std::nullopt;
    return p;
}

void ProfileStore::save(const Profile &p)
{
    m_settings->beginGroup(QStringLiteral("profiles/") + groupKey(p.name));
    m_settings->setValue(QStringLiteral("url"), p.gatewayUrl.toString());
    m_settings->setValue(QStringLiteral("ca_file"), p.caFile);
    m_settings->setValue(QStringLiteral("client_cert_file"), p.clientCertFile);
    m_settings->setValue(QStringLiteral("client_key_file"), p.clientKeyFile);
    m_settings->setValue(QStringLiteral("colour"), p.colour.name());
    m_settings->setValue(QStringLiteral("stack_file"), p.stackFile);
    m_settings->endGroup();
    m_settings->sync();
}

void ProfileStore::remove(const QString &name)
{
    m_settings->remove(QStringLiteral("profiles/") + groupKey(name));
    if (lastUsed() == name)
        m_settings->remove(QStringLiteral("last_profile"));
    m_settings->sync();
}

QString ProfileStore::lastUsed() const
{
    return m_settings->value(QStringLiteral("last_profile")).toString();
}

void ProfileStore::setLastUsed(const QString &name)
{
    m_settings->setValue(QStringLiteral("last_profile"), name);
}

Result<std::pair<Profile, QString>> ProfileStore::importStack(const QString &stackJsonPath)
{
    auto info = readStackJson(stackJsonPath);
    if (!info)
        return info.error();
    Profile p = find(info->name).value_or(Profile{});
    p.name = info->name;
    p.gatewayUrl = info->gatewayUrl;
    p.stackFile = QFileInfo(stackJsonPath).absoluteFilePath();
    if (!find(info->name))
        p.colour = QColor(0x2e, 0x9e, 0x5b);
    save(p);
    setLastUsed(p.name);
    return std::make_pair(p, info->adminToken);
}

Result<void> ProfileStore::validate(const Profile &p)
{
    if (p.name.trimmed().isEmpty())
        return makeError(ErrorCode::BadField, "the profile needs a name");
    const QString scheme = p.gatewayUrl.scheme();
    if (!p.gatewayUrl.isValid() || (scheme != u"ws" && scheme != u"wss") ||
        p.gatewayUrl.host().isEmpty())
        return makeError(ErrorCode::BadField,
                         "the gateway URL must look like ws://host:port/ws or wss://host:port/ws");
    for (const QString &file : {p.caFile, p.clientCertFile, p.clientKeyFile}) {
        if (!file.isEmpty() && !QFileInfo::exists(file))
            return makeError(ErrorCode::NotFound,
                             QStringLiteral("file not found: %1").arg(file).toStdString());
    }
    if (p.clientCertFile.isEmpty() != p.clientKeyFile.isEmpty())
        return makeError(ErrorCode::BadField,
                         "a client certificate needs its private key (and the reverse)");
    if (scheme == u"ws" && (!p.caFile.isEmpty() || !p.clientCertFile.isEmpty()))
        return makeError(ErrorCode::BadField, "TLS files need a wss:// URL");
    return {};
}

} // namespace idl::console
