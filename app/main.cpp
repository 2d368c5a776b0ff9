// certsync: the console without a command, the headless command line with one.
#include "certs/OpenSsl.h"
#include "cli/CommandLine.h"
#include "ui/DemoLauncher.h"
#include "ui/MainWindow.h"

#include <QApplication>
#include <QCoreApplication>
#include <QFileInfo>
#include <QIcon>
#include <QLibraryInfo>
#include <QLocale>
#include <QSocketNotifier>
#include <QTranslator>

#include <sys/stat.h>

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace {

// SIGINT/SIGTERM end the event loop normally, so that the demo's servers are stopped and
// window state saved, as when the window is closed. The handler only writes a byte (async-safe).
int signalPipe[2] = { -1, -1 };

void onSignal(int)
{
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(signalPipe[0], &byte, 1);
}

void quitOnSignals(QCoreApplication &app)
{
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalPipe) != 0)
        return;
    auto *notifier = new QSocketNotifier(signalPipe[1], QSocketNotifier::Read, &app);
    QObject::connect(notifier, &QSocketNotifier::activated, &app, [] { QCoreApplication::quit(); });
    struct sigaction action = {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

// Qt's own strings (standard buttons, About Qt) and certsync's, in the user's language where a
// translation exists; English, the source language, otherwise.
void installTranslators(QCoreApplication &app)
{
    auto *qt = new QTranslator(&app);
    if (qt->load(QLocale(), QStringLiteral("qtbase"), QStringLiteral("_"),
                 QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QCoreApplication::installTranslator(qt);
    auto *own = new QTranslator(&app);
    if (own->load(QLocale(), QStringLiteral("certsync"), QStringLiteral("_"), QStringLiteral(":/i18n")))
        QCoreApplication::installTranslator(own);
}

} // namespace

int main(int argc, char *argv[])
{
    // Nothing certsync creates is readable by other accounts: a file is 0600 from its first moment,
    // and only a group's shared (setgid) folder makes the state and exports group-readable and
    // -writable (store/FileModes.h).
    ::umask(077);
    certsync::ossl::initialiseForProcess();
    QStringList arguments;
    for (int i = 1; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));

    // The same names for the console and the command line, so that both find the same settings and
    // state database (QStandardPaths::AppDataLocation and QSettings derive their paths from them).
    QCoreApplication::setOrganizationName(QStringLiteral("certsync"));
    QCoreApplication::setApplicationName(QStringLiteral("certsync"));
    if (certsync::cli::isHeadless(arguments)) {
        QCoreApplication app(argc, argv);
        QTextStream out(stdout);
        QTextStream err(stderr);
        return certsync::cli::run(arguments, out, err);
    }

    QApplication app(argc, argv);
    QApplication::setApplicationDisplayName(QStringLiteral("certsync"));
    QApplication::setDesktopFileName(QStringLiteral("certsync"));
    QApplication::setWindowIcon(
        QIcon::fromTheme(QStringLiteral("certsync"), QIcon(QStringLiteral(":/icons/certsync.svg"))));
    installTranslators(app);
    const bool runDemo = arguments.contains(QStringLiteral("--demo"));
#ifdef CERTSYNC_DEMO_SCRIPTS
    // The demo's directory is seeded by tools of the source and build trees, whose paths are built
    // in. Only the binary in its own build tree may use them: an installed copy (the .deb) says that
    // the demo is not part of it rather than depend on a source tree.
    const QString demoScripts = QStringLiteral(CERTSYNC_DEMO_SCRIPTS);
    const QString demoSeeder = QStringLiteral(CERTSYNC_DEMO_SEEDER);
    const QString demoTenantSim = QStringLiteral(CERTSYNC_DEMO_TENANTSIM);
    const QString runningFrom = QFileInfo(QCoreApplication::applicationDirPath()).canonicalFilePath();
    const bool demoAvailable =
        runningFrom == QFileInfo(QStringLiteral(CERTSYNC_DEMO_BUILD_DIR)).canonicalFilePath()
        && QFileInfo::exists(demoScripts + QStringLiteral("/slapd.sh"))
        && QFileInfo(demoSeeder).isExecutable() && QFileInfo(demoTenantSim).isExecutable();
#else
    const bool demoAvailable = false;
#endif
    if (runDemo && !demoAvailable) {
        std::fputs(
            "certsync: the demo is not part of this installation: it runs from a source build, with the "
            "seeder and test fixtures of its build tree (see README.md, \"The two commands\")\n",
            stderr);
        return 2;
    }
    quitOnSignals(app);
    certsync::ui::MainWindow window;
    window.show();
    std::unique_ptr<certsync::ui::DemoLauncher> demo;
#ifdef CERTSYNC_DEMO_SCRIPTS
    if (runDemo) {
        demo = std::make_unique<certsync::ui::DemoLauncher>(&window, demoScripts, demoSeeder, demoTenantSim);
        demo->start();
    }
#endif
    if (!runDemo) {
        // The stored snapshot at once, then a read, once the settings (and the keychain) are in.
        QObject::connect(&window, &certsync::ui::MainWindow::settingsApplied, &window,
                         &certsync::ui::MainWindow::startFromState, Qt::SingleShotConnection);
        window.loadSettings(); // the demo brings its own directory and tenant
    }
    return QApplication::exec();
}
