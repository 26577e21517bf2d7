#pragma once

#include "idl/console/gateway_client.h"
#include "idl/core/result.h"

#include <QColor>
#include <QList>
#include <QString>
#include <QUrl>

#include <optional>

class QSettings;

namespace idl::console {

// A cluster profile: where a gateway is and how to trust it. The token is not part of it:
// it lives in the SecretStore under secretKey().
struct Profile
{
    QString name;
    QUrl gatewayUrl;
    QString caFile;
    QString clientCertFile;
    QString clientKeyFile;
    QColor colour = QColor(0x3b, 0x7d, 0xd8);
    // For a profile imported from an idl-stack stack.json: the file, from which the token is
    // read again when no stored token is found (the file itself is private to the user).
    QString stackFile;

    bool operator==(const Profile &) const = default;
    // The SecretStore key of this profile's token.
    QString secretKey() const { return QStringLiteral("profile/") + name; }
    // The connection settings with a token.
    ConnectionSettings connection(const QString &token) const;
};

// What a stack.json written by `idl-stack up` says (the fields the console uses).
struct StackInfo
{
    QString name;
    QUrl gatewayUrl;
    QUrl collectorUrl;
    QString adminToken;
    QString ingestApiKey;
};

// Reads DATA_DIR/stack.json.
Result<StackInfo> readStackJson(const QString &path);

// Cluster profiles in QSettings (group "profiles", one subgroup per profile, names
// percent-encoded), plus the last used profile's name. No secrets. Not thread-safe.
class ProfileStore
{
public:
    explicit ProfileStore(QSettings *settings);

    QList<Profile> profiles() const;
    std::optional<Profile> find(const QString &name) const;
    // Adds or replaces (by name); renaming is remove + save.
    void save(const Profile &profile);
    void remove(const QString &name);

    QString lastUsed() const;
    void setLastUsed(const QString &name);

    // Creates or updates the profile described by a stack.json (name from the file, usually
    // "local"); returns it and the token to store.
    Result<std::pair<Profile, QString>> importStack(const QString &stackJsonPath);

    // Checks a profile before it is saved (name, URL scheme, TLS files exist).
    static Result<void> validate(const Profile &profile);

private:
    QSettings *m_settings;
};

} // namespace idl::console
