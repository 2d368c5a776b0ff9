#include "ui/MainWindow.h"
#include "core/Operator.h"
#include "directory/StoredDirectory.h"

#include "engine/DiffJob.h"
#include "engine/PlanStore.h"
#include "engine/PublishJob.h"
#include "engine/StagePlan.h"
#include "jobs/TaskJob.h"
#include "models/LogModel.h"
#include "models/UsersModel.h"
#include "store/StateStore.h"
#include "tenant/StoredTenantRead.h"
#include "ui/AboutDialog.h"
#include "ui/CertificatePane.h"
#include "ui/DashboardPane.h"
#include "ui/JobStatus.h"
#include "ui/LogPane.h"
#include "ui/SmimeCollectionDialog.h"
#include "ui/StagedPane.h"
#include "ui/UsersPane.h"
#include "ui/VerdictPanel.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>
#include <QVBoxLayout>

namespace certsync::ui {

namespace {

// A user of a stored summary with the values of its stored row.
Result<directory::DirectoryUser> storedUserValues(const QString &path,
                                                  const directory::ConnectionProfile &profile,
                                                  const directory::DirectoryUser &user)
{
    auto state = store::StateStore::open(path);
    if (!state)
        return state.error();
    return directory::StoredDirectory(**state, profile).user(directory::storedRowKey(user));
}

QString matchMethodText(engine::MatchMethod method)
{
    switch (method) {
    case engine::MatchMethod::SourceAnchor:
        return MainWindow::tr("source anchor");
    case engine::MatchMethod::ConsistencyGuid:
        return MainWindow::tr("ms-DS-ConsistencyGuid");
    case engine::MatchMethod::UserPrincipalName:
        return MainWindow::tr("UPN");
    case engine::MatchMethod::Mail:
        return MainWindow::tr("mail");
    }
    return {};
}

// Who masters the user's certificates, for the tenant side of the user pane.
QString masteredText(const tenant::TenantUser &user)
{
    if (!user.user.isSynced())
        return MainWindow::tr("cloud-mastered: certsync publishes to it");
    if (user.recipient && user.recipient->isExchangeCloudManaged.value_or(false))
        return MainWindow::tr(
            "synced, Exchange attributes cloud-managed (IsExchangeCloudManaged): certsync "
            "plans both AD and Exchange, and Exchange takes the write only if it accepts it");
    return MainWindow::tr("synced: Entra Connect carries its certificates");
}

} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_users(new models::UsersModel(this))
    , m_log(new models::LogModel(this))
    , m_tabs(new QTabWidget(this))
    , m_dashboard(new DashboardPane(this))
    , m_usersPane(new UsersPane(m_users, this))
    , m_certificatePane(new CertificatePane(this))
    , m_logPane(new LogPane(m_log, this))
    , m_stagedPane(new StagedPane(this))
    , m_jobStatus(new JobStatus(&m_runner, this))
    , m_banner(new QLabel(this))
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("certsync"));

    auto *usersSplit = new QSplitter(Qt::Horizontal, this);
    usersSplit->setObjectName(QStringLiteral("usersSplitter"));
    usersSplit->addWidget(m_usersPane);
    usersSplit->addWidget(m_certificatePane);
    usersSplit->setStretchFactor(0, 3);
    usersSplit->setStretchFactor(1, 4);

    m_tabs->setObjectName(QStringLiteral("mainTabs"));
    m_tabs->addTab(m_dashboard, tr("&Dashboard"));
    m_tabs->addTab(usersSplit, tr("&Users"));
    m_tabs->addTab(m_stagedPane, tr("&Staged changes"));
    m_tabs->addTab(m_logPane, tr("&Log"));

    m_banner->setObjectName(QStringLiteral("banner"));
    m_banner->setWordWrap(true);
    m_banner->setFrameShape(QFrame::StyledPanel);
    m_banner->setContentsMargins(8, 6, 8, 6);
    m_banner->hide();
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->addWidget(m_banner);
    layout->addWidget(m_tabs, 1);
    setCentralWidget(central);

    auto *readAction = new QAction(tr("&Read directory"), this);
    readAction->setObjectName(QStringLiteral("actionReadDirectory"));
    readAction->setShortcut(QKeySequence::Refresh);
    readAction->setToolTip(tr("Read the users and their certificates from the directory"));
    connect(readAction, &QAction::triggered, this, &MainWindow::readDirectory);
    auto *tenantAction = new QAction(tr("Read &Microsoft 365"), this);
    tenantAction->setObjectName(QStringLiteral("actionReadTenant"));
    tenantAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    tenantAction->setToolTip(tr("Read the users and their published certificates from Microsoft 365"));
    connect(tenantAction, &QAction::triggered, this, &MainWindow::readTenant);
    auto *diffAction = new QAction(tr("&Diff"), this);
    diffAction->setObjectName(QStringLiteral("actionDiff"));
    diffAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    diffAction->setToolTip(tr("Compare the directory with Microsoft 365 and stage a plan of changes"));
    connect(diffAction, &QAction::triggered, this, &MainWindow::runDiff);
    auto *findAction = new QAction(tr("&Find user"), this);
    findAction->setObjectName(QStringLiteral("actionFindUser"));
    findAction->setShortcut(QKeySequence::Find);
    connect(findAction, &QAction::triggered, this, [this] {
        m_tabs->setCurrentIndex(1);
        m_usersPane->focusSearch();
    });
    auto *smimeAction = new QAction(tr("Exchange Online &S/MIME CAs…"), this);
    smimeAction->setObjectName(QStringLiteral("actionSmimeCollection"));
    smimeAction->setToolTip(
        tr("The CAs Exchange Online validates S/MIME certificates against (Get-SmimeConfig)"));
    connect(smimeAction, &QAction::triggered, this, &MainWindow::openSmimeCollection);
    auto *file = menuBar()->addMenu(tr("&File"));
    file->addAction(readAction);
    file->addAction(tenantAction);
    file->addAction(diffAction);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    auto *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(findAction);
    auto *view = menuBar()->addMenu(tr("&View"));
    view->addAction(smimeAction);
    addSettingsAndExportActions(file, edit);
    auto *toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName(QStringLiteral("mainToolbar"));
    toolbar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    toolbar->addAction(readAction);
    toolbar->addAction(tenantAction);
    toolbar->addAction(diffAction);

    m_fourEyesState = new QLabel(tr("Four-eyes off: authors approve their own plans"), this);
    m_fourEyesState->setObjectName(QStringLiteral("fourEyesState"));
    m_fourEyesState->setToolTip(tr("approval/requireSecondPerson=false in the settings: every approval "
                                   "made while it is off says so in the audit trail."));
    m_fourEyesState->setStyleSheet(QStringLiteral("color: #a15c00; font-weight: bold"));
    m_fourEyesState->hide();
    m_auditState = new QLabel(this);
    m_auditState->setObjectName(QStringLiteral("auditState"));
    statusBar()->addPermanentWidget(m_fourEyesState);
    statusBar()->addPermanentWidget(m_auditState);
    statusBar()->addPermanentWidget(m_jobStatus);
    statusBar()->showMessage(tr("Ready"));

    connect(m_usersPane, &UsersPane::currentUserChanged, this, &MainWindow::showUser);
    connect(m_usersPane, &UsersPane::lookupRequested, this, &MainWindow::lookUpUser);
    connect(m_stagedPane, &StagedPane::loaded, this, &MainWindow::refreshPlanItems);
    // Plans live in the same state database as the command line's (certsync diff/approve/publish):
    // the account's own until the settings name a (team's) folder.
    useStateFolderOf(m_configuration);
    connect(m_stagedPane, &StagedPane::publishRequested, this, &MainWindow::publish);
    connect(m_logPane, &LogPane::runChosen, this, &MainWindow::loadRun);
    addHelpMenu(this);
    resize(1280, 800);
    restoreWindowState();
}

MainWindow::~MainWindow()
{
    m_lookupRunner.cancelAll();
    m_viewRunner.cancelAll();
    m_runner.cancelAll();
}

void MainWindow::setDirectorySettings(const directory::DirectoryReadSettings &settings)
{
    m_directorySettings = settings;
    m_trust = settings.trust;
    m_analyzer = settings.trust ? std::make_shared<const certs::ValueAnalyzer>(
                     *settings.trust, certs::CertificateJudge(settings.policy))
                                : nullptr;
}

void MainWindow::setTenantSettings(const std::optional<tenant::TenantSettings> &settings)
{
    m_tenantSettings = settings;
}

void MainWindow::setPolicy(const engine::PolicySettings &policy)
{
    const bool rematch = policy.consistencyGuidAnchor != m_policy.consistencyGuidAnchor;
    m_policy = policy;
    if (rematch)
        matchTenant();
}

void MainWindow::setStatePath(const QString &path)
{
    m_statePath = path;
    m_stagedPane->setStatePath(path);
    refreshRuns();
    refreshPlanItems();
    checkAuditTrail();
}

void MainWindow::useStateFolderOf(const config::Configuration &configuration)
{
    const QString path = config::statePath(configuration);
    if (path == m_statePath)
        return;
    QDir().mkpath(QFileInfo(path).absolutePath());
    setStatePath(path);
}

void MainWindow::checkAuditTrail()
{
    if (m_statePath.isEmpty() || !QFileInfo::exists(m_statePath))
        return;
    auto check = std::make_shared<engine::AuditCheck>();
    // The guards' settings as this console uses them go into the trail first when they changed.
    // guardSettings() reads and hashes the trust files: on the worker, like the rest.
    auto *job = new jobs::TaskJob(
        tr("audit trail"), [path = m_statePath, check, configuration = m_configuration](jobs::TaskJob &) {
            auto state = store::StateStore::open(path);
            if (!state)
                return state.error().message;
            engine::PlanStore plans(**state);
            if (auto recorded = plans.recordSettings(
                    currentOperator().recorded(),
                    config::guardSettings(configuration, configuration.directory.has_value()));
                !recorded)
                return recorded.error().message;
            auto verified = plans.verifyAudit();
            if (!verified)
                return verified.error().message;
            *check = *verified;
            return QString();
        });
    connect(job, &jobs::Job::finished, this, [this, check](bool ok, const QString &error) {
        if (!ok) {
            m_auditState->setText(tr("Audit trail not checked"));
            m_auditState->setToolTip(error);
            m_auditState->setStyleSheet({});
        } else if (check->intact) {
            m_auditState->setText(tr("Audit trail intact"));
            m_auditState->setToolTip(
                tr("%n row(s); hash chain verified up to row %1", nullptr, int(check->rows))
                    .arg(check->headId));
            m_auditState->setStyleSheet({});
        } else {
            m_auditState->setText(tr("Audit trail broken at row %1").arg(check->brokenAt));
            m_auditState->setToolTip(check->problem);
            m_auditState->setStyleSheet(QStringLiteral("color: #b00020; font-weight: bold"));
        }
        emit auditTrailChecked(check->intact && ok);
    });
    m_viewRunner.run(job);
}

void MainWindow::appendLog(const jobs::LogRecord &record)
{
    m_log->append(record);
    if (m_run)
        m_run->add(record);
}

void MainWindow::withRunHistory(std::function<QString(store::RunHistory &)> use,
                                std::function<void(const QString &error)> done)
{
    auto *job =
        new jobs::TaskJob(tr("run history"), [path = m_statePath, use = std::move(use)](jobs::TaskJob &) {
            auto state = store::StateStore::open(path);
            if (!state)
                return state.error().message;
            store::RunHistory history(**state);
            return use(history);
        });
    connect(job, &jobs::Job::finished, this,
            [done = std::move(done)](bool, const QString &error) { done(error); });
    m_viewRunner.run(job);
}

void MainWindow::refreshRuns()
{
    auto runs = std::make_shared<QList<store::RunRow>>();
    withRunHistory(
        [runs](store::RunHistory &history) {
            auto stored = history.runs(500);
            if (!stored)
                return stored.error().message;
            *runs = std::move(*stored);
            return QString();
        },
        [this, runs](const QString &error) {
            if (!error.isEmpty())
                logLine(jobs::LogRecord::Level::Warning, tr("run history"),
                        tr("The run history cannot be read: %1").arg(error));
            m_logPane->setRuns(*runs);
            emit runsRefreshed();
        });
}

void MainWindow::loadRun(qint64 runId)
{
    auto records = std::make_shared<QList<jobs::LogRecord>>();
    withRunHistory(
        [runId, records](store::RunHistory &history) {
            auto stored = history.records(runId);
            if (!stored)
                return stored.error().message;
            *records = std::move(*stored);
            return QString();
        },
        [this, runId, records](const QString &error) {
            if (!error.isEmpty())
                statusBar()->showMessage(tr("Run %1 cannot be read: %2").arg(runId).arg(error), 15000);
            m_logPane->showRun(runId, *records);
        });
}

void MainWindow::recordRun(const QString &outcome, const QString &summary)
{
    if (!m_run)
        return;
    const store::RunRow run = m_run->finish(outcome, summary);
    auto records = std::make_shared<const QList<jobs::LogRecord>>(m_run->records());
    m_run.reset();
    auto id = std::make_shared<qint64>(0);
    withRunHistory(
        [run, records, retention = m_configuration.policy.runRetentionDays, id](store::RunHistory &history) {
            auto stored = history.record(run, *records, retention);
            if (!stored)
                return stored.error().message;
            *id = *stored;
            return QString();
        },
        [this, id](const QString &error) {
            if (!error.isEmpty())
                logLine(jobs::LogRecord::Level::Warning, tr("run history"),
                        tr("The run was not recorded in the run history: %1").arg(error));
            emit runRecorded(*id);
            refreshRuns();
        });
}

bool MainWindow::idle()
{
    if (!m_runner.isBusy())
        return true;
    statusBar()->showMessage(tr("A job is already running: wait for it or cancel it first."), 8000);
    return false;
}

void MainWindow::follow(jobs::Job *job, jobs::Job *last)
{
    connect(job, &jobs::Job::logRecord, this, &MainWindow::appendLog);
    m_jobStatus->follow(job);
    statusBar()->clearMessage();
    // Jobs on m_runner run one after another, so one run is open at a time. Connected after the
    // callers' own finished() handlers, so that what they log still belongs to the run.
    m_run = std::make_unique<store::RunRecorder>(QStringLiteral("console"), job->name());
    if (m_directorySettings)
        m_run->addSecret(m_directorySettings->password);
    if (m_tenantSettings) {
        m_run->addSecret(m_tenantSettings->clientSecret);
        m_run->addSecret(QString::fromUtf8(m_tenantSettings->clientKeyPassphrase));
    }
    connect(last ? last : job, &jobs::Job::finished, this, [this](bool ok, const QString &summary) {
        recordRun(ok ? QStringLiteral("success") : QStringLiteral("failure"), summary);
    });
}

bool MainWindow::tenantConfigured(const QString &what)
{
    if (m_tenantSettings)
        return true;
    const QString text = tr("%1 needs Microsoft 365, which is not configured: set the tenant (tenant id, "
                            "client id, secret or certificate) in Edit → Settings.")
                             .arg(what);
    statusBar()->showMessage(text, 15000);
    logLine(jobs::LogRecord::Level::Warning, what, text);
    return false;
}

void MainWindow::logLine(jobs::LogRecord::Level level, const QString &job, const QString &message)
{
    jobs::LogRecord record;
    record.time = QDateTime::currentDateTimeUtc();
    record.level = level;
    record.job = job;
    record.message = message;
    appendLog(record);
}

void MainWindow::readTenant()
{
    if (!tenantConfigured(tr("Reading Microsoft 365")) || !idle())
        return;
    auto *job = new tenant::TenantSnapshotJob(*m_tenantSettings, {});
    auto snapshot = std::make_shared<std::optional<tenant::TenantSnapshot>>();
    connect(job, &tenant::TenantSnapshotJob::snapshotReady, this,
            [snapshot](const tenant::TenantSnapshot &s) { *snapshot = s; });
    connect(job, &jobs::Job::finished, this, [this, snapshot](bool ok, const QString &summary) {
        if (!ok || !*snapshot) {
            // A failed or cancelled read never replaces the last good one.
            statusBar()->showMessage(tr("Microsoft 365 read stopped: %1").arg(summary), 30000);
            logLine(jobs::LogRecord::Level::Warning, tr("tenant read"),
                    tr("Microsoft 365 read stopped: %1").arg(summary));
            emit tenantLoaded(false);
            return;
        }
        m_tenant = std::make_shared<const tenant::TenantSnapshot>(std::move(**snapshot));
        m_tenantIsStored = false;
        showStoredBanner();
        keepTenantRead();
        statusBar()->showMessage(summary, 15000);
        logLine(jobs::LogRecord::Level::Info, tr("tenant read"), summary);
        emit tenantLoaded(true);
        matchTenant();
        readSmimeCollection();
    });
    follow(job);
    m_runner.run(job);
}

void MainWindow::keepTenantRead()
{
    // In the state database, as `certsync diff` keeps its read: the next start shows it. After the
    // read has finished (jobs on the runner interleave while one waits for the network).
    auto *keep = new jobs::TaskJob(
        tr("tenant read"),
        [path = m_statePath, settings = *m_tenantSettings, read = m_tenant](jobs::TaskJob &task) {
            auto state = store::StateStore::open(path);
            auto saved =
                state ? tenant::saveTenantRead(**state, settings, *read) : Result<void>(state.error());
            if (!saved)
                task.log(jobs::LogRecord::Level::Warning,
                         tr("The Microsoft 365 read was not stored: %1").arg(saved.error().message));
            return QString();
        });
    connect(keep, &jobs::Job::logRecord, this, &MainWindow::appendLog);
    m_runner.run(keep);
}

void MainWindow::matchTenant()
{
    const auto directory = m_users->snapshot();
    const auto tenantSnapshot = m_tenant;
    if (!directory || !tenantSnapshot)
        return;
    struct Matched
    {
        QHash<QString, QPair<int, engine::MatchMethod>> byDn;
        QHash<QString, models::TenantMatch> column;
        QHash<QString, bool> canEncrypt; // the verdict's Exchange Online path, per DN
    };
    auto out = std::make_shared<Matched>();
    const engine::PolicySettings policy = m_policy;
    // The engine's own matching, so that the helpdesk pairs users exactly as the diff does.
    auto *job = new jobs::TaskJob(
        tr("match users"),
        [directory, tenantSnapshot, policy, out, analyzer = m_analyzer,
         collection = m_smimeCollection](jobs::TaskJob &) {
            const QDateTime now = QDateTime::currentDateTimeUtc();
            const QList<engine::PublishedUser> published = engine::publishedFromTenant(tenantSnapshot->users);
            const engine::UserMatches matches = engine::matchUsers(directory->users, published, policy);
            for (qsizetype d = 0; d < directory->users.size(); ++d) {
                const directory::DirectoryUser &user = directory->users.at(d);
                const int t = matches.tenantIndex.at(d);
                std::optional<tenant::TenantUser> tenantUser;
                if (t < 0) {
                    out->column.insert(user.dn, models::TenantMatch::Unmatched);
                } else {
                    tenantUser = tenantSnapshot->users.at(t);
                    out->byDn.insert(user.dn, { t, matches.method.at(d) });
                    out->column.insert(user.dn,
                                       tenantUser->user.isSynced() ? models::TenantMatch::Synced
                                                                   : models::TenantMatch::Cloud);
                }
                if (analyzer)
                    out->canEncrypt.insert(
                        user.dn, engine::tenantCanEncrypt(user, tenantUser, *analyzer, now, collection));
            }
            return QString();
        });
    connect(job, &jobs::Job::finished, this, [this, out, directory, tenantSnapshot](bool ok) {
        if (!ok || directory != m_users->snapshot() || tenantSnapshot != m_tenant)
            return; // newer data arrived meanwhile; its own matching follows
        m_matchByDn = std::move(out->byDn);
        m_matchedTenant = tenantSnapshot;
        m_users->setTenantMatches(out->column, out->canEncrypt);
        if (m_shownRow >= 0)
            showUser(m_shownRow);
        emit tenantMatched();
    });
    m_viewRunner.run(job);
}

void MainWindow::runDiff()
{
    if (!tenantConfigured(tr("The diff")) || !idle())
        return;
    const auto directory = m_users->snapshot();
    if (!directory || !m_directorySettings) {
        statusBar()->showMessage(tr("Read the directory first: the diff compares it with Microsoft 365."),
                                 10000);
        return;
    }
    if (directory->summaryOnly) {
        // The stored summaries hold no values: a diff needs the directory's, as read.
        statusBar()->showMessage(
            tr("The directory shown is the stored snapshot: the diff waits for the directory read (F5)."),
            10000);
        return;
    }
    if (!m_tenant || m_tenantIsStored) {
        statusBar()->showMessage(tr("Read Microsoft 365 first: the diff compares the directory with it."),
                                 10000);
        return;
    }
    // Both jobs run on the worker, one after the other: the diff hands its result straight to the
    // job that stores it (direct connection, same thread), which opens the state database there.
    auto diffResult = std::make_shared<std::shared_ptr<const engine::DiffResult>>();
    auto *diff = new engine::DiffJob(directory, m_tenant, m_policy);
    if (m_smimeCollection && m_trust) // read: the diff also stages what the collection lacks
        diff->setSmimeCollection(*m_smimeCollection, engine::trustBundleCertificates(*m_trust));
    connect(
        diff, &engine::DiffJob::diffReady, diff,
        [diffResult](const std::shared_ptr<const engine::DiffResult> &r) { *diffResult = r; },
        Qt::DirectConnection);
    const engine::PlanSource source { m_directorySettings->profile.describe(), directory->readAt,
                                      m_tenantSettings->tenantId, m_tenant->takenAt };
    auto staged = std::make_shared<engine::StagedPlan>();
    auto *store = new jobs::TaskJob(
        tr("stage plan"), [path = m_statePath, diffResult, source, staged](jobs::TaskJob &job) {
            if (!*diffResult)
                return job.isCanceled() ? tr("canceled") : tr("the diff did not finish");
            auto state = store::StateStore::open(path);
            if (!state)
                return state.error().message;
            auto stored = engine::stagePlan(**state, **diffResult, source, currentOperator().recorded());
            if (!stored)
                return stored.error().message;
            *staged = std::move(stored).value();
            return QString();
        });
    connect(store, &jobs::Job::finished, this, [this, staged, diffResult](bool ok, const QString &error) {
        if (!ok) {
            statusBar()->showMessage(tr("Diff stopped: %1").arg(error), 30000);
            logLine(jobs::LogRecord::Level::Warning, tr("diff"), tr("Diff stopped: %1").arg(error));
            emit planStaged(0);
            return;
        }
        const engine::DiffResult &d = **diffResult;
        const QString text =
            tr("Plan %1 staged: %2 item(s) (%3 Exchange, %4 Graph, %5 directory), %6 value(s) removed, %7 "
               "added; %8 user(s) matched, %9 warning(s). Review and approve it under Staged changes.")
                .arg(staged->summary.id)
                .arg(d.items.size())
                .arg(staged->exchangeItems)
                .arg(staged->graphItems)
                .arg(staged->directoryItems)
                .arg(d.removedValues)
                .arg(d.addedValues)
                .arg(d.matched)
                .arg(d.warnings.size());
        statusBar()->showMessage(text, 30000);
        logLine(jobs::LogRecord::Level::Info, tr("diff"), text);
        m_stagedPane->refresh(staged->summary.id);
        m_tabs->setCurrentWidget(m_stagedPane);
        emit planStaged(staged->summary.id);
    });
    follow(diff, store);
    connect(store, &jobs::Job::logRecord, this, &MainWindow::appendLog);
    m_runner.run(diff);
    m_runner.run(store);
}

void MainWindow::publish(qint64 planId, bool allowDeletions)
{
    if (!idle())
        return;
    engine::PublishSettings s;
    s.statePath = m_statePath;
    s.planId = planId;
    s.who = currentOperator().recorded();
    s.tenant = m_tenantSettings;
    if (m_directorySettings) {
        s.directory = m_directorySettings->profile;
        s.directoryPassword = m_directorySettings->password;
        s.trust = m_directorySettings->trust;
    }
    s.deletionThreshold = m_stagedPane->deletionThreshold();
    s.configuredDeletionThreshold = m_configuration.policy.deletionThreshold;
    s.approval = config::approvalPolicy(m_configuration);
    s.allowDeletions = allowDeletions;
    s.staging = engine::stagingMode(m_configuration.policy.staging);
    s.planLifetimeHours = m_configuration.policy.planLifetimeHours;
    auto outcome = std::make_shared<engine::PublishOutcome>();
    auto *job = new engine::PublishJob(s);
    connect(job, &engine::PublishJob::outcomeReady, this,
            [outcome](const engine::PublishOutcome &o) { *outcome = o; });
    connect(job, &jobs::Job::finished, this, [this, outcome, planId](bool ok, const QString &summary) {
        QString text;
        if (outcome->claimed)
            text = tr("Plan %1 was not published: %2.").arg(planId).arg(outcome->error.message);
        else if (outcome->refused && outcome->error.code != QLatin1String("deletion_threshold"))
            text = tr("Plan %1 was not published: %2.").arg(planId).arg(outcome->error.message);
        else if (outcome->refused)
            text = tr("Plan %1 was not published: %2. Review the plan; tick the override under Staged "
                      "changes to publish it anyway (recorded in the audit trail).")
                       .arg(planId)
                       .arg(outcome->error.message);
        else if (!outcome->error.code.isEmpty())
            text = tr("Publishing plan %1 failed: %2").arg(planId).arg(outcome->error.message);
        else if (outcome->staging)
            text =
                tr("Staging mode: plan %1 was checked, nothing was published. %2").arg(planId).arg(summary);
        else if (outcome->failed > 0 || outcome->conflicts > 0)
            text = tr("Plan %1 published in part: %2. See the Log for each failure and conflict (a conflict "
                      "is someone else's change: the next diff plans that user again).")
                       .arg(planId)
                       .arg(summary);
        else
            text = ok ? tr("Plan %1: %2").arg(planId).arg(summary)
                      : tr("Publishing plan %1 stopped: %2").arg(planId).arg(summary);
        statusBar()->showMessage(text, 60000);
        logLine(ok && !outcome->refused ? jobs::LogRecord::Level::Info : jobs::LogRecord::Level::Warning,
                tr("publish"), text);
        m_stagedPane->refresh();
        checkAuditTrail();
        emit publishFinished(ok && !outcome->refused && !outcome->claimed && outcome->failed == 0
                                 && outcome->conflicts == 0,
                             text);
    });
    follow(job);
    m_runner.run(job);
}

void MainWindow::onSnapshot(const std::shared_ptr<directory::DirectorySnapshot> &snapshot)
{
    if (!snapshot->complete) {
        // An incomplete read must never look like the whole directory.
        const auto shown = m_users->snapshot();
        m_banner->setText(
            m_shownSnapshotIsStored && shown
                ? tr("The directory read did not complete (%1). Showing the directory as read at %2 "
                     "(stored).")
                      .arg(snapshot->error.message,
                           QLocale().toString(shown->readAt.toLocalTime(), QLocale::ShortFormat))
                : tr("The last directory read is incomplete (%1). Showing what was read before it.")
                      .arg(snapshot->error.message));
        m_banner->show();
        emit directoryLoaded(false);
        return;
    }
    // The rows are made on the view worker (at 100,000 users the GUI thread would stall for a
    // second) and shown in one go.
    auto shown = std::make_shared<std::optional<ShownSnapshot>>();
    auto *job = new jobs::TaskJob(tr("show directory"), [snapshot, shown](jobs::TaskJob &) {
        shown->emplace(prepareSnapshot(snapshot, QDateTime::currentDateTimeUtc()));
        return QString();
    });
    connect(job, &jobs::Job::finished, this, [this, shown](bool ok) {
        if (!ok || !*shown)
            return;
        m_shownSnapshotIsStored = false;
        applySnapshot(std::move(**shown));
        showStoredBanner(); // the stored tenant read may still be shown
        emit directoryLoaded(true);
        matchTenant();
    });
    m_viewRunner.run(job);
}

void MainWindow::showUser(int sourceRow)
{
    m_shownRow = sourceRow;
    const quint64 generation = ++m_shownGeneration;
    const directory::DirectoryUser *user = m_users->user(sourceRow);
    if (!user || !m_analyzer) {
        m_certificatePane->clear();
        return;
    }
    // The snapshot keeps verdicts but not whole chains; the user's values (and the tenant's, for the
    // helpdesk view) are re-analysed on a worker to show every chain element, and the verdict is
    // computed there from them. The pane keeps showing the previous user until the answer arrives:
    // no flicker through an empty state.
    struct Shown
    {
        QList<certs::AnalyzedValue> directory;
        std::optional<QList<certs::AnalyzedValue>> published;
        QString note;
        engine::EncryptionVerdict verdict;
    };
    auto out = std::make_shared<Shown>();
    directory::DirectoryUser copy =
        *user; // the job takes its values from the stored row when a summary is shown
    // A stored summary holds no values: the user's stored row gives them (one query, on the worker).
    const auto snapshot = m_users->snapshot();
    const bool storedValues = snapshot && snapshot->summaryOnly && !m_users->isLookedUp(sourceRow);
    // The tenant's side: what this user's live look-up found, else the engine's pairing of the reads.
    std::optional<tenant::TenantUser> tenantUser;
    bool tenantKnown = false;
    const auto live = m_users->isLookedUp(sourceRow) ? m_liveTenant.find(user->dn) : m_liveTenant.end();
    const auto match = m_matchByDn.find(user->dn);
    if (live != m_liveTenant.end()) {
        tenantKnown = m_tenantSettings.has_value();
        tenantUser = live->user;
        out->note = tenantUser ? tr("%1, looked up live (%2).")
                                     .arg(tenantUser->user.userPrincipalName, masteredText(*tenantUser))
            : tenantKnown ? tr("Looked up live: %1.").arg(live->note)
                          : tr("Microsoft 365 is not configured.");
    } else if (!m_tenant) {
        out->note = tr("Microsoft 365 has not been read yet.");
    } else if (!m_matchedTenant) {
        out->note = tr("Pairing the directory with Microsoft 365…");
    } else if (m_tenantIsStored) {
        // The stored read has the tenant's users, not their Exchange recipients: nothing is judged.
        const QString at = QLocale().toString(m_matchedTenant->takenAt.toLocalTime(), QLocale::ShortFormat);
        out->note = match == m_matchByDn.cend()
            ? tr("No user of the stored Microsoft 365 read (%1) matches this directory user.").arg(at)
            : tr("%1, matched by %2 in the stored Microsoft 365 read (%3). Read Microsoft 365 to see what "
                 "it publishes.")
                  .arg(m_matchedTenant->users.at(match->first).user.userPrincipalName,
                       matchMethodText(match->second), at);
    } else if (match == m_matchByDn.cend()) {
        tenantKnown = true;
        out->note = tr("No Microsoft 365 user matches this directory user.");
    } else {
        tenantKnown = true;
        tenantUser = m_matchedTenant->users.at(match->first);
        out->note = tr("%1, matched by %2 (%3).")
                        .arg(tenantUser->user.userPrincipalName, matchMethodText(match->second),
                             masteredText(*tenantUser));
    }
    if (tenantUser && !tenantUser->recipient)
        out->note += QLatin1Char(' ') + tr("It has no Exchange recipient: nothing is published.");
    auto *job = new jobs::TaskJob(
        tr("analyse user"),
        [analyzer = m_analyzer, trust = m_trust, copy, tenantUser, tenantKnown,
         collection = m_smimeCollection, plan = m_planItemsByDn.value(user->dn), out, storedValues,
         path = m_statePath,
         profile = m_directorySettings ? m_directorySettings->profile
                                       : directory::ConnectionProfile()](jobs::TaskJob &) mutable {
            if (storedValues) {
                auto values = storedUserValues(path, profile, copy);
                if (!values)
                    return values.error().message;
                copy = std::move(*values);
            }
            const QDateTime now = QDateTime::currentDateTimeUtc();
            out->directory =
                analyzer->analyzeUser(copy.userCertificate, copy.userSmimeCertificate, copy.context(), now);
            engine::VerdictInput input;
            input.who = engine::verdictName(copy);
            input.now = now;
            input.directory = out->directory;
            input.planItems = plan;
            if (tenantKnown) {
                input.tenant = engine::tenantView(
                    tenantUser, *analyzer, engine::publishedContext(copy, tenantUser), now, collection);
                if (tenantUser)
                    out->published = input.tenant->published;
            }
            out->verdict = engine::computeVerdict(input);
            return QString();
        });
    const QString title =
        user->displayName.isEmpty() ? user->dn : QStringLiteral("%1 — %2").arg(user->displayName, user->mail);
    const QString verdictNote = !m_tenantSettings ? tr("Microsoft 365 is not configured: the directory only.")
        : !tenantKnown                            ? out->note
        : !m_smimeCollection
        ? tr("Exchange Online's S/MIME CA collection has not been read: its trust is not judged.")
        : QString();
    connect(job, &jobs::Job::finished, this, [this, out, generation, title, sourceRow, verdictNote](bool ok) {
        if (!ok || generation != m_shownGeneration)
            return; // another user was selected meanwhile
        m_certificatePane->showUser(title, out->directory, out->published, out->note);
        m_certificatePane->verdictPanel()->showVerdict(out->verdict, verdictNote);
        emit userShown(sourceRow);
    });
    m_viewRunner.run(job);
}

void MainWindow::lookUpUser(const QString &who)
{
    if (!m_directorySettings || !m_directorySettings->trust) {
        const QString text = tr("No directory is configured: set it in Edit → Settings to look users up.");
        m_usersPane->setLookupStatus(text);
        emit userLookedUp(false, text);
        return;
    }
    const quint64 generation = ++m_lookupGeneration;
    engine::UserCheckSettings settings;
    settings.directory = *m_directorySettings;
    settings.directory.cache.reset(); // the read's cache belongs to the read's thread
    settings.tenant = m_tenantSettings;
    settings.who = who;
    settings.statePath = m_statePath;
    auto *job = new engine::UserCheckJob(std::move(settings));
    auto result = std::make_shared<std::optional<engine::UserCheck>>();
    connect(job, &engine::UserCheckJob::checked, this,
            [result](const engine::UserCheck &check) { *result = check; });
    connect(job, &jobs::Job::logRecord, this, &MainWindow::appendLog);
    connect(job, &jobs::Job::finished, this,
            [this, job, who, generation, result](bool ok, const QString &summary) {
                if (generation != m_lookupGeneration)
                    return; // a newer look-up replaced this one
                if (!ok || !*result) {
                    const QString code = job->errorCode();
                    const QString text = code == QLatin1String("not_found")
                        ? tr("No directory user is named '%1' (mail, UPN, account name or DN).").arg(who)
                        : tr("Cannot look up '%1': %2").arg(who, summary);
                    m_usersPane->setLookupStatus(text);
                    logLine(jobs::LogRecord::Level::Warning, tr("look-up"), text);
                    emit userLookedUp(false, text);
                    return;
                }
                engine::UserCheck &check = **result;
                if (check.smimeCollection && !m_smimeCollection)
                    m_smimeCollection = check.smimeCollection;
                m_liveTenant.insert(check.user.dn, LiveTenant { check.tenantUser, check.tenantNote });
                const models::TenantMatch match = !m_tenantSettings ? models::TenantMatch::NotRead
                    : !check.tenantUser                             ? models::TenantMatch::Unmatched
                    : check.tenantUser->user.isSynced()             ? models::TenantMatch::Synced
                                                                    : models::TenantMatch::Cloud;
                const int row = m_users->addLookedUp(
                    check.user, match, QDateTime::currentDateTimeUtc(),
                    check.verdict.tenant ? std::optional<bool>(check.verdict.tenant->canEncrypt)
                                         : std::nullopt);
                const QString text = tr("Looked up live: %1").arg(check.verdict.line());
                m_usersPane->setLookupStatus(QString());
                m_tabs->setCurrentIndex(1);
                m_usersPane->showFoundUser(row);
                if (m_shownRow != row) // selecting it showed it already, unless it was selected before
                    showUser(row);
                logLine(jobs::LogRecord::Level::Info, tr("look-up"), text);
                emit userLookedUp(true, text);
            });
    m_usersPane->setLookupStatus(tr("Looking up '%1' in the directory and Microsoft 365…").arg(who));
    m_certificatePane->verdictPanel()->showMessage(tr("Looking up '%1'…").arg(who));
    m_lookupRunner.run(job);
}

void MainWindow::readSmimeCollection()
{
    if (!m_tenantSettings)
        return;
    auto *job = new engine::SmimeCollectionJob(*m_tenantSettings);
    auto collection = std::make_shared<std::optional<QList<certs::Certificate>>>();
    connect(job, &engine::SmimeCollectionJob::collectionRead, this,
            [collection](const QList<certs::Certificate> &c) { *collection = c; });
    connect(job, &jobs::Job::logRecord, this, &MainWindow::appendLog);
    connect(job, &jobs::Job::finished, this, [this, collection](bool ok, const QString &summary) {
        if (!ok || !*collection) {
            m_smimeProblem = summary;
            logLine(jobs::LogRecord::Level::Warning, tr("S/MIME collection"),
                    tr("Exchange Online's S/MIME CA collection cannot be read: %1").arg(summary));
        } else {
            m_smimeCollection = *collection;
            m_smimeProblem.clear();
            logLine(jobs::LogRecord::Level::Info, tr("S/MIME collection"), summary);
        }
        if (m_smimeDialog)
            m_smimeDialog->setCollection(m_smimeCollection, m_smimeProblem);
        if (m_smimeCollection)
            matchTenant(); // the users' "Can encrypt" judges the collection too now
        if (m_shownRow >= 0)
            showUser(m_shownRow);
        emit smimeCollectionRead(ok);
    });
    m_lookupRunner.run(job);
}

void MainWindow::openSmimeCollection()
{
    if (!m_smimeDialog) {
        m_smimeDialog = new SmimeCollectionDialog(this);
        m_smimeDialog->setCollection(m_smimeCollection, m_smimeProblem);
    }
    m_smimeDialog->show();
    m_smimeDialog->raise();
}

void MainWindow::refreshPlanItems()
{
    auto byDn = std::make_shared<QHash<QString, QList<engine::PlanItemState>>>();
    auto *job = new jobs::TaskJob(tr("plan items"), [path = m_statePath, byDn](jobs::TaskJob &) {
        if (!QFileInfo::exists(path))
            return QString();
        auto state = store::StateStore::open(path);
        if (!state)
            return state.error().message;
        auto items = engine::planItemsByUser(engine::PlanStore(**state));
        if (!items)
            return items.error().message;
        *byDn = std::move(items).value();
        return QString();
    });
    connect(job, &jobs::Job::finished, this, [this, byDn](bool ok, const QString &error) {
        if (!ok) {
            logLine(jobs::LogRecord::Level::Warning, tr("plan items"),
                    tr("The plans cannot be read for the verdicts: %1").arg(error));
            return;
        }
        m_planItemsByDn = std::move(*byDn);
        if (m_shownRow >= 0)
            showUser(m_shownRow);
        emit planItemsRefreshed();
    });
    m_viewRunner.run(job);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    m_lookupRunner.cancelAll();
    m_viewRunner.cancelAll();
    m_runner.cancelAll();
    saveWindowState();
    event->accept();
}

void MainWindow::saveWindowState()
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("window/tab"), m_tabs->currentIndex());
}

void MainWindow::restoreWindowState()
{
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    m_tabs->setCurrentIndex(settings.value(QStringLiteral("window/tab"), 0).toInt());
}

} // namespace certsync::ui
