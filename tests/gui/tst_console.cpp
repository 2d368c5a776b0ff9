// The console doing every job of the product without the command line, as in the README's demo:
// the demo launcher starts the seeded slapd and certsync-tenantsim (real servers, TLS verified) and
// the window reads both; the helpdesk view shows one user's directory and Microsoft 365 sides; Diff
// stages a plan; two items are approved by clicking their check boxes; Publish writes them through
// the simulator and the Log pane shows the request-ids; a running job is cancelled. The same window
// in a dark palette is checked for readable text and status colours. Screenshots go to
// CERTSYNC_SCREENSHOTS (console-*.png, console-dark-*.png).
#include "ItemViewClicks.h"
#include "core/Operator.h"
#include "engine/Diff.h"
#include "engine/PlanStore.h"
#include "models/CertificateTreeModel.h"
#include "models/LogModel.h"
#include "models/PlanModels.h"
#include "models/StatusPresentation.h"
#include "models/UsersModel.h"
#include "ui/CertificatePane.h"
#include "ui/DemoLauncher.h"
#include "ui/LogPane.h"
#include "ui/MainWindow.h"
#include "ui/SmimeCollectionDialog.h"
#include "ui/StagedPane.h"
#include "ui/VerdictPanel.h"

#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QElapsedTimer>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyle>
#include <QStyleFactory>
#include <QStyleOptionViewItem>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QTextDocumentFragment>
#include <QTreeView>

#include <cmath>

using namespace certsync;

namespace {

constexpr int ServerTimeoutMs = 180000; // seeding and starting slapd on a busy machine

// WCAG 2 contrast ratio of two colours (1 to 21).
double contrast(const QColor &a, const QColor &b)
{
    auto luminance = [](const QColor &c) {
        auto channel = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF());
    };
    const double x = luminance(a), y = luminance(b);
    return (std::max(x, y) + 0.05) / (std::min(x, y) + 0.05);
}

QPalette darkPalette()
{
    QPalette p;
    p.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
    p.setColor(QPalette::WindowText, QColor(0xe6, 0xe6, 0xe6));
    p.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
    p.setColor(QPalette::AlternateBase, QColor(0x26, 0x26, 0x26));
    p.setColor(QPalette::Text, QColor(0xe6, 0xe6, 0xe6));
    p.setColor(QPalette::Button, QColor(0x35, 0x35, 0x35));
    p.setColor(QPalette::ButtonText, QColor(0xe6, 0xe6, 0xe6));
    p.setColor(QPalette::ToolTipBase, QColor(0x35, 0x35, 0x35));
    p.setColor(QPalette::ToolTipText, QColor(0xe6, 0xe6, 0xe6));
    p.setColor(QPalette::PlaceholderText, QColor(0x9a, 0x9a, 0x9a));
    p.setColor(QPalette::Highlight, QColor(0x2f, 0x65, 0xca));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x7a, 0xb7, 0xff));
    p.setColor(QPalette::Mid, QColor(0x50, 0x50, 0x50));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x80, 0x80, 0x80));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x80, 0x80, 0x80));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x80, 0x80, 0x80));
    return p;
}

} // namespace

class TestConsole : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void tenantNotConfiguredSaysSo();
    void storedTenantAtStart();
    void storedSummariesOfAnOlderFormat();
    void bothSidesOfAUser();
    void verdictOfAGoodAndABadUser();
    void enterLooksAnUnloadedUserUp();
    void smimeCollectionShown();
    void diffApproveAndPublish();
    void verdictNamesThePlan();
    void cancelARunningTenantRead();
    void darkPaletteIsReadable();
    void demoStartShowsProgressAndCancels();

private:
    void screenshots(const QString &prefix);
    void setTenantLatency(int ms);
    void selectUser(const QString &mail);
    // The mail of the seeded catalogue user `name` ("good-rsa", "expired", ...).
    QString catalogueMail(const QString &name) const;
    // What Microsoft 365 holds for the directory user with this mail (the engine's pairing).
    std::optional<engine::PublishedUser> publishedFor(const QString &mail) const;

    QTemporaryDir m_demoDir;
    std::unique_ptr<ui::MainWindow> m_window;
    std::unique_ptr<ui::DemoLauncher> m_demo;
    QString m_shots;
    QTabWidget *m_tabs = nullptr;
    qint64 m_plan = 0; // staged and partly published by diffApproveAndPublish
};

void TestConsole::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true); // settings away from the real ones
    // A state database left by an earlier run (or another branch's schema) is not this run's.
    QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).removeRecursively();
    QSettings().clear();
    certsync::testing::setOperatorForTests(QStringLiteral("console-author"));
    m_shots =
        qEnvironmentVariable("CERTSYNC_SCREENSHOTS", QDir::currentPath() + QStringLiteral("/screenshots"));
    QVERIFY(QDir().mkpath(m_shots));
    QVERIFY(m_demoDir.isValid());

    m_window = std::make_unique<ui::MainWindow>();
    m_window->resize(1400, 860);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_tabs = m_window->findChild<QTabWidget *>(QStringLiteral("mainTabs"));
    m_demo = std::make_unique<ui::DemoLauncher>(m_window.get(), QStringLiteral(CERTSYNC_DEMO_SCRIPTS),
                                                QStringLiteral(CERTSYNC_DEMO_SEEDER),
                                                QStringLiteral(CERTSYNC_DEMO_TENANTSIM));
    QSignalSpy ready(m_demo.get(), &ui::DemoLauncher::ready);
    QSignalSpy failed(m_demo.get(), &ui::DemoLauncher::failed);
    QSignalSpy matched(m_window.get(), &ui::MainWindow::tenantMatched);
    m_demo->start(12, m_demoDir.path());
    QTRY_VERIFY_WITH_TIMEOUT(ready.count() == 1 || failed.count() > 0, ServerTimeoutMs);
    QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(0).toString()));
    QTRY_VERIFY_WITH_TIMEOUT(matched.count() >= 1, 30000);
    QTRY_VERIFY(!m_window->isBusy());
    // The demo's plans live in its own folder, never in the person's state database.
    QVERIFY2(m_window->statePath().startsWith(m_demoDir.path()), qPrintable(m_window->statePath()));
    QVERIFY(m_window->tenantSettings().has_value());
    QVERIFY(!m_window->tenantSettings()->caFile.isEmpty()); // TLS verified against the simulator's CA
}

void TestConsole::cleanupTestCase()
{
    m_demo.reset(); // stops the simulator and slapd
    m_window.reset();
}

void TestConsole::screenshots(const QString &prefix)
{
    const QStringList names = { QStringLiteral("dashboard"), QStringLiteral("users-and-certificates"),
                                QStringLiteral("staged-changes"), QStringLiteral("log") };
    const int current = m_tabs->currentIndex();
    for (int i = 0; i < names.size(); ++i) {
        m_tabs->setCurrentIndex(i);
        QApplication::processEvents();
        const QString path = m_shots + QLatin1Char('/') + prefix + names.at(i) + QStringLiteral(".png");
        QVERIFY2(m_window->grab().save(path), qPrintable(path));
    }
    m_tabs->setCurrentIndex(current);
}

void TestConsole::selectUser(const QString &mail)
{
    m_tabs->setCurrentIndex(1);
    auto *search = m_window->findChild<QLineEdit *>(QStringLiteral("userSearch"));
    auto *table = m_window->findChild<QTableView *>(QStringLiteral("usersTable"));
    search->clear();
    QTest::keyClicks(search, mail);
    QTRY_COMPARE(table->model()->rowCount(), 1);
    QSignalSpy shown(m_window.get(), &ui::MainWindow::userShown);
    const QModelIndex first = table->model()->index(0, models::UsersModel::DisplayName);
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualRect(first).center());
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() >= 1, 20000);
}

// The demo's start-up (seeding and starting slapd: seconds to minutes) is a job: the status bar
// names it with Cancel, and Cancel stops it, its seeder included, without a directory set.
void TestConsole::demoStartShowsProgressAndCancels()
{
    QTemporaryDir dir; // nothing to reuse: the seeder runs
    QVERIFY(dir.isValid());
    ui::MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    ui::DemoLauncher demo(&window, QStringLiteral(CERTSYNC_DEMO_SCRIPTS),
                          QStringLiteral(CERTSYNC_DEMO_SEEDER), QStringLiteral(CERTSYNC_DEMO_TENANTSIM));
    QSignalSpy ready(&demo, &ui::DemoLauncher::ready);
    QSignalSpy failed(&demo, &ui::DemoLauncher::failed);
    demo.start(12, dir.path());
    auto *label = window.findChild<QLabel *>(QStringLiteral("jobLabel"));
    auto *cancel = window.findChild<QPushButton *>(QStringLiteral("cancelJob"));
    QVERIFY(label && cancel);
    QTRY_VERIFY2(label->isVisible() && label->text().contains(QStringLiteral("Starting the demo directory")),
                 qPrintable(label->text()));
    QVERIFY(failed.isEmpty());
    QTest::mouseClick(cancel, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 20000);
    QVERIFY2(failed.first().at(0).toString().contains(QStringLiteral("cancel")),
             qPrintable(failed.first().at(0).toString()));
    QCOMPARE(ready.count(), 0);
    QVERIFY(!window.directorySettings().has_value());
    QTRY_VERIFY(!window.isBusy());
    QTRY_VERIFY(!label->isVisible());
}

void TestConsole::tenantNotConfiguredSaysSo()
{
    ui::MainWindow bare;
    bare.setStatePath(m_demoDir.filePath(QStringLiteral("bare.db")));
    bare.show();
    QVERIFY(QTest::qWaitForWindowExposed(&bare));
    for (const char *action : { "actionReadTenant", "actionDiff" }) {
        bare.statusBar()->clearMessage();
        bare.findChild<QAction *>(QString::fromLatin1(action))->trigger();
        const QString message = bare.statusBar()->currentMessage();
        QVERIFY2(message.contains(QStringLiteral("not configured"))
                     && message.contains(QStringLiteral("Settings")),
                 qPrintable(message));
        QVERIFY(!bare.isBusy());
    }
}

// The instant start, tenant side: a console opened on the demo's state database shows the
// Microsoft 365 read that the demo's console kept, in the users' tenant column, before reading
// anything: marked as stored, the same pairs as the window that read it, and no diff made from it.
void TestConsole::storedTenantAtStart()
{
    ui::MainWindow fresh;
    fresh.setStatePath(m_window->statePath());
    fresh.setDirectorySettings(*m_window->directorySettings());
    fresh.setTenantSettings(m_window->tenantSettings());
    fresh.setPolicy(m_window->policy());
    fresh.resize(1400, 860);
    fresh.show();
    QVERIFY(QTest::qWaitForWindowExposed(&fresh));
    QSignalSpy directoryShown(&fresh, &ui::MainWindow::storedDirectoryShown);
    QSignalSpy tenantShown(&fresh, &ui::MainWindow::storedTenantShown);
    QSignalSpy matched(&fresh, &ui::MainWindow::tenantMatched);
    fresh.showStoredDirectory();
    fresh.showStoredTenant();
    QTRY_COMPARE_WITH_TIMEOUT(directoryShown.count(), 1, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(tenantShown.count(), 1, 30000);
    QCOMPARE(tenantShown.first().at(0).toInt(), int(m_window->tenantSnapshot()->users.size()));
    QTRY_VERIFY_WITH_TIMEOUT(matched.count() >= 1, 30000);
    QVERIFY(!fresh.isBusy()); // nothing was read

    const models::UsersModel *shown = fresh.usersModel();
    const models::UsersModel *read = m_window->usersModel();
    QCOMPARE(shown->rowCount(), int(m_window->usersModel()->snapshot()->users.size()));
    int paired = 0;
    for (int row = 0; row < shown->rowCount(); ++row) {
        const int there = read->rowOfDn(shown->user(row)->dn);
        QVERIFY(there >= 0);
        const QString tenant = shown->index(row, models::UsersModel::Tenant).data().toString();
        QCOMPARE(tenant, read->index(there, models::UsersModel::Tenant).data().toString());
        paired += tenant != models::tenantMatchText(models::TenantMatch::Unmatched);
    }
    QVERIFY(paired > 0);
    auto *banner = fresh.findChild<QLabel *>(QStringLiteral("banner"));
    QVERIFY(banner->isVisible());
    QVERIFY2(banner->text().contains(QStringLiteral("Microsoft 365 as read at"))
                 && banner->text().contains(QStringLiteral("(stored)")),
             qPrintable(banner->text()));

    // Neither stored side feeds a diff: the stored tenant read has no Exchange recipients, the stored
    // directory summaries no values.
    fresh.statusBar()->clearMessage();
    fresh.runDiff();
    QVERIFY2(fresh.statusBar()->currentMessage().contains(QStringLiteral("stored snapshot")),
             qPrintable(fresh.statusBar()->currentMessage()));
    QVERIFY(!fresh.isBusy());
}

// A state database whose users' summaries are of an older format (CSS1, before the verdict was
// stored with them) or damaged: the console judges the stored users again and shows them, the same
// rows as the window that read them, instead of a warning and an empty table (what it did).
void TestConsole::storedSummariesOfAnOlderFormat()
{
    const QString copy = m_demoDir.filePath(QStringLiteral("older-summaries.db"));
    QFile::remove(copy);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("older"));
        db.setDatabaseName(m_window->statePath());
        QVERIFY(db.open());
        QSqlQuery q(db);
        QVERIFY2(q.exec(QStringLiteral("VACUUM INTO '%1'").arg(copy)), qPrintable(q.lastError().text()));
        db.close();
        db.setDatabaseName(copy);
        QVERIFY(db.open());
        QSqlQuery older(db);
        // "CSS1" instead of "CSS2": every summary stops decoding.
        QVERIFY2(older.exec(
                     QStringLiteral("UPDATE user_summaries SET summary = X'43535331' || substr(summary, 5)")),
                 qPrintable(older.lastError().text()));
        QVERIFY(older.numRowsAffected() > 0);
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("older"));

    ui::MainWindow fresh;
    fresh.setStatePath(copy);
    fresh.setDirectorySettings(*m_window->directorySettings());
    fresh.setPolicy(m_window->policy());
    fresh.show();
    QVERIFY(QTest::qWaitForWindowExposed(&fresh));
    QSignalSpy shown(&fresh, &ui::MainWindow::storedDirectoryShown);
    QSignalSpy notShown(&fresh, &ui::MainWindow::storedDirectoryNotShown);
    fresh.showStoredDirectory();
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() + notShown.count() > 0, 30000);
    QVERIFY2(notShown.isEmpty(),
             qPrintable(notShown.isEmpty() ? QString() : notShown.first().at(0).toString()));
    const models::UsersModel *read = m_window->usersModel();
    const models::UsersModel *stored = fresh.usersModel();
    QCOMPARE(shown.first().at(0).toInt(), int(read->snapshot()->users.size()));
    QCOMPARE(stored->rowCount(), int(read->snapshot()->users.size()));
    for (int row = 0; row < stored->rowCount(); ++row) {
        const int there = read->rowOfDn(stored->row(row).dn);
        QVERIFY(there >= 0);
        QCOMPARE(stored->row(row).status, read->row(there).status);
        QCOMPARE(stored->row(row).certificates, read->row(there).certificates);
        QCOMPARE(stored->row(row).directoryCanEncrypt, read->row(there).directoryCanEncrypt);
    }
}

void TestConsole::bothSidesOfAUser()
{
    // A cloud-mastered user with an older publish: one certificate in Microsoft 365, more in the
    // directory. The pairing is the engine's.
    const auto snapshot = m_window->usersModel()->snapshot();
    const auto tenant = m_window->tenantSnapshot();
    QVERIFY(snapshot && tenant);
    const QList<engine::PublishedUser> published = engine::publishedFromTenant(tenant->users);
    const engine::UserMatches matches = engine::matchUsers(snapshot->users, published, m_window->policy());
    QString mail;
    int matchedCount = 0;
    for (qsizetype d = 0; d < snapshot->users.size(); ++d) {
        const int t = matches.tenantIndex.at(d);
        if (t < 0)
            continue;
        ++matchedCount;
        const directory::DirectoryUser &u = snapshot->users.at(d);
        const engine::PublishedUser &p = published.at(t);
        if (mail.isEmpty() && !p.user.isSynced() && p.userCertificate.size() == 1
            && u.userCertificate.size() >= 2)
            mail = u.mail;
    }
    QVERIFY(matchedCount >= 10);
    QVERIFY2(!mail.isEmpty(), "the demo seeds cloud users with an older publish");
    // The users pane's tenant column knows the pairs too.
    const int row = m_window->usersModel()->rowOfDn(
        std::find_if(snapshot->users.cbegin(), snapshot->users.cend(), [&](const auto &u) {
            return u.mail == mail;
        })->dn);
    QCOMPARE(m_window->usersModel()->row(row).tenant, models::TenantMatch::Cloud);

    selectUser(mail);
    auto *directoryTree = m_window->findChild<QTreeView *>(QStringLiteral("directoryTree"));
    auto *tenantTree = m_window->findChild<QTreeView *>(QStringLiteral("tenantTree"));
    QVERIFY(directoryTree && tenantTree);
    auto *note = m_window->findChild<QLabel *>(QStringLiteral("tenantNote"));
    QVERIFY2(note->text().contains(QStringLiteral("matched by")), qPrintable(note->text()));
    QVERIFY2(note->text().contains(QStringLiteral("cloud-mastered")), qPrintable(note->text()));
    // Microsoft 365's side holds one userCertificate value, and the directory's newer ones are marked
    // as only there.
    const QAbstractItemModel *tenantModel = tenantTree->model();
    QVERIFY(tenantModel->rowCount() >= 1);
    const QModelIndex tenantCerts = tenantModel->index(0, 0);
    QVERIFY2(tenantCerts.data().toString().startsWith(QStringLiteral("userCertificate")),
             qPrintable(tenantCerts.data().toString()));
    QCOMPARE(tenantModel->rowCount(tenantCerts), 1);
    const QAbstractItemModel *directoryModel = directoryTree->model();
    const QModelIndex directoryCerts = directoryModel->index(0, 0);
    int onlyInDirectory = 0;
    for (int i = 0; i < directoryModel->rowCount(directoryCerts); ++i)
        onlyInDirectory += directoryModel->index(i, 0, directoryCerts)
                               .data(models::CertificateTreeModel::OnlyHereRole)
                               .toBool();
    QVERIFY(onlyInDirectory >= 1);
    QVERIFY(onlyInDirectory < directoryModel->rowCount(directoryCerts)); // the published one is on both sides
    // The directory's newer certificate, selected: its details show in full.
    for (int i = 0; i < directoryModel->rowCount(directoryCerts); ++i) {
        const QModelIndex value = directoryModel->index(i, 0, directoryCerts);
        if (value.data(models::CertificateTreeModel::OnlyHereRole).toBool()) {
            directoryTree->setCurrentIndex(value);
            break;
        }
    }
    auto *details = m_window->findChild<QTextBrowser *>(QStringLiteral("certificateDetails"));
    QTRY_VERIFY(details->toPlainText().contains(QStringLiteral("SHA-256")));
}

QString TestConsole::catalogueMail(const QString &name) const
{
    const auto snapshot = m_window->usersModel()->snapshot();
    for (const directory::DirectoryUser &u : snapshot->users)
        if (u.displayName == QStringLiteral("Catalogue ") + name)
            return u.mail;
    return {};
}

std::optional<engine::PublishedUser> TestConsole::publishedFor(const QString &mail) const
{
    const auto snapshot = m_window->usersModel()->snapshot();
    const QList<engine::PublishedUser> published =
        engine::publishedFromTenant(m_window->tenantSnapshot()->users);
    const engine::UserMatches matches = engine::matchUsers(snapshot->users, published, m_window->policy());
    for (qsizetype d = 0; d < snapshot->users.size(); ++d)
        if (snapshot->users.at(d).mail == mail && matches.tenantIndex.at(d) >= 0)
            return published.at(matches.tenantIndex.at(d));
    return std::nullopt;
}

void TestConsole::verdictOfAGoodAndABadUser()
{
    // The verdict judges Exchange Online's trust once its S/MIME collection is read (the demo uploads
    // the directory's CAs).
    QTRY_VERIFY_WITH_TIMEOUT(m_window->smimeCollection().has_value(), 30000);
    QVERIFY(!m_window->smimeCollection()->isEmpty());
    // A good certificate that Microsoft 365 publishes as well (synced, or a cloud user's first
    // certificate): senders can encrypt on both paths.
    QString good;
    for (const QString &name : { QStringLiteral("good-rsa"), QStringLiteral("good-ec") }) {
        const auto published = publishedFor(catalogueMail(name));
        if (good.isEmpty() && published && !published->userCertificate.isEmpty())
            good = catalogueMail(name);
    }
    QVERIFY2(!good.isEmpty(), "the demo publishes one of the good catalogue users");

    // Enter on a loaded name selects that user, as a click would.
    m_tabs->setCurrentIndex(1);
    auto *search = m_window->findChild<QLineEdit *>(QStringLiteral("userSearch"));
    search->clear();
    QTest::keyClicks(search, good);
    QSignalSpy shown(m_window.get(), &ui::MainWindow::userShown);
    QSignalSpy looked(m_window.get(), &ui::MainWindow::userLookedUp);
    QTest::keyClick(search, Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() >= 1, 20000);
    QCOMPARE(looked.count(), 0); // loaded: no live look-up
    auto *line = m_window->findChild<QLabel *>(QStringLiteral("verdictLine"));
    auto *details = m_window->findChild<QLabel *>(QStringLiteral("verdictDetails"));
    QVERIFY(line && details && line->isVisible());
    QVERIFY2(line->text().startsWith(QStringLiteral("Yes: senders can encrypt to ")),
             qPrintable(line->text()));
    const QString detailText = QTextDocumentFragment::fromHtml(details->text()).toPlainText();
    QVERIFY2(detailText.contains(QStringLiteral("Directory (Outlook reading the GAL): yes")),
             qPrintable(detailText));
    QVERIFY2(detailText.contains(QStringLiteral("Exchange Online (what senders get): yes")),
             qPrintable(detailText));
    QVERIFY2(detailText.contains(QStringLiteral("Fix: Nothing to fix.")), qPrintable(detailText));
    // The certificate chosen: its SHA-256's start and validity, as the directory holds it.
    const auto snapshot = m_window->usersModel()->snapshot();
    const auto goodUser = std::find_if(snapshot->users.cbegin(), snapshot->users.cend(),
                                       [&](const auto &u) { return u.mail == good; });
    const certs::JudgedCertificate *cert = goodUser->values.first().usersCertificate();
    QVERIFY(cert);
    QVERIFY2(detailText.contains(cert->certificate.sha256Hex().left(16)), qPrintable(detailText));
    QVERIFY2(detailText.contains(cert->certificate.notAfter.toUTC().date().toString(Qt::ISODate)),
             qPrintable(detailText));

    // The users table: the status first, no UPN column on OpenLDAP, and the verdict's yes/no as a
    // column, on both paths once the collection is judged.
    auto *table = m_window->findChild<QTableView *>(QStringLiteral("usersTable"));
    QCOMPARE(table->horizontalHeader()->logicalIndex(0), int(models::UsersModel::Status));
    QVERIFY(!table->model()->index(0, models::UsersModel::Status).data(Qt::DecorationRole).isNull());
    QVERIFY(table->isColumnHidden(models::UsersModel::UserPrincipalName));
    QVERIFY(!table->isColumnHidden(models::UsersModel::Mail));
    QVERIFY(!table->isColumnHidden(models::UsersModel::CanEncrypt));
    QCOMPARE(table->model()->rowCount(), 1);
    auto answer = [table](int role) {
        return table->model()->index(0, models::UsersModel::CanEncrypt).data(role).toString();
    };
    QCOMPARE(answer(Qt::DisplayRole), QStringLiteral("yes"));
    QTRY_VERIFY2(answer(Qt::ToolTipRole).contains(QStringLiteral("Exchange Online: yes")),
                 qPrintable(answer(Qt::ToolTipRole)));

    // Copy answer: the ticket text, the same as `certsync check` prints.
    QApplication::clipboard()->clear();
    auto *copy = m_window->findChild<QPushButton *>(QStringLiteral("copyAnswer"));
    QVERIFY(copy && copy->isEnabled());
    QTest::mouseClick(copy, Qt::LeftButton);
    const QString copied = QApplication::clipboard()->text();
    const auto verdict = m_window->certificatePane()->verdictPanel()->verdict();
    QVERIFY(verdict);
    QCOMPARE(copied, verdict->ticketText());
    QVERIFY2(copied.startsWith(line->text() + QLatin1Char('\n')), qPrintable(copied));
    QVERIFY2(copied.contains(QStringLiteral("\nFix: Nothing to fix.\n")), qPrintable(copied));
    QVERIFY(!copied.contains(QLatin1Char('<'))); // plain text for a ticket, no markup
    m_tabs->setCurrentIndex(1);
    QVERIFY(m_window->grab().save(m_shots + QStringLiteral("/console-verdict-yes.png")));

    // An expired certificate: nobody can encrypt to this user, and the reason says so in words.
    selectUser(catalogueMail(QStringLiteral("expired")));
    QTRY_VERIFY2(line->text().startsWith(QStringLiteral("No: senders cannot encrypt to ")),
                 qPrintable(line->text()));
    QVERIFY2(line->text().contains(QStringLiteral("(directory: no_usable_certificate, expired;")),
             qPrintable(line->text()));
    QCOMPARE(table->model()->index(0, models::UsersModel::CanEncrypt).data().toString(),
             QStringLiteral("no"));
    const QString noText = QTextDocumentFragment::fromHtml(details->text()).toPlainText();
    QVERIFY2(noText.contains(QStringLiteral("Directory (Outlook reading the GAL): no")), qPrintable(noText));
    QVERIFY2(noText.contains(certs::problemText(certs::Problem::Expired)), qPrintable(noText));
    QVERIFY2(noText.contains(QStringLiteral("Fix: Enrol a new S/MIME encryption certificate")),
             qPrintable(noText));
    QTest::mouseClick(copy, Qt::LeftButton);
    QVERIFY2(QApplication::clipboard()->text().startsWith(QStringLiteral("No: senders cannot encrypt to ")),
             qPrintable(QApplication::clipboard()->text()));
    QVERIFY(m_window->grab().save(m_shots + QStringLiteral("/console-verdict-no.png")));
}

void TestConsole::enterLooksAnUnloadedUserUp()
{
    // A console that has read nothing: the helpdesk's one question needs no full directory read.
    ui::MainWindow fresh;
    fresh.setStatePath(m_demoDir.filePath(QStringLiteral("fresh.db")));
    fresh.setDirectorySettings(*m_window->directorySettings());
    fresh.setTenantSettings(m_window->tenantSettings());
    fresh.resize(1400, 860);
    fresh.show();
    QVERIFY(QTest::qWaitForWindowExposed(&fresh));
    QCOMPARE(fresh.usersModel()->rowCount(), 0);
    auto *search = fresh.findChild<QLineEdit *>(QStringLiteral("userSearch"));
    auto *status = fresh.findChild<QLabel *>(QStringLiteral("lookupStatus"));
    auto *line = fresh.findChild<QLabel *>(QStringLiteral("verdictLine"));
    QSignalSpy looked(&fresh, &ui::MainWindow::userLookedUp);

    // A name nobody has: said so, nothing added.
    fresh.findChild<QTabWidget *>(QStringLiteral("mainTabs"))->setCurrentIndex(1);
    QTest::keyClicks(search, QStringLiteral("nobody.here@example.invalid"));
    QTest::keyClick(search, Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(looked.count() == 1, 30000);
    QCOMPARE(looked.first().at(0).toBool(), false);
    QVERIFY2(status->isVisible()
                 && status->text().contains(QStringLiteral("No directory user is named "
                                                           "'nobody.here@example.invalid'")),
             qPrintable(status->text()));
    QCOMPARE(fresh.usersModel()->rowCount(), 0);

    // The expired user, by mail: looked up live, added, selected, and answered.
    const QString expired = catalogueMail(QStringLiteral("expired"));
    search->clear();
    QTest::keyClicks(search, expired);
    QSignalSpy shown(&fresh, &ui::MainWindow::userShown);
    QElapsedTimer timer;
    timer.start();
    QTest::keyClick(search, Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(looked.count() == 2, 30000);
    qInfo("live look-up of %s (LDAP search, Graph user, Exchange recipient, Get-SmimeConfig): %lld ms",
          qPrintable(expired), timer.elapsed()); // QTRY polls every 50 ms: an upper bound
    QVERIFY2(looked.at(1).at(0).toBool(), qPrintable(looked.at(1).at(1).toString()));
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() >= 1, 20000);
    QVERIFY(!status->isVisible());
    QCOMPARE(fresh.usersModel()->rowCount(), 1);
    QVERIFY(fresh.usersModel()->isLookedUp(0));
    QVERIFY(!fresh.usersModel()->snapshot()); // one user, never mistaken for the directory
    QCOMPARE(fresh.usersModel()->user(0)->mail, expired);
    QVERIFY2(line->text().startsWith(QStringLiteral("No: senders cannot encrypt to ")),
             qPrintable(line->text()));
    QVERIFY2(line->text().contains(QStringLiteral("(directory: no_usable_certificate, expired;")),
             qPrintable(line->text()));
    // Microsoft 365 was read for this user too: the tenant path is answered, not "not checked".
    const QString details =
        QTextDocumentFragment::fromHtml(fresh.findChild<QLabel *>(QStringLiteral("verdictDetails"))->text())
            .toPlainText();
    QVERIFY2(details.contains(QStringLiteral("Exchange Online (what senders get): no")), qPrintable(details));
    QVERIFY(fresh.usersModel()->row(0).tenant != models::TenantMatch::NotRead);

    // A second one by its account name (uid): both stay listed.
    const QString goodMail = catalogueMail(QStringLiteral("good-rsa"));
    search->clear();
    QTest::keyClicks(search, goodMail.section(QLatin1Char('@'), 0, 0));
    QTest::keyClick(search, Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(looked.count() == 3, 30000);
    QVERIFY2(looked.at(2).at(0).toBool(), qPrintable(looked.at(2).at(1).toString()));
    QCOMPARE(fresh.usersModel()->rowCount(), 2);
    QTRY_VERIFY2(fresh.certificatePane()->verdictPanel()->verdict()
                     && fresh.certificatePane()->verdictPanel()->verdict()->who.contains(
                         goodMail.section(QLatin1Char('@'), 0, 0)),
                 qPrintable(line->text()));
    QVERIFY(fresh.grab().save(m_shots + QStringLiteral("/console-live-lookup.png")));

    // A directory that does not answer: the error says so, the window stays usable.
    directory::DirectoryReadSettings unreachable = *m_window->directorySettings();
    unreachable.profile.url = QStringLiteral("ldaps://127.0.0.1:9");
    fresh.setDirectorySettings(unreachable);
    search->clear();
    QTest::keyClicks(search, QStringLiteral("someone@example.invalid"));
    QTest::keyClick(search, Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(looked.count() == 4, 60000);
    QCOMPARE(looked.at(3).at(0).toBool(), false);
    QVERIFY2(
        status->text().startsWith(QStringLiteral("Cannot look up 'someone@example.invalid': directory: ")),
        qPrintable(status->text()));
}

void TestConsole::smimeCollectionShown()
{
    QTRY_VERIFY_WITH_TIMEOUT(m_window->smimeCollection().has_value(), 30000);
    m_window->findChild<QAction *>(QStringLiteral("actionSmimeCollection"))->trigger();
    auto *dialog = m_window->findChild<ui::SmimeCollectionDialog *>(QStringLiteral("smimeCollectionDialog"));
    QVERIFY(dialog && dialog->isVisible());
    QVERIFY(QTest::qWaitForWindowExposed(dialog));
    QTableView *table = dialog->table();
    QCOMPARE(table->model()->rowCount(), int(m_window->smimeCollection()->size()));
    QStringList sha;
    for (int r = 0; r < table->model()->rowCount(); ++r)
        sha << table->model()->index(r, 3).data().toString();
    for (const certs::Certificate &c : *m_window->smimeCollection())
        QVERIFY2(sha.contains(c.sha256Hex()), qPrintable(c.subject));
    // It filters, as every table does.
    const QString first = m_window->smimeCollection()->first().sha256Hex();
    QTest::keyClicks(dialog->findChild<QLineEdit *>(QStringLiteral("smimeCollectionFilter")), first.left(12));
    QCOMPARE(table->model()->rowCount(), 1);
    QCOMPARE(table->model()->index(0, 3).data().toString(), first);
    dialog->findChild<QLineEdit *>(QStringLiteral("smimeCollectionFilter"))->clear();
    QVERIFY(dialog->grab().save(m_shots + QStringLiteral("/console-smime-collection.png")));
    dialog->close();
}

void TestConsole::diffApproveAndPublish()
{
    QSignalSpy staged(m_window.get(), &ui::MainWindow::planStaged);
    m_window->findChild<QAction *>(QStringLiteral("actionDiff"))->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(staged.count() == 1, 60000);
    const qint64 plan = staged.first().at(0).toLongLong();
    m_plan = plan;
    QVERIFY2(plan > 0, qPrintable(m_window->statusBar()->currentMessage()));
    QVERIFY2(m_window->statusBar()->currentMessage().contains(QStringLiteral("Plan %1 staged").arg(plan)),
             qPrintable(m_window->statusBar()->currentMessage()));
    auto *pane = m_window->stagedPane();
    QCOMPARE(m_tabs->currentWidget(), pane);
    QTRY_COMPARE(pane->currentPlan(), plan);
    auto *items = pane->findChild<QTableView *>(QStringLiteral("planItemsTable"));
    QTRY_VERIFY(items->model()->rowCount() > 2);

    // Two Exchange items, ticked by clicking their check boxes.
    QList<int> rows;
    for (int r = 0; r < items->model()->rowCount() && rows.size() < 2; ++r)
        if (items->model()->index(r, models::PlanItemsModel::Channel).data().toString()
            == QLatin1String("exchange"))
            rows.append(r);
    QCOMPARE(rows.size(), 2);
    for (int r : std::as_const(rows))
        testing::clickCheckBox(items, r, models::PlanItemsModel::Check);
    QCOMPARE(pane->itemsModel()->checkedItemNumbers().size(), 2);
    // Four-eyes: the account that staged the plan (console-author) cannot approve it; the pane says
    // why and nothing changes. Another account can.
    auto *message = pane->findChild<QLabel *>(QStringLiteral("stagedMessage"));
    QTest::mouseClick(pane->findChild<QPushButton *>(QStringLiteral("approveSelected")), Qt::LeftButton);
    QTRY_VERIFY2(message->text().contains(QStringLiteral("cannot approve")), qPrintable(message->text()));
    QVERIFY(message->text().contains(QStringLiteral("console-author")));
    for (int r : std::as_const(rows))
        QCOMPARE(items->model()->index(r, models::PlanItemsModel::Decision).data().toString(),
                 QStringLiteral("pending"));
    certsync::testing::setOperatorForTests(QStringLiteral("console-tester"));
    if (pane->itemsModel()->checkedItemNumbers().isEmpty())
        for (int r : std::as_const(rows))
            testing::clickCheckBox(items, r, models::PlanItemsModel::Check);
    QCOMPARE(pane->itemsModel()->checkedItemNumbers().size(), 2);
    QTest::mouseClick(pane->findChild<QPushButton *>(QStringLiteral("approveSelected")), Qt::LeftButton);
    for (int r : std::as_const(rows))
        QTRY_COMPARE(items->model()->index(r, models::PlanItemsModel::Decision).data().toString(),
                     QStringLiteral("approved"));
    QCOMPARE(items->model()->index(rows.first(), models::PlanItemsModel::Approver).data().toString(),
             QStringLiteral("console-tester"));

    // Publish, after the confirmation that states the counts per channel.
    QSignalSpy published(m_window.get(), &ui::MainWindow::publishFinished);
    const int logBefore = m_window->logModel()->rowCount();
    QTest::mouseClick(pane->findChild<QPushButton *>(QStringLiteral("publishApproved")), Qt::LeftButton);
    QMessageBox *confirm = nullptr;
    QTRY_VERIFY((confirm = pane->findChild<QMessageBox *>(QStringLiteral("publishConfirmation"))) != nullptr);
    QVERIFY2(confirm->text().contains(QStringLiteral("exchange: 2 item(s)")), qPrintable(confirm->text()));
    QTest::mouseClick(confirm->button(QMessageBox::Yes), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(published.count() == 1, 60000);
    QVERIFY2(published.first().at(0).toBool(), qPrintable(published.first().at(1).toString()));
    for (int r : std::as_const(rows))
        QTRY_COMPARE(items->model()->index(r, models::PlanItemsModel::State).data().toString(),
                     QStringLiteral("applied"));
    // The plan names its author; the status bar says the audit trail's chain holds, and four-eyes
    // is on (nothing says otherwise).
    auto *plans = pane->findChild<QTableView *>(QStringLiteral("plansTable"));
    QCOMPARE(plans->model()->index(0, models::PlansModel::Author).data().toString(),
             QStringLiteral("console-author"));
    auto *auditState = m_window->findChild<QLabel *>(QStringLiteral("auditState"));
    QTRY_COMPARE(auditState->text(), QStringLiteral("Audit trail intact"));
    QVERIFY(m_window->findChild<QLabel *>(QStringLiteral("fourEyesState"))->isHidden());

    // The Log pane has the publish's records, each write with the service's request-id.
    int withRequestId = 0;
    for (int r = logBefore; r < m_window->logModel()->rowCount(); ++r)
        withRequestId += !m_window->logModel()->record(r).requestId.isEmpty();
    QVERIFY2(withRequestId >= 2, qPrintable(QString::number(withRequestId)));
    m_tabs->setCurrentWidget(m_window->logPane());
    auto *logTable = m_window->findChild<QTableView *>(QStringLiteral("logTable"));
    bool shown = false;
    for (int r = 0; r < logTable->model()->rowCount() && !shown; ++r)
        shown = !logTable->model()->index(r, models::LogModel::RequestId).data().toString().isEmpty();
    QVERIFY(shown);
    for (int r = logTable->model()->rowCount() - 1; r >= 0; --r)
        if (!logTable->model()->index(r, models::LogModel::RequestId).data().toString().isEmpty()) {
            logTable->selectRow(r); // its details, request-id included, below the table
            break;
        }
    m_tabs->setCurrentIndex(1);
    screenshots(QStringLiteral("console-"));
}

void TestConsole::verdictNamesThePlan()
{
    QVERIFY(m_plan > 0);
    const models::PlanItemsModel *items = m_window->stagedPane()->itemsModel();
    const engine::StoredItem *applied = nullptr;
    const engine::StoredItem *staged = nullptr;
    for (int r = 0; r < items->rowCount(); ++r) {
        const engine::StoredItem *i = items->item(r);
        if (i->item.channel != engine::Channel::Exchange)
            continue;
        if (!applied && i->state == engine::JournalState::Applied)
            applied = i;
        // Nothing published yet: Exchange Online gives senders no certificate until it is.
        if (!staged && i->decision == engine::Decision::Pending && i->item.oldValues.isEmpty())
            staged = i;
    }
    QVERIFY(applied && staged);
    auto mailOf = [&](const QString &dn) {
        return m_window->usersModel()->user(m_window->usersModel()->rowOfDn(dn))->mail;
    };
    auto *details = m_window->findChild<QLabel *>(QStringLiteral("verdictDetails"));
    auto detailText = [&] { return QTextDocumentFragment::fromHtml(details->text()).toPlainText(); };

    // Just published: the fix says Outlook clients may take a while.
    selectUser(mailOf(applied->item.userKey));
    QTRY_VERIFY2(
        detailText().contains(QStringLiteral("Fix: Approved and published 0 hours ago: Outlook clients "
                                             "can take up to about 48 hours.")),
        qPrintable(detailText()));
    QVERIFY2(detailText().contains(QStringLiteral("(propagating)")), qPrintable(detailText()));

    // Staged, not approved: the fix names the user's first item waiting for approval.
    selectUser(mailOf(staged->item.userKey));
    const engine::StoredItem *first = nullptr;
    for (int r = 0; r < items->rowCount() && !first; ++r)
        if (items->item(r)->item.userKey == staged->item.userKey
            && items->item(r)->decision == engine::Decision::Pending)
            first = items->item(r);
    QVERIFY(first);
    const QString expected =
        QStringLiteral("Fix: Plan %1 item %2 (%3) is staged: approve it, then publish the plan.")
            .arg(m_plan)
            .arg(first->item.number)
            .arg(engine::itemAttributeName(first->item.attribute));
    QTRY_VERIFY2(detailText().contains(expected), qPrintable(detailText()));
    QVERIFY2(detailText().contains(QStringLiteral("Exchange Online (what senders get): no")),
             qPrintable(detailText()));
}

void TestConsole::setTenantLatency(int ms)
{
    QNetworkAccessManager nam;
    QNetworkRequest request(QUrl(m_demo->tenantAdminUrl() + QStringLiteral("/admin/faults")));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    QNetworkReply *reply =
        nam.post(request, QJsonDocument(QJsonObject { { QStringLiteral("latencyMs"), ms } }).toJson());
    QSignalSpy finished(reply, &QNetworkReply::finished);
    QVERIFY(reply->isFinished() || finished.wait(15000));
    QCOMPARE(reply->error(), QNetworkReply::NoError);
    reply->deleteLater();
}

void TestConsole::cancelARunningTenantRead()
{
    // Every answer of the simulator takes 3 s now: the read is surely running when Cancel is clicked.
    setTenantLatency(3000);
    const auto before = m_window->tenantSnapshot();
    QSignalSpy loaded(m_window.get(), &ui::MainWindow::tenantLoaded);
    auto *cancel = m_window->findChild<QPushButton *>(QStringLiteral("cancelJob"));
    const int logged = m_window->logModel()->rowCount();
    m_window->findChild<QAction *>(QStringLiteral("actionReadTenant"))->trigger();
    QVERIFY(m_window->isBusy());
    QVERIFY(cancel->isVisible());
    QTest::mouseClick(cancel, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isBusy(), 30000);
    QCOMPARE(loaded.count(), 1);
    QCOMPARE(loaded.first().at(0).toBool(), false);
    QVERIFY(!cancel->isVisible());
    // Not the status bar's message: it goes at the next status tip (the mouse is over the window).
    const models::LogModel *log = m_window->logModel();
    QStringList messages;
    for (int row = logged; row < log->rowCount(); ++row)
        messages.append(log->record(row).message);
    QVERIFY2(std::any_of(messages.cbegin(), messages.cend(),
                         [](const QString &m) {
                             return m.startsWith(QStringLiteral("Microsoft 365 read stopped: "));
                         }),
             qPrintable(messages.join(QLatin1Char('\n'))));
    QCOMPARE(m_window->tenantSnapshot(), before); // a cancelled read never replaces the last good one
    setTenantLatency(0);
}

void TestConsole::darkPaletteIsReadable()
{
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QApplication::setPalette(darkPalette());
    QApplication::processEvents();
    const QPalette p = m_window->palette();
    QVERIFY(contrast(p.color(QPalette::Text), p.color(QPalette::Base)) >= 7);
    QVERIFY(contrast(p.color(QPalette::WindowText), p.color(QPalette::Window)) >= 7);
    // Status accents (icons, chart bars) stand out from the background (WCAG 3:1 for graphics).
    for (certs::Status s : { certs::Status::Ok, certs::Status::Warning, certs::Status::Error }) {
        QVERIFY2(contrast(models::statusColor(s), p.color(QPalette::Base)) >= 3,
                 qPrintable(models::statusText(s)));
        QVERIFY2(contrast(models::statusColor(s), p.color(QPalette::Window)) >= 3,
                 qPrintable(models::statusText(s)));
    }
    // The icons are painted in the same accents (not in the light palette's).
    const QImage ok = models::statusIcon(certs::Status::Ok).pixmap(32).toImage();
    QCOMPARE(ok.pixelColor(16, 8).rgb(), models::statusColor(certs::Status::Ok).rgb());
    // Banners and notes follow the palette instead of fixed colours.
    for (auto *label : m_window->findChildren<QLabel *>()) {
        const QPalette lp = label->palette();
        QVERIFY2(contrast(lp.color(label->foregroundRole()), lp.color(label->backgroundRole())) >= 4.5,
                 qPrintable(label->objectName()));
    }
    // An unticked check box of the staged items stands out from its cell (3:1 for graphics):
    // Fusion's own edge, derived from Window, all but vanishes against a dark Base.
    m_tabs->setCurrentWidget(m_window->stagedPane());
    auto *items = m_window->stagedPane()->findChild<QTableView *>(QStringLiteral("planItemsTable"));
    int unticked = -1;
    for (int r = 0; r < items->model()->rowCount() && unticked < 0; ++r)
        if (items->model()->index(r, models::PlanItemsModel::Check).data(Qt::CheckStateRole).toInt()
            == Qt::Unchecked)
            unticked = r;
    QVERIFY(unticked >= 0);
    const QRect edge = testing::checkBoxRect(items, unticked, models::PlanItemsModel::Check);
    const QImage cells = items->viewport()->grab().toImage();
    const QColor base = items->palette().color(QPalette::Base);
    const double edgeContrast = contrast(cells.pixelColor(edge.left(), edge.center().y()), base);
    QVERIFY2(edgeContrast >= 3, qPrintable(QString::number(edgeContrast)));
    selectUser(m_window->usersModel()->row(0).mail);
    screenshots(QStringLiteral("console-dark-"));
}

QTEST_MAIN(TestConsole)
#include "tst_console.moc"
