#pragma once

#include <QMainWindow>

class QTabWidget;

namespace certsync::ui {

// The console's window: dashboard, users and certificates, staged changes, log.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

private:
    QTabWidget *m_tabs = nullptr;
};

} // namespace certsync::ui
