#include "ui/MainWindow.h"

#include "models/LogModel.h"
#include "models/UsersModel.h"
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
#include <QLabel>
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
    connect(readAction, &QAction::triggered, this, &MainWindow::readDirectory);
    auto *findAction = new QAction(tr("&Find user"), this);
    findAction->setObjectName(QStringLiteral("actionFindUser"));
    findAction->setShortcut(QKeySequence::Find);
    connect(findAction, &QAction::triggered, this, [this] {
        m_tabs->setCurrentIndex(1);
        m_usersPane->focusSearch();
    });
    auto *file = menuBar()->addMenu(tr("&File"));
    file->addAction(readAction);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    auto *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(findAction);
    addSettingsAndExportActions(file, edit);
    auto *toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName(QStringLiteral("mainToolbar"));
    toolbar->addAction(readAction);

    statusBar()->addPermanentWidget(m_jobStatus);
    statusBar()->showMessage(tr("Ready"));

    connect(m_usersPane, &UsersPane::currentUserChanged, this, &MainWindow::showUser);
    // Plans live in the same state database as the command line's (certsync diff/approve/publish).
    const QString stateDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    QDir().mkpath(stateDir);
    if (const QString error =
            m_stagedPane->setStatePath(QDir(stateDir).filePath(QStringLiteral("certsync.db")));
        !error.isEmpty())
        statusBar()->showMessage(tr("The state database cannot be opened: %1").arg(error));
    connect(m_stagedPane, &StagedPane::publishRequested, this, [this](qint64 plan) {
        // Publishing from the console needs the tenant connection, which the settings dialog will
        // provide; until then the approved plan is published with `certsync publish`.
        statusBar()->showMessage(tr("Plan %1 is approved. Publish it with: certsync publish %1 (the "
                                    "console's tenant settings are not "
                                    "available yet).")
                                     .arg(plan),
                                 30000);
    });
    resize(1280, 800);
    restoreWindowState();
}

MainWindow::~MainWindow() = default;

void MainWindow::setDirectorySettings(const directory::DirectoryReadSettings &settings)
{
    m_directorySettings = settings;
    m_analyzer = settings.trust
        ? std::make_unique<certs::ValueAnalyzer>(*settings.trust, certs::CertificateJudge(settings.policy))
        : nullptr;
}

void MainWindow::setTenantSettings(const std::optional<tenant::TenantSettings> &settings)
{
    m_tenantSettings = settings;
}

void MainWindow::setPolicy(const engine::PolicySettings &policy)
{
    m_policy = policy;
}

void MainWindow::appendLog(const jobs::LogRecord &record)
{
    m_log->append(record);
}

void MainWindow::readDirectory()
{
    if (!m_directorySettings) {
        statusBar()->showMessage(tr("No directory is configured. Start with --demo to try the built-in one."),
                                 10000);
        return;
    }
    if (m_runner.isBusy()) {
        statusBar()->showMessage(tr("A job is already running."), 5000);
        return;
    }
    auto *job = new directory::DirectoryReadJob(*m_directorySettings);
    connect(job, &jobs::Job::logRecord, this, &MainWindow::appendLog);
    connect(job, &directory::DirectoryReadJob::snapshotReady, this, &MainWindow::onSnapshot);
    connect(job, &jobs::Job::finished, this, [this](bool ok, const QString &summary) {
        statusBar()->showMessage(ok ? summary : tr("Directory read stopped: %1").arg(summary), 15000);
    });
    m_jobStatus->follow(job);
    statusBar()->clearMessage();
    m_runner.run(job);
}

void MainWindow::onSnapshot(const std::shared_ptr<directory::DirectorySnapshot> &snapshot)
{
    if (!snapshot->complete) {
        // An incomplete read must never look like the whole directory.
        m_banner->setText(tr("The last directory read is incomplete (%1). Showing what was read before it.")
                              .arg(snapshot->error.message));
        m_banner->show();
        emit directoryLoaded(false);
        return;
    }
    m_banner->hide();
    m_users->setSnapshot(snapshot, QDateTime::currentDateTimeUtc());
    m_dashboard->setSnapshot(*snapshot, QDateTime::currentDateTimeUtc());
    m_certificatePane->clear();
    emit directoryLoaded(true);
}

void MainWindow::showUser(int sourceRow)
{
    const directory::DirectoryUser *user = m_users->user(sourceRow);
    if (!user || !m_analyzer) {
        m_certificatePane->clear();
        return;
    }
    // The snapshot keeps verdicts but not whole chains; one user's values are re-analysed here
    // (a few certificates: about a millisecond) to show every chain element.
    const QList<certs::AnalyzedValue> values = m_analyzer->analyzeUser(
        user->userCertificate, user->userSmimeCertificate, user->context(), QDateTime::currentDateTimeUtc());
    const QString title =
        user->displayName.isEmpty() ? user->dn : QStringLiteral("%1 — %2").arg(user->displayName, user->mail);
    m_certificatePane->showUser(title, values, std::nullopt, tr("Microsoft 365 has not been read yet."));
}

void MainWindow::closeEvent(QCloseEvent *event)
{
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
