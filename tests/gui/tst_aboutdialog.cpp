// Help → About certsync: the dialog names the versions of Qt, OpenSSL and libldap in use (the
// same as `certsync --version`), copies them for a bug report, and the main window has the menu.
#include "cli/CommandLine.h"
#include "core/Versions.h"
#include "ui/AboutDialog.h"
#include "ui/MainWindow.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QLabel>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QTest>

using namespace certsync;

class TestAboutDialog : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void helpMenuOpensTheDialog();
    void dialogNamesTheVersionsInUse();
    void copyVersionsForABugReport();
    void mainWindowHasTheHelpMenu();
};

void TestAboutDialog::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    // A state database left by an earlier run (or another branch's schema) is not this run's.
    QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).removeRecursively();
    QSettings().clear();
}

void TestAboutDialog::helpMenuOpensTheDialog()
{
    QMainWindow window;
    ui::addHelpMenu(&window);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto *about = window.findChild<QAction *>(QStringLiteral("actionAbout"));
    QVERIFY(about);
    QVERIFY(window.findChild<QAction *>(QStringLiteral("actionAboutQt")));
    about->trigger();
    ui::AboutDialog *dialog = nullptr;
    QTRY_VERIFY((dialog = window.findChild<ui::AboutDialog *>(QStringLiteral("aboutDialog"))));
    QTRY_VERIFY(dialog->isVisible());
    QVERIFY(dialog->isModal());
    dialog->reject();
    // The dialog deletes itself on close: triggering again does not pile up dialogs.
    QTRY_VERIFY(!window.findChild<ui::AboutDialog *>(QStringLiteral("aboutDialog")));
}

void TestAboutDialog::dialogNamesTheVersionsInUse()
{
    ui::AboutDialog dialog;
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    const QList<ComponentVersion> versions = runtimeVersions();
    QCOMPARE(versions.size(), 4);
    QCOMPARE(dialog.findChild<QLabel *>(QStringLiteral("aboutTitle"))->text(),
             QStringLiteral("certsync ") + QStringLiteral(CERTSYNC_VERSION));
    QCOMPARE(dialog.findChild<QLabel *>(QStringLiteral("version_Qt"))->text(),
             QString::fromLatin1(qVersion()));
    const QString openssl = dialog.findChild<QLabel *>(QStringLiteral("version_OpenSSL"))->text();
    QVERIFY2(openssl.startsWith(QStringLiteral("3.")), qPrintable(openssl));
    const QString ldap = dialog.findChild<QLabel *>(QStringLiteral("version_OpenLDAP"))->text();
    QVERIFY2(ldap.startsWith(QStringLiteral("2.")), qPrintable(ldap));

    const QString shots = qEnvironmentVariable("CERTSYNC_SCREENSHOTS", QStringLiteral("screenshots"));
    QVERIFY(QDir().mkpath(shots));
    QVERIFY(dialog.grab().save(shots + QStringLiteral("/about.png")));
}

void TestAboutDialog::copyVersionsForABugReport()
{
    ui::AboutDialog dialog;
    QApplication::clipboard()->clear();
    QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("copyVersions")), Qt::LeftButton);
    const QString copied = QApplication::clipboard()->text();
    QCOMPARE(copied, cli::versionText());
    QVERIFY2(copied.contains(QStringLiteral("\nOpenSSL 3.")), qPrintable(copied));
}

void TestAboutDialog::mainWindowHasTheHelpMenu()
{
    ui::MainWindow window;
    const QList<QAction *> menus = window.menuBar()->actions();
    QVERIFY(!menus.isEmpty());
    // Help is the last menu, as desktop conventions have it.
    QMenu *last = menus.constLast()->menu();
    QVERIFY(last);
    QCOMPARE(last->objectName(), QStringLiteral("helpMenu"));
    QVERIFY(last->findChild<QAction *>(QStringLiteral("actionAbout")));
    QVERIFY(last->findChild<QAction *>(QStringLiteral("actionAboutQt")));
}

QTEST_MAIN(TestAboutDialog)
#include "tst_aboutdialog.moc"
