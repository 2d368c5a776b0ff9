// The console driven as a person drives it, on the offscreen platform, against the real slapd fixture:
// read the directory, find and select a user, see the chain, filter the log, export it, cancel a job.
// Saves a screenshot of every pane into the build tree (CERTSYNC_SCREENSHOTS, default ./screenshots).
#include "certs/TrustStore.h"
#include "models/CertificateTreeModel.h"
#include "models/LogModel.h"
#include "models/UserFilterProxy.h"
#include "models/UsersModel.h"
#include "report/CsvWriter.h"
#include "ui/CertificatePane.h"
#include "ui/LogPane.h"
#include "ui/MainWindow.h"
#include "ui/UsersPane.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QToolButton>
#include <QTreeView>

using namespace certsync;

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

private:
    void loadDirectory();
    void screenshot(const QString &name);
    QHash<QString, QString> m_env;
    QJsonArray m_manifestUsers;
    directory::DirectoryReadSettings m_settings;
    std::unique_ptr<ui::MainWindow> m_window;
    QString m_shots;
};

void TestGui::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true); // settings and the state database away from the real ones
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
    m_window = std::make_unique<ui::MainWindow>();
    m_window->setDirectorySettings(m_settings);
    m_window->resize(1400, 860);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
}

void TestGui::cleanup()
{
    m_window.reset();
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

QTEST_MAIN(TestGui)
#include "tst_gui.moc"
