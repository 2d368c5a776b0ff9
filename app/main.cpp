// certsync: the console without a command, the headless command line with one.
#include "cli/CommandLine.h"
#include "ui/DemoLauncher.h"
#include "ui/MainWindow.h"

#include <QApplication>
#include <QCoreApplication>
#include <QSocketNotifier>

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace {

// SIGINT/SIGTERM end the event loop normally, so that the demo's directory server is stopped and
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

} // namespace

int main(int argc, char *argv[])
{
    QStringList arguments;
    for (int i = 1; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));

    if (certsync::cli::isHeadless(arguments)) {
        QCoreApplication app(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral("certsync"));
        QTextStream out(stdout);
        QTextStream err(stderr);
        return certsync::cli::run(arguments, out, err);
    }

    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("certsync"));
    QApplication::setApplicationDisplayName(QStringLiteral("certsync"));
    QApplication::setOrganizationName(QStringLiteral("certsync"));
    QApplication::setDesktopFileName(QStringLiteral("certsync"));
    quitOnSignals(app);
    certsync::ui::MainWindow window;
    window.show();
    std::unique_ptr<certsync::ui::DemoLauncher> demo;
    if (arguments.contains(QStringLiteral("--demo"))) {
#ifdef CERTSYNC_DEMO_SCRIPTS
        demo = std::make_unique<certsync::ui::DemoLauncher>(&window, QStringLiteral(CERTSYNC_DEMO_SCRIPTS),
                                                            QStringLiteral(CERTSYNC_DEMO_SEEDER));
        demo->start();
#else
        std::fputs("certsync: this build has no demo (configure with CERTSYNC_BUILD_TESTS=ON)\n", stderr);
        return 2;
#endif
    } else {
        window.loadSettings(); // the demo brings its own directory and tenant
    }
    return QApplication::exec();
}
