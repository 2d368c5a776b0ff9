#pragma once

#include "certs/CertificateJudge.h"
#include "config/Configuration.h"
#include "directory/DirectoryReadJob.h"
#include "engine/Diff.h"
#include "jobs/Job.h"
#include "report/Reports.h"
#include "tenant/TenantSettings.h"

#include <QMainWindow>

#include <memory>
#include <optional>

class QLabel;
class QMenu;
class QTabWidget;

namespace certsync::models {
class LogModel;
class UsersModel;
} // namespace certsync::models

namespace certsync::ui {

class CertificatePane;
class DashboardPane;
class JobStatus;
class LogPane;
class StagedPane;
class UsersPane;

// The console's window: dashboard, users and certificates, staged changes, log. The GUI thread
// only paints and reacts: every directory read runs as a job on the runner's worker thread.
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
    // Starts a directory read now (a no-op with a message when none is configured or one runs).
    void readDirectory();

    [[nodiscard]] const std::optional<directory::DirectoryReadSettings> &directorySettings() const
    {
        return m_directorySettings;
    }

    // Settings (MainWindowSettings.cpp). Loads the settings file and the keychain's secrets and
    // applies them when something is configured (at startup; not in the demo).
    void loadSettings();
    // Opens the settings dialog (non-modal); OK saves, stores the secrets and applies.
    void openSettings();
    // Applies a configuration: directory, tenant, policy, deletion threshold. Returns an error
    // text (a trust file that cannot be read), empty on success.
    QString applyConfiguration(const config::Configuration &configuration, const config::Secrets &secrets);
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

signals:
    void directoryLoaded(bool complete);
    void settingsApplied();
    void reportExported(bool ok, const QString &summary);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void showUser(int sourceRow);
    void onSnapshot(const std::shared_ptr<directory::DirectorySnapshot> &snapshot);
    void saveWindowState();
    void restoreWindowState();
    void addSettingsAndExportActions(QMenu *file, QMenu *edit);
    void saveSettings(const config::Configuration &configuration, const config::Secrets &secrets);

    jobs::JobRunner m_runner;
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
    std::optional<directory::DirectoryReadSettings> m_directorySettings;
    std::optional<tenant::TenantSettings> m_tenantSettings;
    engine::PolicySettings m_policy;
    config::Configuration m_configuration; // as last saved or loaded; no secrets
    std::unique_ptr<certs::ValueAnalyzer> m_analyzer; // re-analyses one user for the chain view
};

} // namespace certsync::ui
