#include "ui/MainWindow.h"

#include <QLabel>
#include <QMenuBar>
#include <QStatusBar>
#include <QTabWidget>

namespace certsync::ui {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_tabs(new QTabWidget(this))
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("certsync"));
    m_tabs->setObjectName(QStringLiteral("mainTabs"));
    const struct
    {
        const char *name;
        QString title;
    } panes[] = { { "dashboardPane", tr("Dashboard") },
                  { "usersPane", tr("Users") },
                  { "stagedPane", tr("Staged changes") },
                  { "logPane", tr("Log") } };
    for (const auto &pane : panes) {
        auto *placeholder = new QLabel(tr("Nothing loaded yet."), m_tabs);
        placeholder->setObjectName(QString::fromLatin1(pane.name));
        placeholder->setAlignment(Qt::AlignCenter);
        m_tabs->addTab(placeholder, pane.title);
    }
    setCentralWidget(m_tabs);
    auto *file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    statusBar()->showMessage(tr("Ready"));
    resize(1100, 720);
}

MainWindow::~MainWindow() = default;

} // namespace certsync::ui
