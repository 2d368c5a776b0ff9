// certsync: the console without a command, the headless command line with one.
#include "cli/CommandLine.h"
#include "ui/DemoLauncher.h"
#include "ui/MainWindow.h"

#include <QApplication>
#include <QCoreApplication>

#include <cstdio>
#include <memory>

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
    }
    return QApplication::exec();
}
