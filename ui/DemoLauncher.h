#pragma once

#include <QObject>
#include <QProcess>
#include <QString>

namespace certsync::ui {

class MainWindow;

// The README's demo: starts a seeded OpenLDAP directory on loopback with the project's own fixture
// script (the same one the integration tests use), points the console at it and reads it. The server
// is stopped again when the launcher goes away. Only builds that carry the test fixtures have it.
class DemoLauncher : public QObject
{
    Q_OBJECT
public:
    DemoLauncher(MainWindow *window, const QString &scriptsDir, const QString &seeder,
                 QObject *parent = nullptr);
    ~DemoLauncher() override;

    void start(int users = 400);
    [[nodiscard]] QString stateDir() const { return m_dir; }

signals:
    void failed(const QString &message);

private:
    void onStarted(int exitCode, QProcess::ExitStatus status);
    void log(int level, const QString &message);

    MainWindow *m_window;
    QString m_scripts;
    QString m_seeder;
    QString m_dir;
    QProcess m_process;
    bool m_running = false;
};

} // namespace certsync::ui
