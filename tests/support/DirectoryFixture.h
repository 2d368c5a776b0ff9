#pragma once

// What a directory fixture (tests/fixtures/slapd.sh or samba-dc.sh) wrote to its server.env, and
// the helpers the integration suites share: profiles, the trust store, the seeding manifest, and a
// directory read run through the real job runner.

#include "directory/DirectoryReadJob.h"

#include <QHash>
#include <QJsonObject>
#include <QString>

#include <functional>
#include <memory>

namespace certsync::testing {

struct DirectoryFixture
{
    QHash<QString, QString> env; // server.env as read
    QString envPath;
    QString error; // why the fixture is unusable; empty when usable

    // Reads the file named by the environment variable `variable` (e.g. CERTSYNC_SLAPD_ENV).
    static DirectoryFixture fromEnvironment(const char *variable);
    [[nodiscard]] QString value(const QString &key) const { return env.value(key); }
    [[nodiscard]] bool isActiveDirectory() const
    {
        return value(QStringLiteral("FLAVOUR")) == QLatin1String("ad");
    }
    // A profile for the admin account over StartTLS, verified by the fixture's CA.
    [[nodiscard]] directory::ConnectionProfile profile(bool admin = false) const;
    [[nodiscard]] QString password(bool admin = false) const;
    [[nodiscard]] QJsonObject manifest() const;
    [[nodiscard]] std::shared_ptr<const certs::TrustStore> trust() const;
    [[nodiscard]] directory::DirectoryReadSettings readSettings(bool admin = false) const;
};

// Runs one DirectoryReadJob on a JobRunner and waits (in the test's event loop) for its snapshot.
// `setup` runs before the job starts, e.g. to connect to its signals.
struct ReadOutcome
{
    std::shared_ptr<directory::DirectorySnapshot> snapshot;
    QList<directory::DirectoryUser> streamed;
    bool finished = false;
    bool success = false;
    qint64 elapsedMs = 0;
};
ReadOutcome readDirectory(directory::DirectoryReadSettings settings,
                          const std::function<void(directory::DirectoryReadJob *)> &setup = {},
                          int timeoutMs = 60000);

} // namespace certsync::testing
