#pragma once

#include "core/Result.h"

#include <QObject>
#include <QString>

#include <functional>

namespace certsync::config {

// The secrets certsync needs, each one entry in the OS keychain under the service "certsync".
enum class Secret {
    BindPassword, // the directory's simple-bind password
    ClientSecret, // the tenant app's client secret
    KeyPassphrase, // the passphrase of the tenant app's private key file
};
QString secretKey(Secret secret); // the keychain entry's key: "directory/bind-password", ...
// The environment-variable option of the command line that supplies the same secret.
QString secretCliOption(Secret secret);

// Secrets in the OS keychain through QtKeychain (Secret Service on Linux: GNOME Keyring, KWallet).
// Never written to a settings file or anywhere else on disk. Where no keychain is available (no
// D-Bus session bus, or no Secret Service on it) a write keeps the value in memory for this process
// only and reports why; reads then return that value. Error code: "keychain".
//
// Callbacks run on the calling thread's event loop. Reads and writes of the same store are
// serialised by the keychain service itself.
class SecretStore : public QObject
{
    Q_OBJECT
public:
    explicit SecretStore(QObject *parent = nullptr);

    // The stored value; empty when none is stored.
    void read(Secret secret, std::function<void(Result<QString>)> done);
    // Stores `value`; an empty value deletes the entry. On failure the value is still kept for the
    // session (see above) and the error says so.
    void write(Secret secret, const QString &value, std::function<void(Result<void>)> done);

    // Blocking read for the command line (a local event loop; not for the GUI thread).
    static Result<QString> readNow(Secret secret);

    // What the person reads when no keychain answered, for `secret`; `detail` names the cause.
    // `stored`: a write, whose value is then kept for the session.
    static QString unavailableMessage(Secret secret, const QString &detail, bool stored);
    // The service name of the keychain entries ("certsync"); tests use another one.
    static void setServiceName(const QString &name);
    static QString serviceName();
};

} // namespace certsync::config
