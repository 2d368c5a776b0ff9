#pragma once

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QProcess>
#include <QString>

#include <memory>

namespace certsync::certs {
class TrustStore;
}
namespace certsync::directory {
struct DirectoryUser;
}

namespace certsync::ui {

class MainWindow;

// The README's demo: starts a seeded OpenLDAP directory on loopback with the project's own fixture
// script (the same one the integration tests use) and reads it; then starts certsync-tenantsim, the
// Microsoft 365 simulator, populated from the directory just read (a third of the users synced with
// their values as Entra Connect exported them, the others cloud-mastered with some, all or none of
// their certificates published, the directory's CAs as Exchange Online's S/MIME collection), points
// the console at it and reads it too. Diff, approvals and
// publish then work with nothing to configure. Everything the demo writes (the state database, the
// simulator's state) lives in its own folder; both servers are stopped when the launcher goes away.
// Only builds that carry the test fixtures have it.
class DemoLauncher : public QObject
{
    Q_OBJECT
public:
    DemoLauncher(MainWindow *window, const QString &scriptsDir, const QString &seeder,
                 const QString &tenantSimulator, QObject *parent = nullptr);
    ~DemoLauncher() override;

    // Starts both servers and reads both sides; `dir` overrides where the demo keeps its files.
    void start(int users = 400, const QString &dir = {});
    [[nodiscard]] QString stateDir() const { return m_dir; }
    [[nodiscard]] QString sessionDir() const; // this run's state database and tenant files
    [[nodiscard]] QString directoryDir() const; // the seeded slapd
    [[nodiscard]] QString tenantUrl() const { return m_tenantUrl; }
    [[nodiscard]] QString tenantAdminUrl() const { return m_tenantAdminUrl; } // fault injection (tests)

    // The simulator's seed for a directory: who is synced, who is cloud-mastered, what is published.
    static QJsonObject tenantSeed(const QList<directory::DirectoryUser> &users, const QString &tenantId,
                                  const QString &clientId, const QString &secretSha256Hex);

signals:
    void failed(const QString &message);
    void ready(); // both sides are read: the console is connected to both demo servers

private:
    void onDirectoryStarted(bool ok, const QString &lastLine);
    void readDemoDirectory(const QHash<QString, QString> &env,
                           const std::shared_ptr<const certs::TrustStore> &trust);
    void onDirectoryLoaded(bool complete);
    void startTenant();
    void onTenantOutput();
    void fail(const QString &message);
    void log(int level, const QString &message);

    MainWindow *m_window;
    QString m_scripts;
    QString m_seeder;
    QString m_tenantSimulator;
    QString m_dir;
    QString m_trustFile; // the demo directory's CAs: also Exchange Online's S/MIME collection
    QProcess m_tenant;
    QByteArray m_tenantOutput;
    QString m_tenantUrl;
    QString m_tenantAdminUrl;
    QString m_secret; // the demo app's client secret: in memory only
    bool m_running = false;
    bool m_tenantStarted = false;
};

} // namespace certsync::ui
