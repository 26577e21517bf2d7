#pragma once

#include <QHash>
#include <QObject>
#include <QString>

#include <functional>
#include <optional>

namespace idl::console {

// Where profile tokens are kept. The OS keychain (qtkeychain: Secret Service/KWallet on
// Linux, Keychain on macOS, Credential Manager on Windows) when it answers; otherwise the
// token lives only in this process ("session" backend) and the user is told it will be
// asked for again next time. Tokens are never written in plain text by this class.
// Set IDL_CONSOLE_SECRETS=session to skip the keychain (CI, tests). Lives in the GUI thread;
// callbacks run from its event loop.
class SecretStore : public QObject
{
    Q_OBJECT
public:
    enum class Backend { Keychain, Session };
    Q_ENUM(Backend)

    // Called with the secret (nullopt: none stored) or an error text.
    using ReadCallback = std::function<void(std::optional<QString> secret, QString error)>;
    // Called with whether the secret was stored persistently, and why not.
    using WriteCallback = std::function<void(bool persisted, QString error)>;

    explicit SecretStore(QString service = QStringLiteral("instant-dev-logs"),
                         QObject *parent = nullptr);

    void write(const QString &key, const QString &secret, WriteCallback done = {});
    void read(const QString &key, ReadCallback done);
    void remove(const QString &key);

    Backend backend() const { return m_backend; }
    // Why the keychain is not used (empty while it is).
    const QString &unavailableReason() const { return m_reason; }
    // Forces the session backend.
    void useSessionOnly(const QString &reason);

Q_SIGNALS:
    // The keychain failed and the store switched to session-only secrets.
    void keychainUnavailable(const QString &reason);

private:
    QString m_service;
    Backend m_backend = Backend::Keychain;
    QString m_reason;
    QHash<QString, QString> m_session; // secrets of this session (cache and fallback)
};

} // namespace idl::console
