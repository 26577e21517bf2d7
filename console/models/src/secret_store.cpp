#include "idl/console/secret_store.h"

#include <qt6keychain/keychain.h>

namespace idl::console {

namespace {

// Errors that mean "there is no usable keychain here", as opposed to "no such entry".
bool isBackendFailure(QKeychain::Error e)
{
    return e == QKeychain::NoBackendAvailable || e == QKeychain::NotImplemented ||
           e == QKeychain::OtherError || e == QKeychain::AccessDenied;
}

} // namespace

SecretStore::SecretStore(QString service, QObject *parent)
    : QObject(parent), m_service(std::move(service))
{
    if (qEnvironmentVariable("IDL_CONSOLE_SECRETS") == u"session")
        useSessionOnly(tr("IDL_CONSOLE_SECRETS=session"));
}

void SecretStore::useSessionOnly(const QString &reason)
{
    const bool changed = m_backend != Backend::Session;
    m_backend = Backend::Session;
    m_reason = reason;
    if (changed)
        Q_EMIT keychainUnavailable(reason);
}

void SecretStore::write(const QString &key, const QString &secret, WriteCallback done)
{
    m_session.insert(key, secret);
    if (m_backend == Backend::Session) {
        if (done)
            QMetaObject::invokeMethod(
                this, [done, r = m_reason] { done(false, r); }, Qt::QueuedConnection);
        return;
    }
    auto *job = new QKeychain::WritePasswordJob(m_service, this);
    job->setAutoDelete(true);
    job->setInsecureFallback(false);
    job->setKey(key);
    job->setTextData(secret);
    connect(job, &QKeychain::Job::finished, this, [this, done](QKeychain::Job *j) {
        if (j->error() == QKeychain::NoError) {
            if (done)
                done(true, {});
            return;
        }
        const QString reason = tr("OS keychain unavailable (%1); the token is kept for this "
                                  "session only")
                                   .arg(j->errorString());
        if (isBackendFailure(j->error()))
            useSessionOnly(reason);
        if (done)
            done(false, reason);
    });
    job->start();
}

void SecretStore::read(const QString &key, ReadCallback done)
{
    const auto it = m_session.constFind(key);
    if (it != m_session.cend() || m_backend == Backend::Session) {
        std::optional<QString> value;
        if (it != m_session.cend())
            value = it.value();
        QMetaObject::invokeMethod(
            this, [done, value] { done(value, {}); }, Qt::QueuedConnection);
        return;
    }
    auto *job = new QKeychain::ReadPasswordJob(m_service, this);
    job->setAutoDelete(true);
    job->setInsecureFallback(false);
    job->setKey(key);
    connect(job, &QKeychain::Job::finished, this, [this, key, done](QKeychain::Job *j) {
        if (j->error() == QKeychain::NoError) {
            const QString value = static_cast<QKeychain::ReadPasswordJob *>(j)->textData();
            m_session.insert(key, value);
            done(value, {});
            return;
        }
        if (j->error() == QKeychain::EntryNotFound) {
            done(std::nullopt, {});
            return;
        }
        if (isBackendFailure(j->error()))
            useSessionOnly(tr("OS keychain unavailable (%1)").arg(j->errorString()));
        done(std::nullopt, j->errorString());
    });
    job->start();
}

void SecretStore::remove(const QString &key)
{
    m_session.remove(key);
    if (m_backend == Backend::Session)
        return;
    auto *job = new QKeychain::DeletePasswordJob(m_service, this);
    job->setAutoDelete(true);
    job->setKey(key);
    job->start();
}

} // namespace idl::console
