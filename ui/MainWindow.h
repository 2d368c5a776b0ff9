#pragma once

#include "certs/CertificateJudge.h"
#include "config/Configuration.h"
#include "directory/DirectoryReadJob.h"
#include "engine/Diff.h"
#include "engine/UserCheck.h"
#include "jobs/Job.h"
#include "models/UsersModel.h"
#include "report/Reports.h"
#include "store/RunHistory.h"
#include "tenant/TenantSettings.h"
#include "tenant/TenantSnapshot.h"
#include "ui/DashboardPane.h"

#include <QMainWindow>

#include <QHash>

#include <functional>
#include <memory>
#include <optional>

class QLabel;
class QMenu;
class QTabWidget;

namespace certsync::models {
class LogModel;
} // namespace certsync::models

namespace certsync::ui {

class CertificatePane;
class JobStatus;
class LogPane;
class SmimeCollectionDialog;
class StagedPane;
class UsersPane;

// The console's window: dashboard, users and certificates, staged changes, log. The GUI thread
// only paints and reacts: directory and tenant reads, the diff, storing its plan and publishing run
// as jobs on the runner's worker thread (one after another); matching the two sides and one user's
// re-analysis for the certificate pane run on a second worker, so that they never wait behind a
// long job.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Where "Read directory" reads from. The password stays in memory only.
    void setDirectorySettings(const directory::DirectoryReadSettings &settings);
    // Where "Read Microsoft 365", "Diff" and "Publish approved" go; nullopt: not configured.
    // The client secret or key passphrase stays in memory only.
    void setTenantSettings(const std::optional<tenant::TenantSettings> &settings);
    // The policy the diff applies (drop expired, cap, certificateUserIds, deletion threshold...).
    void setPolicy(const engine::PolicySettings &policy);
    [[nodiscard]] const std::optional<tenant::TenantSettings> &tenantSettings() const
    {
        return m_tenantSettings;
    }
    [[nodiscard]] const engine::PolicySettings &policy() const { return m_policy; }
    // The state database (plans, approvals, journal); by default the one `certsync` uses.
    void setStatePath(const QString &path);
    [[nodiscard]] QString statePath() const { return m_statePath; }
    // Starts a directory read now (a no-op with a message when none is configured or one runs). It
    // looks analyses up in the state database's cache and keeps its snapshot there (MainWindowState.cpp).
    void readDirectory();
    // At start: shows the directory's stored snapshot at once, then reads it again in the background.
    void startFromState();
    // Shows the last stored snapshot of the configured directory, "as read at" its time (on a worker;
    // storedDirectoryShown() when done, storedDirectoryNotShown() with the reason when it cannot be read).
    // Nothing happens when nothing is stored or a read came first.
    void showStoredDirectory();
    // Shows the last stored Microsoft 365 read (users, without their Exchange recipients) until a read
    // replaces it: the users' tenant column, marked as stored (storedTenantShown()). It never feeds a
    // diff. Nothing happens when none is stored, no tenant is configured or a read came first.
    void showStoredTenant();
    // Reads Microsoft 365 (a no-op with a message pointing at Settings when no tenant is set).
    void readTenant();
    // Compares the last directory and tenant reads and stores a staged plan, as `certsync diff`.
    void runDiff();
    // Publishes the approved items of a plan, as `certsync publish` (threshold guard, staging mode).
    void publish(qint64 planId, bool allowDeletions);
    // Looks one user up live, as `certsync check` does (one LDAP search, the tenant's reads for that
    // user), on a worker; adds the user to the users pane, selects it and shows its verdict.
    // userLookedUp() tells the outcome. A newer look-up's answer replaces an older one's.
    void lookUpUser(const QString &who);
    // Exchange Online's S/MIME CA collection as last read (nullopt: not read).
    [[nodiscard]] const std::optional<QList<certs::Certificate>> &smimeCollection() const
    {
        return m_smimeCollection;
    }
    // View → Exchange Online S/MIME CAs: the collection in a table.
    void openSmimeCollection();
    [[nodiscard]] std::shared_ptr<const tenant::TenantSnapshot> tenantSnapshot() const { return m_tenant; }

    [[nodiscard]] const std::optional<directory::DirectoryReadSettings> &directorySettings() const
    {
        return m_directorySettings;
    }

    // Settings (MainWindowSettings.cpp). Loads the settings file and the keychain's secrets and
    // applies them when something is configured (at startup; not in the demo).
    void loadSettings();
    // Opens the settings dialog (non-modal); OK saves, stores the secrets and applies.
    void openSettings();
    // Applies a configuration: tenant, policy and deletion threshold at once; the directory once its
    // S/MIME trust (bundles and CRLs, which may be large) is loaded by a job (loadTrust). Then
    // settingsApplied(), or settingsNotApplied() with the reason (settings that would send a
    // credential in the clear, a trust file that cannot be read, the load cancelled). A newer call supersedes
    // a load still running.
    void applyConfiguration(const config::Configuration &configuration, const config::Secrets &secrets);
    // Runs `load` as a job on the runner: files someone else controls are never read on the GUI
    // thread. The status bar shows its progress (bytes of the files read) with Cancel; `load` gets a
    // progress function to pass to certs::TrustStore::load (it answers false once cancelled) and
    // returns an error text, empty on success; `done` gets that text back on this thread.
    // Runs `job` on the runner with its progress, Cancel and log in the window (no run history:
    // for preparation such as loading trust or starting the demo's servers). Connect to its signals first.
    void runInBackground(jobs::Job *job);
    void loadTrust(const QString &name,
                   std::function<QString(const certs::TrustStore::LoadProgress &progress)> load,
                   std::function<void(const QString &error)> done);
    [[nodiscard]] const config::Configuration &configuration() const { return m_configuration; }
    // File → Export report: writes `report` to `path` in a job; reportExported() tells the outcome.
    void exportReport(report::Report report, const QString &path);

    [[nodiscard]] models::UsersModel *usersModel() const { return m_users; }
    [[nodiscard]] models::LogModel *logModel() const { return m_log; }
    [[nodiscard]] UsersPane *usersPane() const { return m_usersPane; }
    [[nodiscard]] CertificatePane *certificatePane() const { return m_certificatePane; }
    [[nodiscard]] LogPane *logPane() const { return m_logPane; }
    [[nodiscard]] StagedPane *stagedPane() const { return m_stagedPane; }
    [[nodiscard]] JobStatus *jobStatus() const { return m_jobStatus; }
    [[nodiscard]] bool isBusy() const { return m_runner.isBusy(); }
    void appendLog(const jobs::LogRecord &record);
    // Reads the stored runs for the log pane's run picker (on the view worker).
    void refreshRuns();
    // Verifies the audit trail's hash chain off the GUI thread and shows the answer in the status bar.
    void checkAuditTrail();
    void useStateFolderOf(const config::Configuration &configuration); // state/folder, else the default

signals:
    void directoryLoaded(bool complete);
    void tenantLoaded(bool success);
    void tenantMatched(); // the users' tenant column and the helpdesk view know the pairs
    void planStaged(qint64 planId); // 0 when the diff or storing it failed
    void publishFinished(bool success, const QString &summary);
    void userShown(int sourceRow); // the certificate pane shows this user, both sides
    void settingsApplied();
    void settingsNotApplied(const QString &reason);
    void reportExported(bool ok, const QString &summary);
    void runRecorded(qint64 runId); // a console job's run is in the run history (0: storing it failed)
    void runsRefreshed(); // the log pane's run picker lists the stored runs
    void storedDirectoryShown(int users);
    void storedDirectoryNotShown(const QString &reason);
    void storedTenantShown(int users);
    void auditTrailChecked(bool intact);
    void userLookedUp(bool found, const QString &message);
    void smimeCollectionRead(bool ok);
    void planItemsRefreshed(); // the verdicts know the plans' items for their fix

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void showUser(int sourceRow);
    void onSnapshot(const std::shared_ptr<directory::DirectorySnapshot> &snapshot);
    // A snapshot made ready to show, off the GUI thread: the users table's rows and keys, the dashboard's
    // figures.
    struct ShownSnapshot
    {
        models::UsersModel::Prepared prepared;
        DashboardPane::Figures figures;
    };
    static ShownSnapshot prepareSnapshot(std::shared_ptr<const directory::DirectorySnapshot> snapshot,
                                         const QDateTime &now);
    // Shows a snapshot, keeping the selected user and the scroll position.
    void applySnapshot(ShownSnapshot shown);
    void matchTenant();
    void keepTenantRead(); // stores m_tenant for the next start (showStoredTenant)
    void readSmimeCollection(); // after each tenant read, on the look-up worker
    void refreshPlanItems(); // the plans' items per user, for the verdicts' fix
    bool tenantConfigured(const QString &what);
    void logLine(jobs::LogRecord::Level level, const QString &job, const QString &message);
    bool idle();
    // Shows the job's progress and log; its run (ending when `last`, or the job, finishes) is kept in
    // the run history with every line logged meanwhile.
    void follow(jobs::Job *job, jobs::Job *last = nullptr);
    void recordRun(const QString &outcome, const QString &summary);
    // Runs `use` on the view worker with the state database's run history (opened there); `done`
    // gets its error text, empty on success, back on this thread.
    void withRunHistory(std::function<QString(store::RunHistory &)> use,
                        std::function<void(const QString &error)> done);
    void loadRun(qint64 runId);
    void saveWindowState();
    void restoreWindowState();
    void addSettingsAndExportActions(QMenu *file, QMenu *edit);
    void saveSettings(const config::Configuration &configuration, const config::Secrets &secrets);

    jobs::JobRunner m_runner;
    jobs::JobRunner m_viewRunner; // short work for the view (matching, one user's analysis)
    jobs::JobRunner m_lookupRunner; // live look-ups and Get-SmimeConfig: never behind a long read
    models::UsersModel *m_users;
    models::LogModel *m_log;
    QTabWidget *m_tabs;
    DashboardPane *m_dashboard;
    UsersPane *m_usersPane;
    CertificatePane *m_certificatePane;
    LogPane *m_logPane;
    StagedPane *m_stagedPane;
    JobStatus *m_jobStatus;
    QLabel *m_banner;
    QLabel *m_auditState; // "Audit trail intact" or where it breaks
    QLabel *m_fourEyesState; // shown while approval/requireSecondPerson is off
    std::optional<directory::DirectoryReadSettings> m_directorySettings;
    std::optional<tenant::TenantSettings> m_tenantSettings;
    engine::PolicySettings m_policy;
    QString m_statePath;
    std::shared_ptr<const certs::ValueAnalyzer> m_analyzer; // re-analyses one user for the chain view
    std::shared_ptr<const certs::TrustStore> m_trust; // what m_analyzer refers to
    std::shared_ptr<const tenant::TenantSnapshot> m_tenant;
    // Per directory DN: the matched tenant user's index in m_matchedTenant->users and how it was
    // matched (m_tenant may already be newer while its matching runs).
    QHash<QString, QPair<int, engine::MatchMethod>> m_matchByDn;
    std::shared_ptr<const tenant::TenantSnapshot> m_matchedTenant;
    quint64 m_shownGeneration = 0; // the latest showUser(); older answers are dropped
    int m_shownRow = -1;
    config::Configuration m_configuration; // as last saved or loaded; no secrets
    quint64 m_applyGeneration = 0; // the latest applyConfiguration(); older trust loads are dropped
    std::unique_ptr<store::RunRecorder> m_run; // the job running now, for the run history
    // What each live look-up found in Microsoft 365, by directory DN (nullopt user: none matches).
    struct LiveTenant
    {
        std::optional<tenant::TenantUser> user;
        QString note;
    };
    QHash<QString, LiveTenant> m_liveTenant;
    quint64 m_lookupGeneration = 0; // the latest lookUpUser(); older answers are dropped
    std::optional<QList<certs::Certificate>> m_smimeCollection;
    QString m_smimeProblem; // why the collection could not be read
    QHash<QString, QList<engine::PlanItemState>> m_planItemsByDn;
    SmimeCollectionDialog *m_smimeDialog = nullptr;
    bool m_shownSnapshotIsStored = false; // the users shown come from the state database, not a read
    bool m_tenantIsStored = false; // m_tenant is the stored read, not one of this session
    void showStoredBanner(); // what of the shown data is stored, and as read when
};

} // namespace certsync::ui
