#include "ui/MainWindow.h"
#include "core/Operator.h"

#include "engine/DiffJob.h"
#include "engine/PublishJob.h"
#include "engine/StagePlan.h"
#include "jobs/TaskJob.h"
#include "models/LogModel.h"
#include "models/UsersModel.h"
#include "store/StateStore.h"
#include "ui/AboutDialog.h"
#include "ui/CertificatePane.h"
#include "ui/DashboardPane.h"
#include "ui/JobStatus.h"
#include "ui/LogPane.h"
#include "ui/StagedPane.h"
#include "ui/UsersPane.h"

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
    auto *file = menuBar()->addMenu(tr("&File"));
    file->addAction(readAction);
    file->addAction(tenantAction);
    file->addAction(diffAction);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    auto *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(findAction);
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
    // Plans live in the same state database as the command line's (certsync diff/approve/publish).
    const QString stateDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    QDir().mkpath(stateDir);
    setStatePath(QDir(stateDir).filePath(QStringLiteral("certsync.db")));
    connect(m_stagedPane, &StagedPane::publishRequested, this, &MainWindow::publish);
    connect(m_logPane, &LogPane::runChosen, this, &MainWindow::loadRun);
    addHelpMenu(this);
    resize(1280, 800);
    restoreWindowState();
}

MainWindow::~MainWindow()
{
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
    checkAuditTrail();
}

void MainWindow::checkAuditTrail()
{
    if (m_statePath.isEmpty() || !QFileInfo::exists(m_statePath))
        return;
    auto check = std::make_shared<engine::AuditCheck>();
    // The guards' settings as this console uses them go into the trail first when they changed.
    auto *job = new jobs::TaskJob(
        tr("audit trail"),
        [path = m_statePath, check, settings = config::guardSettings(m_configuration)](jobs::TaskJob &) {
            auto state = store::StateStore::open(path);
            if (!state)
                return state.error().message;
            engine::PlanStore plans(**state);
            if (auto recorded = plans.recordSettings(currentOperator().recorded(), settings); !recorded)
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
        statusBar()->showMessage(summary, 15000);
        logLine(jobs::LogRecord::Level::Info, tr("tenant read"), summary);
        emit tenantLoaded(true);
        matchTenant();
    });
    follow(job);
    m_runner.run(job);
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
    };
    auto out = std::make_shared<Matched>();
    const engine::PolicySettings policy = m_policy;
    // The engine's own matching, so that the helpdesk pairs users exactly as the diff does.
    auto *job =
        new jobs::TaskJob(tr("match users"), [directory, tenantSnapshot, policy, out](jobs::TaskJob &) {
            const QList<engine::PublishedUser> published = engine::publishedFromTenant(tenantSnapshot->users);
            const engine::UserMatches matches = engine::matchUsers(directory->users, published, policy);
            for (qsizetype d = 0; d < directory->users.size(); ++d) {
                const QString &dn = directory->users.at(d).dn;
                const int t = matches.tenantIndex.at(d);
                if (t < 0) {
                    out->column.insert(dn, models::TenantMatch::Unmatched);
                    continue;
                }
                out->byDn.insert(dn, { t, matches.method.at(d) });
                out->column.insert(dn,
                                   tenantSnapshot->users.at(t).user.isSynced() ? models::TenantMatch::Synced
                                                                               : models::TenantMatch::Cloud);
            }
            return QString();
        });
    connect(job, &jobs::Job::finished, this, [this, out, directory, tenantSnapshot](bool ok) {
        if (!ok || directory != m_users->snapshot() || tenantSnapshot != m_tenant)
            return; // newer data arrived meanwhile; its own matching follows
        m_matchByDn = std::move(out->byDn);
        m_matchedTenant = tenantSnapshot;
        m_users->setTenantMatches(out->column);
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
    if (!m_tenant) {
        statusBar()->showMessage(tr("Read Microsoft 365 first: the diff compares the directory with it."),
                                 10000);
        return;
    }
    // Both jobs run on the worker, one after the other: the diff hands its result straight to the
    // job that stores it (direct connection, same thread), which opens the state database there.
    auto diffResult = std::make_shared<std::shared_ptr<const engine::DiffResult>>();
    auto *diff = new engine::DiffJob(directory, m_tenant, m_policy);
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
    m_banner->hide();
    m_shownSnapshotIsStored = false;
    applySnapshot(snapshot);
    emit directoryLoaded(true);
    matchTenant();
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
    // helpdesk view) are re-analysed on a worker to show every chain element. The pane keeps
    // showing the previous user until the answer arrives: no flicker through an empty state.
    struct Shown
    {
        QList<certs::AnalyzedValue> directory;
        std::optional<QList<certs::AnalyzedValue>> published;
        QString note;
    };
    auto out = std::make_shared<Shown>();
    const directory::DirectoryUser copy = *user;
    const auto match = m_matchByDn.find(user->dn);
    const bool matched = match != m_matchByDn.cend();
    std::optional<tenant::TenantUser> tenantUser;
    if (matched)
        tenantUser = m_matchedTenant->users.at(match->first);
    if (!m_tenant)
        out->note = tr("Microsoft 365 has not been read yet.");
    else if (!m_matchedTenant)
        out->note = tr("Pairing the directory with Microsoft 365…");
    else if (!matched)
        out->note = tr("No Microsoft 365 user matches this directory user.");
    else
        out->note =
            tr("%1, matched by %2 (%3).")
                .arg(tenantUser->user.userPrincipalName, matchMethodText(match->second),
                     tenantUser->user.isSynced() ? tr("synced: Entra Connect carries its certificates")
                                                 : tr("cloud-mastered: certsync publishes to it"));
    auto *job = new jobs::TaskJob(
        tr("analyse user"), [analyzer = m_analyzer, trust = m_trust, copy, tenantUser, out](jobs::TaskJob &) {
            const QDateTime now = QDateTime::currentDateTimeUtc();
            out->directory =
                analyzer->analyzeUser(copy.userCertificate, copy.userSmimeCertificate, copy.context(), now);
            if (tenantUser) {
                if (tenantUser->recipient) {
                    certs::UserContext context;
                    context.mail = tenantUser->user.mail.isEmpty() ? copy.mail : tenantUser->user.mail;
                    out->published =
                        analyzer->analyzeUser(tenantUser->recipient->userCertificate,
                                              tenantUser->recipient->userSMimeCertificate, context, now);
                } else {
                    out->published = QList<certs::AnalyzedValue> {};
                    out->note += QLatin1Char(' ') + tr("It has no Exchange recipient: nothing is published.");
                }
            }
            return QString();
        });
    const QString title =
        user->displayName.isEmpty() ? user->dn : QStringLiteral("%1 — %2").arg(user->displayName, user->mail);
    connect(job, &jobs::Job::finished, this, [this, out, generation, title, sourceRow](bool ok) {
        if (!ok || generation != m_shownGeneration)
            return; // another user was selected meanwhile
        m_certificatePane->showUser(title, out->directory, out->published, out->note);
        emit userShown(sourceRow);
    });
    m_viewRunner.run(job);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
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
