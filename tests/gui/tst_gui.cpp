// The console driven as a person drives it, on the offscreen platform, against the real slapd fixture:
// read the directory, find and select a user, see the chain, filter the log, export it, cancel a job.
// Saves a screenshot of every pane into the build tree (CERTSYNC_SCREENSHOTS, default ./screenshots).
#include "certs/TrustStore.h"
#include "core/Operator.h"
#include "models/CertificateTreeModel.h"
#include "models/LogModel.h"
#include "models/UserFilterProxy.h"
#include "models/UsersModel.h"
#include "report/CsvWriter.h"
#include "store/StateStore.h"
#include "ui/CertificatePane.h"
#include "ui/LogPane.h"
#include "ui/MainWindow.h"
#include "ui/UsersPane.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSqlQuery>

#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QToolButton>
#include <QTreeView>
#include <QUrl>
#include <algorithm>

using namespace certsync;

namespace {

// A TCP relay between the console and slapd that can stop answering: connections made while it
// holds are accepted and left waiting (a directory that hangs) until release() relays them.
class HoldingRelay : public QObject
{
public:
    HoldingRelay(const QString &host, quint16 port)
        : m_host(host)
        , m_port(port)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *client = m_server.nextPendingConnection()) {
                client->setParent(this);
                if (m_holding)
                    m_held.append(client);
                else
                    relay(client);
            }
        });
        m_server.listen(QHostAddress::LocalHost);
    }
    [[nodiscard]] quint16 port() const { return m_server.serverPort(); }
    void hold() { m_holding = true; }
    void release()
    {
        m_holding = false;
        for (QTcpSocket *client : std::exchange(m_held, {}))
            relay(client);
    }

private:
    void relay(QTcpSocket *client)
    {
        auto *upstream = new QTcpSocket(this);
        auto pump = [](QTcpSocket *from, QTcpSocket *to) {
            if (to->state() == QAbstractSocket::ConnectedState)
                to->write(from->readAll());
        };
        connect(client, &QTcpSocket::readyRead, upstream, [=] { pump(client, upstream); });
        connect(upstream, &QTcpSocket::readyRead, client, [=] { pump(upstream, client); });
        connect(upstream, &QTcpSocket::connected, client, [=] { pump(client, upstream); });
        connect(client, &QTcpSocket::disconnected, upstream, &QTcpSocket::disconnectFromHost);
        connect(upstream, &QTcpSocket::disconnected, client, &QTcpSocket::disconnectFromHost);
        upstream->connectToHost(m_host, m_port);
    }

    QTcpServer m_server;
    QString m_host;
    quint16 m_port;
    bool m_holding = false;
    QList<QTcpSocket *> m_held;
};

} // namespace

class TestGui : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void readSelectAndSeeTheChain();
    void filterAndExportTheLog();
    void cancelARunningRead();
    void storedUsersFirstThenTheRefresh();
    void runHistoryOfTheCommandLine();

private:
    void openWindow(const directory::DirectoryReadSettings &settings);
    void loadDirectory();
    void screenshot(const QString &name);
    QHash<QString, QString> m_env;
    QJsonArray m_manifestUsers;
    directory::DirectoryReadSettings m_settings;
    std::unique_ptr<ui::MainWindow> m_window;
    QString m_shots;
    std::unique_ptr<QTemporaryDir> m_stateDir; // each test's own state database
};

void TestGui::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true); // settings and the state database away from the real ones
    // A state database left by an earlier run (or another branch's schema) is not this run's.
    QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).removeRecursively();
    const QString envPath = qEnvironmentVariable("CERTSYNC_DIRECTORY_ENV");
    QFile envFile(envPath);
    QVERIFY2(envFile.open(QIODevice::ReadOnly),
             qPrintable(QStringLiteral("no fixture environment at '%1'").arg(envPath)));
    while (!envFile.atEnd()) {
        const QString line = QString::fromUtf8(envFile.readLine()).trimmed();
        if (const qsizetype eq = line.indexOf(QLatin1Char('=')); eq > 0)
            m_env.insert(line.left(eq), line.mid(eq + 1));
    }
    QFile manifest(m_env.value(QStringLiteral("MANIFEST")));
    QVERIFY(manifest.open(QIODevice::ReadOnly));
    m_manifestUsers =
        QJsonDocument::fromJson(manifest.readAll()).object().value(QStringLiteral("users")).toArray();
    QVERIFY(m_manifestUsers.size() > 20);

    certs::TrustSettings trust;
    trust.bundleFiles = { m_env.value(QStringLiteral("TRUST_FILE")) };
    trust.crlFiles = { m_env.value(QStringLiteral("CRL_FILE")) };
    auto store = certs::TrustStore::load(trust);
    QVERIFY(store.ok());
    m_settings.profile.kind = directory::SourceKind::GenericLdap;
    m_settings.profile.mapping = directory::AttributeMapping::defaults(directory::SourceKind::GenericLdap);
    m_settings.profile.url = m_env.value(QStringLiteral("LDAPS_URL"));
    m_settings.profile.baseDn = m_env.value(QStringLiteral("BASE_DN"));
    m_settings.profile.bindDn = m_env.value(QStringLiteral("READER_DN"));
    m_settings.profile.caFile = m_env.value(QStringLiteral("CA_FILE"));
    m_settings.password = m_env.value(QStringLiteral("READER_PASSWORD"));
    m_settings.trust = std::make_shared<const certs::TrustStore>(std::move(store).value());

    m_shots =
        qEnvironmentVariable("CERTSYNC_SCREENSHOTS", QDir::currentPath() + QStringLiteral("/screenshots"));
    QVERIFY(QDir().mkpath(m_shots));
}

void TestGui::init()
{
    QSettings().clear(); // no remembered window state between tests
    m_stateDir = std::make_unique<QTemporaryDir>();
    openWindow(m_settings);
}

void TestGui::openWindow(const directory::DirectoryReadSettings &settings)
{
    m_window = std::make_unique<ui::MainWindow>();
    m_window->setStatePath(m_stateDir->filePath(QStringLiteral("certsync.db")));
    m_window->setDirectorySettings(settings);
    m_window->resize(1400, 860);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
}

void TestGui::cleanup()
{
    m_window.reset();
    m_stateDir.reset();
}

void TestGui::screenshot(const QString &name)
{
    QApplication::processEvents();
    const QString path = m_shots + QLatin1Char('/') + name + QStringLiteral(".png");
    QVERIFY2(m_window->grab().save(path), qPrintable(path));
}

void TestGui::loadDirectory()
{
    QSignalSpy loaded(m_window.get(), &ui::MainWindow::directoryLoaded);
    m_window->findChild<QAction *>(QStringLiteral("actionReadDirectory"))->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 30000);
    QCOMPARE(loaded.first().at(0).toBool(), true);
    QTRY_VERIFY(!m_window->isBusy());
}

void TestGui::readSelectAndSeeTheChain()
{
    loadDirectory();
    // Every seeded user is there; the only others are the fixture's service accounts.
    const models::UsersModel *users = m_window->usersModel();
    for (const QJsonValue &user : std::as_const(m_manifestUsers)) {
        const QString dn = user.toObject().value(QStringLiteral("dn")).toString();
        QVERIFY2(users->rowOfDn(dn) >= 0, qPrintable(dn));
    }
    QCOMPARE(users->rowCount(), int(m_manifestUsers.size()) + 2);
    QVERIFY(users->rowOfDn(m_env.value(QStringLiteral("READER_DN"))) >= 0);
    QVERIFY(users->rowOfDn(m_env.value(QStringLiteral("LIMITED_DN"))) >= 0);
    auto *tabs = m_window->findChild<QTabWidget *>(QStringLiteral("mainTabs"));
    tabs->setCurrentIndex(0);
    QVERIFY(m_window->findChild<QLabel *>(QStringLiteral("dashboardSummary"))
                ->text()
                .contains(QStringLiteral("%1 users").arg(m_manifestUsers.size() + 2)));
    screenshot(QStringLiteral("dashboard"));

    tabs->setCurrentIndex(1);
    auto *table = m_window->findChild<QTableView *>(QStringLiteral("usersTable"));
    auto *search = m_window->findChild<QLineEdit *>(QStringLiteral("userSearch"));
    QTest::keyClicks(search, QStringLiteral("outlook@"));
    QTRY_COMPARE(table->model()->rowCount(), 1);
    const QModelIndex first = table->model()->index(0, models::UsersModel::DisplayName);
    table->scrollTo(first);
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualRect(first).center());
    auto *title = m_window->findChild<QLabel *>(QStringLiteral("certificateTitle"));
    QTRY_VERIFY2(title->text().contains(QStringLiteral("outlook")), qPrintable(title->text()));

    // The userSMIMECertificate value is an Outlook-style bag; its chain runs leaf to anchor.
    auto *tree = m_window->findChild<QTreeView *>(QStringLiteral("directoryTree"));
    const QAbstractItemModel *model = tree->model();
    const QModelIndex smime = model->index(1, 0);
    QVERIFY2(smime.data().toString().startsWith(QStringLiteral("userSMIMECertificate")),
             qPrintable(smime.data().toString()));
    QVERIFY(model->rowCount(smime) >= 1);
    const QModelIndex value = model->index(0, 0, smime);
    QVERIFY2(value.data().toString().contains(QStringLiteral("pkcs7")), qPrintable(value.data().toString()));
    QVERIFY(model->rowCount(value) >= 2);
    QVERIFY(model->index(0, 0, value).data().toString().startsWith(QStringLiteral("leaf: ")));
    QVERIFY(model->index(model->rowCount(value) - 1, 0, value)
                .data()
                .toString()
                .startsWith(QStringLiteral("root (trust anchor): ")));
    tree->expand(value);
    tree->setCurrentIndex(value);
    auto *details = m_window->findChild<QTextBrowser *>(QStringLiteral("certificateDetails"));
    QTRY_VERIFY(details->toPlainText().contains(QStringLiteral("SHA-256")));
    QVERIFY(m_window->findChild<QPushButton *>(QStringLiteral("copyFingerprint"))->isEnabled());
    screenshot(QStringLiteral("users-and-certificates"));

    // Status chips: hiding errors removes the expired user.
    QTest::mouseClick(search, Qt::LeftButton);
    search->clear();
    QTest::keyClicks(search, QStringLiteral("expired@"));
    QTRY_COMPARE(table->model()->rowCount(), 1);
    QTest::mouseClick(m_window->findChild<QToolButton *>(QStringLiteral("chipError")), Qt::LeftButton);
    QTRY_COMPARE(table->model()->rowCount(), 0);
}

void TestGui::filterAndExportTheLog()
{
    loadDirectory();
    auto *tabs = m_window->findChild<QTabWidget *>(QStringLiteral("mainTabs"));
    tabs->setCurrentIndex(3);
    auto *table = m_window->findChild<QTableView *>(QStringLiteral("logTable"));
    QVERIFY(table->model()->rowCount() > 0);
    const int all = table->model()->rowCount();
    QTest::mouseClick(m_window->findChild<QToolButton *>(QStringLiteral("logShowInfo")), Qt::LeftButton);
    QVERIFY(table->model()->rowCount() < all);
    QTest::mouseClick(m_window->findChild<QToolButton *>(QStringLiteral("logShowInfo")), Qt::LeftButton);
    QCOMPARE(table->model()->rowCount(), all);
    table->selectRow(0);
    auto *details = m_window->findChild<QPlainTextEdit *>(QStringLiteral("logDetails"));
    QTRY_VERIFY(details->toPlainText().contains(QStringLiteral("Job: ")));
    screenshot(QStringLiteral("log"));

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("log.csv"));
    QCOMPARE(m_window->logPane()->exportCsv(path), QString());
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QStringList> rows = report::parseCsv(file.readAll());
    QCOMPARE(rows.size(), all + 1);
    QCOMPARE(rows.first().first(), QStringLiteral("time"));
    QCOMPARE(rows.at(1).at(2), table->model()->index(0, models::LogModel::Job).data().toString());
}

void TestGui::cancelARunningRead()
{
    auto *cancel = m_window->findChild<QPushButton *>(QStringLiteral("cancelJob"));
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isBusy(), 30000); // nothing left over from the tests before
    const int logged = m_window->logModel()->rowCount();
    m_window->readDirectory();
    QVERIFY(cancel->isVisible());
    QTest::mouseClick(cancel, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isBusy(), 30000);
    QVERIFY(!cancel->isVisible());
    // The status bar says so too, but its message goes at the next status tip (the mouse is over the
    // window): the log is where a person finds why the read stopped.
    QStringList messages;
    for (int row = logged; row < m_window->logModel()->rowCount(); ++row)
        messages.append(m_window->logModel()->record(row).message);
    QVERIFY2(std::any_of(messages.cbegin(), messages.cend(),
                         [](const QString &m) {
                             return m.startsWith(QStringLiteral("Directory read stopped: "))
                                 && m.contains(QStringLiteral("cancel"));
                         }),
             qPrintable(messages.join(QLatin1Char('\n'))));
    QCOMPARE(m_window->usersModel()->rowCount(), 0); // a canceled read is never shown as the directory
}

// The issue's instant start: a console started on a filled state database shows the stored users
// while the directory does not answer, then the refresh applies and the selected user stays. What
// the table shows comes from the stored summaries, not from judging the stored values again: the
// analysis cache is emptied and the console opens with a trust that anchors nothing (judged again, every
// certificate would be untrusted), yet each user shows the status it was stored with until the refresh.
void TestGui::storedUsersFirstThenTheRefresh()
{
    const QUrl url(m_settings.profile.url);
    HoldingRelay relay(url.host(), quint16(url.port()));
    QVERIFY(relay.port() > 0);
    directory::DirectoryReadSettings relayed = m_settings;
    QUrl relayUrl = url;
    relayUrl.setPort(relay.port());
    relayed.profile.url = relayUrl.toString();
    m_window->setDirectorySettings(relayed);
    loadDirectory(); // through the relay: the state database keeps this read
    QSignalSpy recorded(m_window.get(), &ui::MainWindow::runRecorded);
    QTRY_VERIFY(!recorded.isEmpty() || m_window->logPane()->runPicker()->count() > 1);
    const int users = m_window->usersModel()->rowCount();
    QCOMPARE(users, int(m_manifestUsers.size()) + 2);
    const auto statuses = [this] {
        QHash<QString, int> byDn;
        const models::UsersModel *model = m_window->usersModel();
        for (int row = 0; row < model->rowCount(); ++row)
            byDn.insert(model->user(row)->dn, int(model->status(row)));
        return byDn;
    };
    const QHash<QString, int> stored = statuses();
    QVERIFY(std::count(stored.cbegin(), stored.cend(), int(certs::Status::Error)) < users);
    m_window.reset();
    {
        auto state = store::StateStore::open(m_stateDir->filePath(QStringLiteral("certsync.db")));
        QVERIFY(state.ok());
        QSqlQuery q((*state)->database());
        QVERIFY(q.exec(QStringLiteral("DELETE FROM analysis_cache")));
    }
    auto noAnchors = certs::TrustStore::load({});
    QVERIFY(noAnchors.ok());
    relayed.trust = std::make_shared<const certs::TrustStore>(std::move(noAnchors).value());

    relay.hold(); // the directory stops answering
    openWindow(relayed);
    QSignalSpy shown(m_window.get(), &ui::MainWindow::storedDirectoryShown);
    QSignalSpy loaded(m_window.get(), &ui::MainWindow::directoryLoaded);
    m_window->startFromState();
    QTRY_COMPARE_WITH_TIMEOUT(shown.count(), 1, 30000);
    QCOMPARE(shown.first().at(0).toInt(), users);
    QCOMPARE(m_window->usersModel()->rowCount(), users);
    QCOMPARE(statuses(), stored); // as stored, nothing judged again
    QVERIFY(m_window->isBusy()); // the read waits for the directory
    QCOMPARE(loaded.count(), 0);
    auto *banner = m_window->findChild<QLabel *>(QStringLiteral("banner"));
    QVERIFY(banner->isVisible());
    QVERIFY2(banner->text().contains(QStringLiteral("as read at")), qPrintable(banner->text()));
    // Filterable at once, and a user can be opened.
    auto *tabs = m_window->findChild<QTabWidget *>(QStringLiteral("mainTabs"));
    tabs->setCurrentIndex(1);
    auto *table = m_window->findChild<QTableView *>(QStringLiteral("usersTable"));
    auto *search = m_window->findChild<QLineEdit *>(QStringLiteral("userSearch"));
    QTest::keyClicks(search, QStringLiteral("outlook@"));
    QTRY_COMPARE(table->model()->rowCount(), 1);
    const QModelIndex first = table->model()->index(0, models::UsersModel::DisplayName);
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualRect(first).center());
    auto *title = m_window->findChild<QLabel *>(QStringLiteral("certificateTitle"));
    QTRY_VERIFY2(title->text().contains(QStringLiteral("outlook")), qPrintable(title->text()));
    const auto dnAt = [this](const QModelIndex &index) {
        const directory::DirectoryUser *user =
            m_window->usersModel()->user(index.data(models::UsersModel::UserIndexRole).toInt());
        return user ? user->dn : QString();
    };
    const QString selectedDn = dnAt(first);
    QVERIFY(!selectedDn.isEmpty());
    screenshot(QStringLiteral("stored-snapshot"));

    relay.release(); // the directory answers: the refresh applies
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 60000);
    QCOMPARE(loaded.first().at(0).toBool(), true);
    QVERIFY(!banner->isVisible());
    QCOMPARE(m_window->usersModel()->rowCount(), users);
    QCOMPARE(table->model()->rowCount(), 1); // the filter stays
    QTRY_VERIFY(table->currentIndex().isValid());
    QCOMPARE(dnAt(table->currentIndex()), selectedDn);
    QVERIFY(statuses() != stored); // judged by the read, under the trust configured now
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isBusy(), 30000);
}

// A run made by the command line is in the console's run history, with its log, and no secret is
// in the state database; `certsync runs` and `certsync log RUN` show the same run headless.
void TestGui::runHistoryOfTheCommandLine()
{
    const QString cli = qEnvironmentVariable("CERTSYNC_CLI");
    QVERIFY2(QFileInfo(cli).isExecutable(), qPrintable(cli));
    const QString password = m_settings.password;
    QVERIFY(password.size() >= 4);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("CERTSYNC_READER_PW"), password);
    env.insert(QStringLiteral("CERTSYNC_CONFIG"), m_stateDir->filePath(QStringLiteral("none.ini")));
    auto runCli = [&](const QStringList &arguments, QByteArray *out = nullptr) {
        QProcess p;
        p.setProcessEnvironment(env);
        p.start(cli, arguments);
        const bool done = p.waitForFinished(120000);
        if (out)
            *out = p.readAllStandardOutput();
        const QByteArray err = p.readAllStandardError();
        if (!err.isEmpty())
            qInfo().noquote() << "certsync" << arguments.first() << "stderr:" << err;
        return done && p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    };
    const QStringList connection = {
        QStringLiteral("--ldap-url"),     m_settings.profile.url,
        QStringLiteral("--base-dn"),      m_settings.profile.baseDn,
        QStringLiteral("--bind-dn"),      m_settings.profile.bindDn,
        QStringLiteral("--password-env"), QStringLiteral("CERTSYNC_READER_PW"),
        QStringLiteral("--ca-file"),      m_settings.profile.caFile,
        QStringLiteral("--trust"),        m_env.value(QStringLiteral("TRUST_FILE")),
        QStringLiteral("--state-dir"),    m_stateDir->path(),
        QStringLiteral("--profile"),      QStringLiteral("ldap"),
    };
    QCOMPARE(runCli(QStringList { QStringLiteral("inventory"), QStringLiteral("--csv"),
                                  m_stateDir->filePath(QStringLiteral("inventory.csv")) }
                    + connection),
             0);
    // A failed run is recorded with its reason.
    QStringList wrongBase = connection;
    wrongBase[3] = QStringLiteral("ou=nowhere,") + m_settings.profile.baseDn;
    QCOMPARE(runCli(QStringList { QStringLiteral("inventory"), QStringLiteral("--csv"),
                                  m_stateDir->filePath(QStringLiteral("nowhere.csv")) }
                    + wrongBase),
             1);

    QByteArray out;
    QCOMPARE(runCli({ QStringLiteral("runs"), QStringLiteral("--json"), QStringLiteral("--state-dir"),
                      m_stateDir->path() },
                    &out),
             0);
    const QJsonArray runs = QJsonDocument::fromJson(out).array();
    QCOMPARE(runs.size(), 2);
    const QJsonObject failed = runs.at(0).toObject(); // latest first
    const QJsonObject inventory = runs.at(1).toObject();
    QCOMPARE(inventory.value(QStringLiteral("command")).toString(), QStringLiteral("inventory"));
    QCOMPARE(inventory.value(QStringLiteral("outcome")).toString(), QStringLiteral("success"));
    // The account that ran it, as the OS says (no name from the environment).
    QCOMPARE(inventory.value(QStringLiteral("who")).toString(), certsync::currentOperator().recorded());
    QCOMPARE(inventory.value(QStringLiteral("origin")).toString(), QStringLiteral("cli"));
    QCOMPARE(inventory.value(QStringLiteral("figures")).toObject().value(QStringLiteral("users")).toInt(),
             int(m_manifestUsers.size()) + 2);
    QCOMPARE(failed.value(QStringLiteral("outcome")).toString(), QStringLiteral("failure"));
    const int failedId = failed.value(QStringLiteral("run")).toInt();
    QCOMPARE(runCli({ QStringLiteral("log"), QString::number(failedId), QStringLiteral("--json"),
                      QStringLiteral("--state-dir"), m_stateDir->path() },
                    &out),
             0);
    const QJsonArray log = QJsonDocument::fromJson(out).object().value(QStringLiteral("log")).toArray();
    QVERIFY(!log.isEmpty());
    const QJsonObject last = log.last().toObject();
    QCOMPARE(last.value(QStringLiteral("level")).toString(), QStringLiteral("error"));
    QVERIFY(!last.value(QStringLiteral("message")).toString().isEmpty());
    QCOMPARE(failed.value(QStringLiteral("summary")).toString(),
             last.value(QStringLiteral("message")).toString());
    QCOMPARE(runCli({ QStringLiteral("log"), QStringLiteral("99"), QStringLiteral("--state-dir"),
                      m_stateDir->path() }),
             1);
    QCOMPARE(runCli({ QStringLiteral("log"), QStringLiteral("x"), QStringLiteral("--state-dir"),
                      m_stateDir->path() }),
             2);

    // The console lists both runs (latest first, after this session) and shows a chosen run's log.
    m_window->refreshRuns();
    QComboBox *picker = m_window->logPane()->runPicker();
    QTRY_COMPARE(picker->count(), 3);
    QCOMPARE(picker->itemData(1).toInt(), failedId);
    QVERIFY2(picker->itemText(2).contains(QStringLiteral("inventory")), qPrintable(picker->itemText(2)));
    auto *tabs = m_window->findChild<QTabWidget *>(QStringLiteral("mainTabs"));
    tabs->setCurrentIndex(3);
    auto *logTable = m_window->findChild<QTableView *>(QStringLiteral("logTable"));
    picker->setCurrentIndex(1);
    QTRY_COMPARE(logTable->model()->rowCount(), int(log.size()));
    QCOMPARE(m_window->logPane()->shownRun(), qint64(failedId));
    // Its CSV export is that run's log.
    const QString csvPath = m_stateDir->filePath(QStringLiteral("run-log.csv"));
    QCOMPARE(m_window->logPane()->exportCsv(csvPath), QString());
    QFile csv(csvPath);
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QCOMPARE(report::parseCsv(csv.readAll()).size(), int(log.size()) + 1);
    screenshot(QStringLiteral("log-run-history"));
    picker->setCurrentIndex(0);
    QCOMPARE(m_window->logPane()->shownRun(), qint64(0));

    // The bind password is nowhere in the state database's files.
    for (const QString &name :
         QDir(m_stateDir->path()).entryList({ QStringLiteral("certsync.db*") }, QDir::Files)) {
        QFile file(m_stateDir->filePath(name));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY2(!file.readAll().contains(password.toUtf8()), qPrintable(name));
    }
}

QTEST_MAIN(TestGui)
#include "tst_gui.moc"
