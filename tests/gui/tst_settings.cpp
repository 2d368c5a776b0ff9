// The settings dialog and File → Export report, driven as a person drives them on the offscreen
// platform, against the real slapd fixture: fill every tab, test the directory connection (good,
// wrong password, untrusted server), press OK, and check what reached the settings file (no secret)
// and the window; then export reports through the window's export path and read them back.
// Screenshots of each settings tab go to CERTSYNC_SCREENSHOTS.
#include "DirectoryFixture.h"
#include "SimHarness.h"

#include "config/SecretStore.h"
#include "models/UsersModel.h"
#include "report/InventoryCsv.h"
#include "ui/MainWindow.h"
#include "ui/SettingsDialog.h"
#include "ui/StagedPane.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace certsync;
using namespace certsync::testing;

class TestSettings : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void dialogTestsSavesAndApplies();
    void startupLoadsTheSavedSettings();
    void exportReportsThroughTheWindow();
    void savingKeepsWhatTheDialogDoesNotShow();

private:
    template<typename W> W *child(QWidget *parent, const char *name)
    {
        auto *w = parent->findChild<W *>(QString::fromLatin1(name));
        if (!w)
            qWarning("no widget named %s", name);
        return w;
    }
    void setText(QWidget *dialog, const char *name, const QString &text);
    QString testConnection(ui::SettingsDialog *dialog, const QString &side, bool expectOk);
    DirectoryFixture m_fixture;
    SimHarness m_sim;
    QTemporaryDir m_dir;
    QString m_config;
    QString m_shots;
};

void TestSettings::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    // A state database left by an earlier run (or another branch's schema) is not this run's.
    QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).removeRecursively();
    // No Secret Service in this suite: the "no keychain" path, deterministically, even on a desktop.
    qunsetenv("DBUS_SESSION_BUS_ADDRESS");
    config::SecretStore::setServiceName(QStringLiteral("certsync-test"));
    QVERIFY(m_dir.isValid());
    m_config = m_dir.filePath(QStringLiteral("config/certsync.conf"));
    qputenv("CERTSYNC_CONFIG", m_config.toLocal8Bit());
    m_fixture = DirectoryFixture::fromEnvironment("CERTSYNC_DIRECTORY_ENV");
    QVERIFY2(m_fixture.error.isEmpty(), qPrintable(m_fixture.error));
    m_shots =
        qEnvironmentVariable("CERTSYNC_SCREENSHOTS", QDir::currentPath() + QStringLiteral("/screenshots"));
    QVERIFY(QDir().mkpath(m_shots));
    const QJsonObject seed = SimHarness::seed(
        QStringLiteral("6f1c2b3a-1d2e-4f50-9a8b-7c6d5e4f3a21"),
        SimHarness::app(QStringLiteral("00000000-1111-2222-3333-444444444444"),
                        QStringLiteral("tenant-SECRET-value"), {}),
        { QJsonObject { { QStringLiteral("userPrincipalName"), QStringLiteral("someone@contoso.test") } } });
    QVERIFY2(m_sim.start(seed), qPrintable(m_sim.lastError()));
}

void TestSettings::setText(QWidget *dialog, const char *name, const QString &text)
{
    auto *edit = child<QLineEdit>(dialog, name);
    QVERIFY(edit);
    edit->clear();
    QTest::keyClicks(edit, text);
    QCOMPARE(edit->text(), text);
}

// Clicks a "Test connection" button and returns the result text shown, prefixed when the outcome
// differs from `expectOk`. `side` is "directory" or "tenant" (the widgets' name prefix).
QString TestSettings::testConnection(ui::SettingsDialog *dialog, const QString &side, bool expectOk)
{
    QSignalSpy tested(dialog,
                      side == QLatin1String("directory") ? &ui::SettingsDialog::directoryTested
                                                         : &ui::SettingsDialog::tenantTested);
    QTest::mouseClick(dialog->findChild<QPushButton *>(side + QStringLiteral("Test")), Qt::LeftButton);
    if (!tested.wait(30000))
        return QStringLiteral("no result");
    const QString text = dialog->findChild<QLabel *>(side + QStringLiteral("TestResult"))->text();
    if (tested.first().at(0).toBool() != expectOk)
        return QStringLiteral("unexpected: ") + text;
    return text;
}

void TestSettings::dialogTestsSavesAndApplies()
{
    ui::MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto *action = window.findChild<QAction *>(QStringLiteral("actionSettings"));
    QVERIFY(action);
    QVERIFY(action->shortcuts().contains(QKeySequence(QStringLiteral("Ctrl+,"))));
    action->trigger();
    ui::SettingsDialog *dialog = nullptr;
    QTRY_VERIFY((dialog = window.findChild<ui::SettingsDialog *>(QStringLiteral("settingsDialog"))));
    QVERIFY(dialog->isVisible());
    // The keychain was asked for the stored secrets; there is none here, and the dialog says so.
    auto *notice = child<QLabel>(dialog, "settingsNotice");
    QTRY_VERIFY(notice->isVisible());
    QVERIFY2(notice->text().startsWith(QStringLiteral("no OS keychain is available")),
             qPrintable(notice->text()));
    QVERIFY(notice->text().contains(QStringLiteral("kept for this session only")));

    // Directory tab.
    auto *kind = child<QComboBox>(dialog, "directoryKind");
    kind->setCurrentIndex(kind->findData(QStringLiteral("ldap")));
    QCOMPARE(child<QLineEdit>(dialog, "mapping_sourceAnchor")->text(), QStringLiteral("entryUUID"));
    setText(dialog, "directoryUrl", m_fixture.value(QStringLiteral("LDAPS_URL")));
    setText(dialog, "directoryBaseDn", m_fixture.value(QStringLiteral("BASE_DN")));
    auto *bind = child<QComboBox>(dialog, "directoryBind");
    bind->setCurrentIndex(bind->findData(QStringLiteral("simple")));
    setText(dialog, "directoryBindDn", m_fixture.value(QStringLiteral("READER_DN")));
    QCOMPARE(child<QLineEdit>(dialog, "directoryPassword")->echoMode(), QLineEdit::Password);
    setText(dialog, "directoryPassword", QStringLiteral("wrong-password"));
    child<QSpinBox>(dialog, "directoryPageSize")->setValue(7);

    // The server's certificate is not trusted yet: refused, with the certificate named.
    const QString untrusted = testConnection(dialog, QStringLiteral("directory"), false);
    QVERIFY2(untrusted.startsWith(QStringLiteral("Failed: ")), qPrintable(untrusted));
    QVERIFY2(untrusted.contains(QStringLiteral("SHA-256")), qPrintable(untrusted));
    setText(dialog, "directoryCaFile", m_fixture.value(QStringLiteral("CA_FILE")));
    const QString wrongPassword = testConnection(dialog, QStringLiteral("directory"), false);
    QVERIFY2(wrongPassword.contains(QStringLiteral("Invalid credentials")), qPrintable(wrongPassword));
    setText(dialog, "directoryPassword", m_fixture.value(QStringLiteral("READER_PASSWORD")));
    const QString good = testConnection(dialog, QStringLiteral("directory"), true);
    QVERIFY2(good.startsWith(QStringLiteral("Success: Connected to ")), qPrintable(good));
    auto *tabs = child<QTabWidget>(dialog, "settingsTabs");
    tabs->setCurrentIndex(0);
    QVERIFY(dialog->grab().save(m_shots + QStringLiteral("/settings-directory.png")));

    // S/MIME trust tab.
    tabs->setCurrentIndex(1);
    child<QPlainTextEdit>(dialog, "trustBundles")
        ->setPlainText(m_fixture.value(QStringLiteral("TRUST_FILE")));
    child<QPlainTextEdit>(dialog, "trustCrls")->setPlainText(m_fixture.value(QStringLiteral("CRL_FILE")));
    QVERIFY(dialog->grab().save(m_shots + QStringLiteral("/settings-trust.png")));

    // Tenant tab: a secret credential, tested against certsync-tenantsim.
    tabs->setCurrentIndex(2);
    setText(dialog, "tenantId", QStringLiteral("6f1c2b3a-1d2e-4f50-9a8b-7c6d5e4f3a21"));
    setText(dialog, "tenantClientId", QStringLiteral("00000000-1111-2222-3333-444444444444"));
    auto *credential = child<QComboBox>(dialog, "tenantCredential");
    credential->setCurrentIndex(credential->findData(QStringLiteral("secret")));
    QVERIFY(!child<QLineEdit>(dialog, "tenantKeyFile")->isEnabled());
    setText(dialog, "tenantAuthorityUrl", m_sim.baseUrl() + QStringLiteral("/{tenant}"));
    setText(dialog, "tenantGraphUrl", m_sim.baseUrl() + QStringLiteral("/v1.0"));
    setText(dialog, "tenantExchangeUrl", m_sim.baseUrl() + QStringLiteral("/adminapi/beta/{tenant}"));
    setText(dialog, "tenantClientSecret", QStringLiteral("not-the-secret"));
    // The simulator's certificate is trusted only through the extra CA file.
    const QString untrustedTenant = testConnection(dialog, QStringLiteral("tenant"), false);
    QVERIFY2(untrustedTenant.startsWith(QStringLiteral("Failed: tls ")), qPrintable(untrustedTenant));
    setText(dialog, "tenantCaFile", m_sim.caFile());
    const QString badSecret = testConnection(dialog, QStringLiteral("tenant"), false);
    QVERIFY2(badSecret.contains(QStringLiteral("AADSTS")), qPrintable(badSecret));
    setText(dialog, "tenantClientSecret", QStringLiteral("tenant-SECRET-value"));
    const QString tenantOk = testConnection(dialog, QStringLiteral("tenant"), true);
    QVERIFY2(tenantOk.startsWith(QStringLiteral("Success: Token received; Graph answered HTTP 200")),
             qPrintable(tenantOk));
    QVERIFY(m_sim.accessLog().size() >= 2);
    QVERIFY(dialog->grab().save(m_shots + QStringLiteral("/settings-tenant.png")));

    // Policy tab.
    tabs->setCurrentIndex(3);
    child<QSpinBox>(dialog, "policyWarningDays")->setValue(45);
    child<QCheckBox>(dialog, "policySmimeOnly")->setChecked(true);
    child<QSpinBox>(dialog, "policyDeletionThreshold")->setValue(77);
    child<QCheckBox>(dialog, "policyStaging")->setChecked(true);
    auto *forms = child<QComboBox>(dialog, "policyCertificateUserIds");
    forms->setCurrentIndex(forms->findData(QStringLiteral("ski")));
    QVERIFY(dialog->grab().save(m_shots + QStringLiteral("/settings-policy.png")));

    // Every widget can be found and named.
    for (QWidget *w : dialog->findChildren<QWidget *>()) {
        if (qobject_cast<QLineEdit *>(w) || qobject_cast<QComboBox *>(w) || qobject_cast<QCheckBox *>(w)
            || qobject_cast<QSpinBox *>(w) || qobject_cast<QPushButton *>(w)
            || qobject_cast<QPlainTextEdit *>(w)) {
            if (w->parent() && qobject_cast<QSpinBox *>(w->parent()))
                continue; // a spin box's own line edit
            if (qobject_cast<QPushButton *>(w) && qobject_cast<QDialogButtonBox *>(w->parent()))
                continue; // OK/Cancel are named by their text
            QVERIFY2(!w->objectName().isEmpty(), w->metaObject()->className());
            QVERIFY2(!w->accessibleName().isEmpty(), qPrintable(w->objectName()));
        }
    }

    QSignalSpy applied(&window, &ui::MainWindow::settingsApplied);
    QTest::mouseClick(child<QDialogButtonBox>(dialog, "settingsButtons")->button(QDialogButtonBox::Ok),
                      Qt::LeftButton);
    QTRY_COMPARE(applied.count(), 1);

    // What reached the settings file: everything but the secrets.
    QFile file(m_config);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray ini = file.readAll();
    QVERIFY(ini.contains("version=1"));
    QVERIFY(ini.contains(m_fixture.value(QStringLiteral("LDAPS_URL")).toUtf8()));
    QVERIFY(ini.contains("pageSize=7"));
    QVERIFY(ini.contains("deletionThreshold=77"));
    QVERIFY(!ini.contains(m_fixture.value(QStringLiteral("READER_PASSWORD")).toUtf8()));
    QVERIFY(!ini.contains("wrong-password"));
    QVERIFY(!ini.contains("tenant-SECRET-value"));
    auto loaded = config::loadFile(m_config);
    QVERIFY(loaded.ok());
    QCOMPARE(loaded->directory->kind, directory::SourceKind::GenericLdap);
    QCOMPARE(loaded->directory->caFile, m_fixture.value(QStringLiteral("CA_FILE")));
    QCOMPARE(loaded->policy.warningDays, 45);
    QCOMPARE(loaded->policy.staging, true);

    // What reached the window, secrets included (in memory).
    QVERIFY(window.directorySettings().has_value());
    QCOMPARE(window.directorySettings()->profile.url, m_fixture.value(QStringLiteral("LDAPS_URL")));
    QCOMPARE(window.directorySettings()->profile.pageSize, 7);
    QCOMPARE(window.directorySettings()->password, m_fixture.value(QStringLiteral("READER_PASSWORD")));
    QCOMPARE(window.directorySettings()->policy.warningDays, 45);
    QVERIFY(window.directorySettings()->trust && window.directorySettings()->trust->anchorCount() > 0);
    QVERIFY(window.tenantSettings().has_value());
    QCOMPARE(window.tenantSettings()->tenantId, QStringLiteral("6f1c2b3a-1d2e-4f50-9a8b-7c6d5e4f3a21"));
    QCOMPARE(window.tenantSettings()->clientSecret, QStringLiteral("tenant-SECRET-value"));
    QCOMPARE(window.policy().requireSmimeSuitable, true);
    QCOMPARE(window.policy().certificateUserIds, true);
    QCOMPARE(int(window.policy().certificateUserIdForms), int(engine::SubjectKeyId));

    // And the window reads the directory with them.
    QSignalSpy loadedSpy(&window, &ui::MainWindow::directoryLoaded);
    window.readDirectory();
    QTRY_COMPARE_WITH_TIMEOUT(loadedSpy.count(), 1, 30000);
    QCOMPARE(loadedSpy.first().at(0).toBool(), true);
    QVERIFY(window.usersModel()->rowCount() > 20);
    QTRY_VERIFY(!window.isBusy());
}

// The next start: the file and (here, without a keychain) the session's secrets come back.
void TestSettings::startupLoadsTheSavedSettings()
{
    QVERIFY(QFile::exists(m_config));
    ui::MainWindow window;
    QSignalSpy applied(&window, &ui::MainWindow::settingsApplied);
    window.loadSettings();
    QTRY_COMPARE(applied.count(), 1);
    QVERIFY(window.directorySettings().has_value());
    QCOMPARE(window.directorySettings()->profile.baseDn, m_fixture.value(QStringLiteral("BASE_DN")));
    QCOMPARE(window.directorySettings()->password, m_fixture.value(QStringLiteral("READER_PASSWORD")));
    QCOMPARE(window.tenantSettings()->clientSecret, QStringLiteral("tenant-SECRET-value"));
    QCOMPARE(window.configuration().policy.deletionThreshold, 77);
}

void TestSettings::exportReportsThroughTheWindow()
{
    ui::MainWindow window;
    QSignalSpy applied(&window, &ui::MainWindow::settingsApplied);
    window.loadSettings();
    QTRY_COMPARE(applied.count(), 1);
    QSignalSpy exported(&window, &ui::MainWindow::reportExported);

    // Before a read there is nothing to report on: said plainly.
    const QString early = m_dir.filePath(QStringLiteral("early.csv"));
    window.exportReport(report::Report::Inventory, early);
    QTRY_COMPARE(exported.count(), 1);
    QCOMPARE(exported.takeFirst().at(0).toBool(), false);
    QVERIFY(!QFile::exists(early));

    QSignalSpy loadedSpy(&window, &ui::MainWindow::directoryLoaded);
    window.readDirectory();
    QTRY_COMPARE_WITH_TIMEOUT(loadedSpy.count(), 1, 30000);
    QTRY_VERIFY(!window.isBusy());

    // The menu has every report.
    for (const char *name : { "inventory", "expiring", "problems", "plan", "audit" })
        QVERIFY2(window.findChild<QAction *>(QStringLiteral("actionExport_") + QLatin1String(name)), name);

    const QString inventory = m_dir.filePath(QStringLiteral("inventory.csv"));
    window.exportReport(report::Report::Inventory, inventory);
    QTRY_COMPARE_WITH_TIMEOUT(exported.count(), 1, 30000);
    QVERIFY2(exported.first().at(0).toBool(), qPrintable(exported.first().at(1).toString()));
    exported.clear();
    QFile file(inventory);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = file.readAll().trimmed().split('\n');
    QCOMPARE(QString::fromUtf8(lines.first().trimmed()),
             report::InventoryCsv::header().join(QLatin1Char(',')));
    QVERIFY2(lines.size() > 20, qPrintable(QString::number(lines.size())));

    // Problems: a subset of the inventory, every row not ok.
    const QString problems = m_dir.filePath(QStringLiteral("problems.csv"));
    window.exportReport(report::Report::Problems, problems);
    QTRY_COMPARE_WITH_TIMEOUT(exported.count(), 1, 30000);
    QVERIFY(exported.first().at(0).toBool());
    exported.clear();
    QFile problemsFile(problems);
    QVERIFY(problemsFile.open(QIODevice::ReadOnly));
    const QList<QByteArray> problemLines = problemsFile.readAll().trimmed().split('\n');
    QVERIFY(problemLines.size() > 1);
    QVERIFY(problemLines.size() < lines.size());
    for (qsizetype i = 1; i < problemLines.size(); ++i)
        QVERIFY2(!problemLines.at(i).contains(",ok,"), problemLines.at(i).constData());

    // Plan: the staged pane's current plan; with none chosen the window says so instead of guessing.
    const qint64 plan = window.stagedPane()->currentPlan();
    const QString planPath = m_dir.filePath(QStringLiteral("plan.csv"));
    window.exportReport(report::Report::Plan, planPath);
    QTRY_COMPARE_WITH_TIMEOUT(exported.count(), 1, 30000);
    if (plan > 0) {
        QVERIFY2(exported.first().at(0).toBool(), qPrintable(exported.first().at(1).toString()));
        QFile planFile(planPath);
        QVERIFY(planFile.open(QIODevice::ReadOnly));
        QVERIFY(planFile.readAll().startsWith("plan,item,user_dn,"));
    } else {
        QCOMPARE(exported.first().at(0).toBool(), false);
        QVERIFY(exported.first().at(1).toString().contains(QStringLiteral("Choose a plan")));
        QVERIFY(!QFile::exists(planPath));
    }
    exported.clear();

    // Audit: from the state database (empty in this test's state): the header alone.
    const QString audit = m_dir.filePath(QStringLiteral("audit.csv"));
    window.exportReport(report::Report::Audit, audit);
    QTRY_COMPARE_WITH_TIMEOUT(exported.count(), 1, 30000);
    QVERIFY2(exported.first().at(0).toBool(), qPrintable(exported.first().at(1).toString()));
    QFile auditFile(audit);
    QVERIFY(auditFile.open(QIODevice::ReadOnly));
    QVERIFY(auditFile.readAll().startsWith("id,at,who,action,plan,item,detail"));
}

// Saving from the console rewrites the settings file from the dialog: what the dialog has no field
// for (four-eyes, approvers, plan lifetime, retention, the tenant's retry limit) must survive it, or
// saving an unrelated change would switch a guard back to its default. The state folder is a field:
// the console moves to it at once, and the next start opens it.
void TestSettings::savingKeepsWhatTheDialogDoesNotShow()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString file = dir.filePath(QStringLiteral("certsync.conf"));
    const QString team = dir.filePath(QStringLiteral("team"));
    QVERIFY(QDir().mkpath(team));
    {
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("version=1\n"
                "[approval]\nrequireSecondPerson=false\napprovers=alice, %certsync-admins\n"
                "[sync]\nplanLifetimeHours=6\ndeletionThreshold=40\n"
                "[history]\nretentionDays=30\n"
                "[tenant]\ntenantId=6f1c2b3a-1d2e-4f50-9a8b-7c6d5e4f3a21\n"
                "clientId=00000000-1111-2222-3333-444444444444\ncredential=secret\n"
                "maxRetryAfterSeconds=45\nexchangeMultiValuedUpdate=replace\n");
    }
    const QByteArray previous = qgetenv("CERTSYNC_CONFIG");
    qputenv("CERTSYNC_CONFIG", file.toLocal8Bit());
    auto restore = qScopeGuard([&previous] { qputenv("CERTSYNC_CONFIG", previous); });

    ui::MainWindow window;
    window.loadSettings();
    QCOMPARE(window.configuration().policy.requireSecondPerson, false);
    window.openSettings();
    ui::SettingsDialog *dialog = nullptr;
    QTRY_VERIFY((dialog = window.findChild<ui::SettingsDialog *>(QStringLiteral("settingsDialog"))));
    setText(dialog, "policyStateFolder", team);
    child<QSpinBox>(dialog, "policyDeletionThreshold")->setValue(41); // the change the person meant
    dialog->accept();

    auto saved = config::loadFile(file);
    QVERIFY2(saved.ok(), saved ? "" : qPrintable(saved.error().message));
    QCOMPARE(saved->policy.deletionThreshold, 41);
    QCOMPARE(saved->policy.requireSecondPerson, false);
    QCOMPARE(saved->policy.approvers,
             (QStringList { QStringLiteral("alice"), QStringLiteral("%certsync-admins") }));
    QCOMPARE(saved->policy.planLifetimeHours, 6);
    QCOMPARE(saved->policy.runRetentionDays, 30);
    QVERIFY(saved->tenant.has_value());
    QCOMPARE(saved->tenant->maxRetryAfterSeconds, 45);
    QCOMPARE(int(saved->tenant->exchangeMultiValuedUpdate), int(tenant::MultiValuedUpdate::Replace));
    QCOMPARE(saved->policy.stateFolder, team);
    QCOMPARE(window.statePath(), QDir(team).filePath(QStringLiteral("certsync.db")));

    ui::MainWindow next;
    next.loadSettings();
    QCOMPARE(next.statePath(), QDir(team).filePath(QStringLiteral("certsync.db")));

    // A relative folder is refused when saving, as loading would refuse it.
    config::Configuration relative = *saved;
    relative.policy.stateFolder = QStringLiteral("team");
    auto refused = config::saveFile(relative, file);
    QVERIFY(!refused);
    QVERIFY2(refused.error().message.contains(QStringLiteral("state/folder")),
             qPrintable(refused.error().message));
}

QTEST_MAIN(TestSettings)
#include "tst_settings.moc"
