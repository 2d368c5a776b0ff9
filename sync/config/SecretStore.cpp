#include "config/SecretStore.h"

#include <QEventLoop>
#include <QHash>
#include <QMutex>
#include <QMutexLocker>

#include <qt6keychain/keychain.h>

namespace certsync::config {

namespace {

QMutex sessionMutex;
// Secrets that could not reach a keychain, for this process only. Keyed by service + key.
QHash<QString, QString> &sessionSecrets()
{
    static QHash<QString, QString> secrets;
    return secrets;
}
QString &service()
{
    static QString name = QStringLiteral("certsync");
    return name;
}
QString sessionKey(Secret secret)
{
    return service() + QLatin1Char('|') + secretKey(secret);
}

bool keychainMissing(QKeychain::Error error)
{
    return error == QKeychain::NoBackendAvailable || error == QKeychain::NotImplemented
        || error == QKeychain::OtherError;
}

// QtKeychain says only "Unknown error" when there is no session bus: name the actual cause.
QString detailOf(const QKeychain::Job &job)
{
    if (qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS"))
        return QStringLiteral("there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no "
                              "Secret Service (GNOME Keyring, KWallet) can be reached");
    return QStringLiteral("no Secret Service (GNOME Keyring, KWallet) answered on the D-Bus session bus (%1)")
        .arg(job.errorString());
}

} // namespace

QString secretKey(Secret secret)
{
    switch (secret) {
    case Secret::BindPassword:
        return QStringLiteral("directory/bind-password");
    case Secret::ClientSecret:
        return QStringLiteral("tenant/client-secret");
    case Secret::KeyPassphrase:
        return QStringLiteral("tenant/key-passphrase");
    }
    return {};
}

QString secretCliOption(Secret secret)
{
    switch (secret) {
    case Secret::BindPassword:
        return QStringLiteral("--password-env VAR");
    case Secret::ClientSecret:
        return QStringLiteral("--client-secret-env VAR");
    case Secret::KeyPassphrase:
        return QStringLiteral("--client-key-passphrase-env VAR");
    }
    return {};
}

SecretStore::SecretStore(QObject *parent)
    : QObject(parent)
{ }

QString SecretStore::unavailableMessage(Secret secret, const QString &detail, bool stored)
{
    if (stored)
        return QStringLiteral("no OS keychain is available: %1. The secret is kept for this session only; "
                              "the command line takes it from an environment variable (%2)")
            .arg(detail, secretCliOption(secret));
    return QStringLiteral(
               "no OS keychain is available: %1; give the secret through an environment variable (%2)")
        .arg(detail, secretCliOption(secret));
}

void SecretStore::setServiceName(const QString &name)
{
    service() = name;
}

QString SecretStore::serviceName()
{
    return service();
}

void SecretStore::read(Secret secret, std::function<void(Result<QString>)> done)
{
    {
        QMutexLocker lock(&sessionMutex);
        if (const auto it = sessionSecrets().constFind(sessionKey(secret));
            it != sessionSecrets().constEnd()) {
            const QString value = *it;
            QMetaObject::invokeMethod(
                this, [done = std::move(done), value] { done(value); }, Qt::QueuedConnection);
            return;
        }
    }
    auto *job = new QKeychain::ReadPasswordJob(service(), this);
    job->setKey(secretKey(secret));
    connect(job, &QKeychain::Job::finished, this, [secret, done = std::move(done)](QKeychain::Job *j) {
        auto *r = static_cast<QKeychain::ReadPasswordJob *>(j);
        if (r->error() == QKeychain::NoError)
            done(r->textData());
        else if (r->error() == QKeychain::EntryNotFound)
            done(QString());
        else if (keychainMissing(r->error()))
            done(Error { QStringLiteral("keychain"), unavailableMessage(secret, detailOf(*r), false) });
        else
            done(Error { QStringLiteral("keychain"),
                         QStringLiteral("the OS keychain refused to give %1: %2")
                             .arg(secretKey(secret), r->errorString()) });
    });
    job->start();
}

void SecretStore::write(Secret secret, const QString &value, std::function<void(Result<void>)> done)
{
    QKeychain::Job *job = nullptr;
    if (value.isEmpty()) {
        job = new QKeychain::DeletePasswordJob(service(), this);
    } else {
        auto *w = new QKeychain::WritePasswordJob(service(), this);
        w->setTextData(value);
        job = w;
    }
    job->setKey(secretKey(secret));
    // Never QtKeychain's plain-text fallback: a secret must not land in a file.
    job->setInsecureFallback(false);
    connect(job, &QKeychain::Job::finished, this, [secret, value, done = std::move(done)](QKeychain::Job *j) {
        QMutexLocker lock(&sessionMutex);
        if (j->error() == QKeychain::NoError || (value.isEmpty() && j->error() == QKeychain::EntryNotFound)) {
            sessionSecrets().remove(sessionKey(secret));
            lock.unlock();
            done({});
            return;
        }
        if (value.isEmpty())
            sessionSecrets().remove(sessionKey(secret));
        else
            sessionSecrets().insert(sessionKey(secret), value);
        lock.unlock();
        if (keychainMissing(j->error()))
            done(Error { QStringLiteral("keychain"), unavailableMessage(secret, detailOf(*j), true) });
        else
            done(
                Error { QStringLiteral("keychain"),
                        QStringLiteral("the OS keychain refused to store %1: %2. The secret is kept for this "
                                       "session only")
                            .arg(secretKey(secret), j->errorString()) });
    });
    job->start();
}

Result<QString> SecretStore::readNow(Secret secret)
{
    std::optional<Result<QString>> result;
    QEventLoop loop;
    SecretStore store;
    store.read(secret, [&](Result<QString> r) {
        result = std::move(r);
        loop.quit();
    });
    if (!result)
        loop.exec();
    return std::move(*result);
}

} // namespace certsync::config
