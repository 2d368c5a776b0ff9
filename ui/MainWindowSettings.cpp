// MainWindow's settings and export: Edit → Settings…, loading the settings at startup, and
// File → Export report. Kept apart from MainWindow.cpp, which holds the panes and the jobs.
#include "config/SecretStore.h"
#include "jobs/TaskJob.h"
#include "models/UsersModel.h"
#include "ui/JobStatus.h"
#include "ui/MainWindow.h"
#include "ui/SettingsDialog.h"
#include "ui/StagedPane.h"

#include <QAction>
#include <QDir>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QStandardPaths>
#include <QStatusBar>

#include <array>
#include <functional>

namespace certsync::ui {

namespace {

constexpr std::array<config::Secret, 3> allSecrets = { config::Secret::BindPassword,
                                                       config::Secret::ClientSecret,
                                                       config::Secret::KeyPassphrase };

QString &secretField(config::Secrets &secrets, config::Secret which)
{
    switch (which) {
    case config::Secret::BindPassword:
        return secrets.bindPassword;
    case config::Secret::ClientSecret:
        return secrets.clientSecret;
    case config::Secret::KeyPassphrase:
        break;
    }
    return secrets.keyPassphrase;
}

// Reads the three secrets one after another; `done` gets them and the first keychain error (if any).
void readSecrets(config::SecretStore *store,
                 std::function<void(const config::Secrets &, const QString &)> done, size_t index = 0,
                 config::Secrets soFar = {}, QString error = {})
{
    if (index == allSecrets.size()) {
        done(soFar, error);
        return;
    }
    const config::Secret which = allSecrets.at(index);
    store->read(which,
                [store, done = std::move(done), index, soFar, error, which](Result<QString> r) mutable {
                    if (r)
                        secretField(soFar, which) = *r;
                    else if (error.isEmpty())
                        error = r.error().message;
                    readSecrets(store, std::move(done), index + 1, std::move(soFar), std::move(error));
                });
}

} // namespace

void MainWindow::addSettingsAndExportActions(QMenu *file, QMenu *edit)
{
    auto *settings = new QAction(tr("&Settings…"), this);
    settings->setObjectName(QStringLiteral("actionSettings"));
    // Linux desktops often have no standard Preferences key: Ctrl+, as well.
    QList<QKeySequence> keys = QKeySequence::keyBindings(QKeySequence::Preferences);
    if (const QKeySequence comma(tr("Ctrl+,")); !keys.contains(comma))
        keys.append(comma);
    settings->setShortcuts(keys);
    settings->setMenuRole(QAction::PreferencesRole);
    connect(settings, &QAction::triggered, this, &MainWindow::openSettings);
    edit->addSeparator();
    edit->addAction(settings);

    auto *exportMenu = new QMenu(tr("&Export report"), this);
    exportMenu->setObjectName(QStringLiteral("menuExport"));
    const std::pair<report::Report, QString> reports[] = {
        { report::Report::Inventory, tr("&Inventory…") },
        { report::Report::Expiring, tr("&Expiring certificates…") },
        { report::Report::Problems, tr("&Problems…") },
        { report::Report::Plan, tr("Current &plan…") },
        { report::Report::Audit, tr("&Audit trail…") },
    };
    for (const auto &entry : reports) {
        const report::Report which = entry.first;
        auto *action = exportMenu->addAction(entry.second);
        action->setObjectName(QStringLiteral("actionExport_") + report::reportName(which));
        connect(action, &QAction::triggered, this, [this, which] {
            const QString suggested =
                QDir(QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation))
                    .filePath(QStringLiteral("certsync-%1.csv").arg(report::reportName(which)));
            const QString path =
                QFileDialog::getSaveFileName(this, tr("Export report"), suggested, tr("CSV files (*.csv)"));
            if (!path.isEmpty())
                exportReport(which, path);
        });
    }
    // Before Quit, the menu's last action.
    file->insertMenu(file->actions().constLast(), exportMenu);
    file->insertSeparator(file->actions().constLast());
}

void MainWindow::exportReport(report::Report which, const QString &path)
{
    report::ExportRequest request;
    request.report = which;
    request.path = path;
    request.snapshot = m_users->snapshot();
    request.statePath = statePath();
    request.planId = m_stagedPane->currentPlan();
    request.days = m_configuration.policy.warningDays;
    if (which == report::Report::Plan && request.planId <= 0) {
        const QString text = tr("Choose a plan in Staged changes first.");
        statusBar()->showMessage(text, 10000);
        emit reportExported(false, text);
        return;
    }
    if (which != report::Report::Plan && which != report::Report::Audit && !request.snapshot) {
        const QString text =
            tr("Read the directory first: the %1 report is made from it.").arg(report::reportName(which));
        statusBar()->showMessage(text, 10000);
        emit reportExported(false, text);
        return;
    }
    if (which != report::Report::Plan && which != report::Report::Audit && request.snapshot->summaryOnly) {
        const QString text = tr("The directory shown is the stored snapshot, without its values: the %1 "
                                "report waits for the directory read (F5).")
                                 .arg(report::reportName(which));
        statusBar()->showMessage(text, 10000);
        emit reportExported(false, text);
        return;
    }
    auto *job = new report::ExportJob(request);
    connect(job, &jobs::Job::logRecord, this, &MainWindow::appendLog);
    connect(job, &jobs::Job::finished, this, [this](bool ok, const QString &summary) {
        statusBar()->showMessage(ok ? summary : tr("Export failed: %1").arg(summary), 15000);
        emit reportExported(ok, summary);
    });
    m_jobStatus->follow(job);
    m_runner.run(job);
}

void MainWindow::loadSettings()
{
    auto loaded = config::loadFile(config::defaultSettingsPath());
    if (!loaded) {
        statusBar()->showMessage(loaded.error().message, 30000);
        return;
    }
    m_configuration = *loaded;
    useStateFolderOf(m_configuration);
    m_stagedPane->setApprovalPolicy(config::approvalPolicy(m_configuration));
    m_fourEyesState->setVisible(!m_configuration.policy.requireSecondPerson);
    if (!m_configuration.directory && !m_configuration.tenant) {
        setPolicy(m_configuration.policy.engine);
        return;
    }
    auto *store = new config::SecretStore(this);
    readSecrets(store, [this, store](const config::Secrets &secrets, const QString &keychainError) {
        store->deleteLater();
        if (!keychainError.isEmpty())
            statusBar()->showMessage(keychainError, 30000);
        applyConfiguration(m_configuration, secrets);
    });
}

void MainWindow::openSettings()
{
    if (auto *open = findChild<SettingsDialog *>(QStringLiteral("settingsDialog"))) {
        open->raise();
        open->activateWindow();
        return;
    }
    auto *dialog = new SettingsDialog(m_configuration, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    auto *store = new config::SecretStore(dialog);
    readSecrets(store, [dialog](const config::Secrets &secrets, const QString &keychainError) {
        dialog->setSecrets(secrets);
        dialog->setNotice(
            keychainError.isEmpty()
                ? QString()
                : tr("%1. Secrets typed here are kept for this session only.").arg(keychainError));
    });
    connect(dialog, &QDialog::accepted, this,
            [this, dialog] { saveSettings(dialog->configuration(), dialog->secrets()); });
    dialog->open();
}

void MainWindow::saveSettings(const config::Configuration &configuration, const config::Secrets &secrets)
{
    const QString path = config::defaultSettingsPath();
    if (auto saved = config::saveFile(configuration, path); !saved) {
        statusBar()->showMessage(saved.error().message, 30000);
        return;
    }
    m_configuration = configuration;
    // The secrets go to the keychain (or stay in memory for this session, with the reason shown).
    auto *store = new config::SecretStore(this);
    auto pending = std::make_shared<int>(int(allSecrets.size()));
    for (const config::Secret which : allSecrets) {
        config::Secrets copy = secrets;
        store->write(which, secretField(copy, which), [this, store, pending](Result<void> r) {
            if (!r) {
                jobs::LogRecord record;
                record.time = QDateTime::currentDateTimeUtc();
                record.level = jobs::LogRecord::Level::Warning;
                record.job = QStringLiteral("settings");
                record.message = r.error().message;
                appendLog(record);
            }
            if (--*pending == 0)
                store->deleteLater();
        });
    }
    statusBar()->showMessage(tr("Settings saved to %1").arg(path), 15000);
    useStateFolderOf(configuration);
    applyConfiguration(configuration, secrets);
}

void MainWindow::applyConfiguration(const config::Configuration &configuration,
                                    const config::Secrets &secrets)
{
    // Nothing connects with settings that would send a credential in the clear.
    if (auto transport = config::checkTransport(configuration); !transport) {
        statusBar()->showMessage(transport.error().message, 30000);
        emit settingsNotApplied(transport.error().message);
        return;
    }
    m_configuration = configuration;
    setPolicy(configuration.policy.engine);
    m_stagedPane->setDeletionThreshold(configuration.policy.deletionThreshold);
    m_stagedPane->setApprovalPolicy(config::approvalPolicy(configuration));
    m_fourEyesState->setVisible(!configuration.policy.requireSecondPerson);
    setTenantSettings(config::tenantSettings(configuration, secrets));
    const quint64 generation = ++m_applyGeneration;
    auto directory = std::make_shared<std::optional<directory::DirectoryReadSettings>>();
    loadTrust(
        tr("Loading the S/MIME trust settings"),
        [configuration, password = secrets.bindPassword,
         directory](const certs::TrustStore::LoadProgress &progress) {
            auto settings = config::directoryReadSettings(configuration, password, progress);
            if (!settings)
                return settings.error().message;
            *directory = std::move(*settings);
            return QString();
        },
        [this, generation, directory](const QString &error) {
            if (generation != m_applyGeneration)
                return; // settings applied again meanwhile
            if (!error.isEmpty()) {
                const QString text = tr("The S/MIME trust settings cannot be used: %1").arg(error);
                statusBar()->showMessage(text, 30000);
                logLine(jobs::LogRecord::Level::Warning, tr("settings"), text);
                emit settingsNotApplied(text);
                return;
            }
            if (*directory)
                setDirectorySettings(**directory);
            checkAuditTrail(); // records the guards' settings when they changed
            emit settingsApplied();
        });
}

void MainWindow::loadTrust(const QString &name,
                           std::function<QString(const certs::TrustStore::LoadProgress &progress)> load,
                           std::function<void(const QString &error)> done)
{
    auto *job = new jobs::TaskJob(name, [load = std::move(load)](jobs::TaskJob &task) {
        QElapsedTimer sinceReport;
        const certs::TrustStore::LoadProgress progress = [&task, &sinceReport](qint64 read, qint64 total,
                                                                               const QString &file) {
            if (task.isCanceled())
                return false;
            // Called per certificate (thousands a second): a few reports a second are enough.
            if (!sinceReport.isValid() || sinceReport.elapsed() >= 100) {
                sinceReport.start();
                const QLocale locale;
                task.reportProgress(read, total,
                                    tr("%1 (%2 of %3)")
                                        .arg(QFileInfo(file).fileName(), locale.formattedDataSize(read),
                                             locale.formattedDataSize(total)));
            }
            return true;
        };
        return load(progress);
    });
    connect(job, &jobs::Job::finished, this, [this, done = std::move(done)](bool ok, const QString &summary) {
        // Once the runner has let the job go (its own finished() handler is queued behind this one),
        // so that what `done` starts (a directory read) finds it idle.
        QMetaObject::invokeMethod(
            this, [done, error = ok ? QString() : summary] { done(error); }, Qt::QueuedConnection);
    });
    runInBackground(job);
}

void MainWindow::runInBackground(jobs::Job *job)
{
    connect(job, &jobs::Job::logRecord, this, &MainWindow::appendLog);
    m_jobStatus->follow(job);
    m_runner.run(job);
}

} // namespace certsync::ui
