#include "ui/AboutDialog.h"

#include "cli/CommandLine.h"
#include "core/Versions.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QMainWindow>
#include <QMenuBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace certsync::ui {

AboutDialog::AboutDialog(QWidget *parent)
    : QDialog(parent)
{
    setObjectName(QStringLiteral("aboutDialog"));
    setWindowTitle(tr("About certsync"));

    const QList<ComponentVersion> versions = runtimeVersions();

    auto *icon = new QLabel(this);
    const QIcon appIcon = QIcon::fromTheme(QStringLiteral("certsync"), QApplication::windowIcon());
    if (!appIcon.isNull())
        icon->setPixmap(appIcon.pixmap(64, 64));
    icon->setAlignment(Qt::AlignTop);

    auto *title = new QLabel(this);
    title->setObjectName(QStringLiteral("aboutTitle"));
    title->setTextFormat(Qt::PlainText);
    title->setText(tr("certsync %1").arg(versions.constFirst().version));
    QFont titleFont = title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.4);
    titleFont.setBold(true);
    title->setFont(titleFont);

    auto *summary = new QLabel(tr("Keeps users' S/MIME certificates in sync between an on-premises "
                                  "directory (Active Directory or OpenLDAP) and Microsoft 365."),
                               this);
    summary->setWordWrap(true);

    auto *form = new QFormLayout;
    for (qsizetype i = 1; i < versions.size(); ++i) {
        auto *value = new QLabel(versions.at(i).version, this);
        value->setObjectName(QStringLiteral("version_") + versions.at(i).name);
        value->setTextInteractionFlags(Qt::TextSelectableByMouse);
        form->addRow(tr("%1:").arg(versions.at(i).name), value);
    }
    auto *inUse = new QLabel(tr("Libraries in use:"), this);

    auto *text = new QVBoxLayout;
    text->addWidget(title);
    text->addWidget(summary);
    text->addSpacing(8);
    text->addWidget(inUse);
    text->addLayout(form);
    auto *top = new QHBoxLayout;
    top->addWidget(icon);
    top->addLayout(text, 1);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto *copy = buttons->addButton(tr("&Copy versions"), QDialogButtonBox::ActionRole);
    copy->setObjectName(QStringLiteral("copyVersions"));
    connect(copy, &QPushButton::clicked, this,
            [] { QGuiApplication::clipboard()->setText(cli::versionText()); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(buttons);
    setMinimumWidth(420);
}

void addHelpMenu(QMainWindow *window)
{
    auto *help = window->menuBar()->addMenu(AboutDialog::tr("&Help"));
    help->setObjectName(QStringLiteral("helpMenu"));
    auto *about = help->addAction(AboutDialog::tr("&About certsync"));
    about->setObjectName(QStringLiteral("actionAbout"));
    about->setMenuRole(QAction::AboutRole);
    QObject::connect(about, &QAction::triggered, window, [window] {
        auto *dialog = new AboutDialog(window);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->open();
    });
    auto *aboutQt = help->addAction(AboutDialog::tr("About &Qt"));
    aboutQt->setObjectName(QStringLiteral("actionAboutQt"));
    aboutQt->setMenuRole(QAction::AboutQtRole);
    QObject::connect(aboutQt, &QAction::triggered, window, [] { QApplication::aboutQt(); });
}

} // namespace certsync::ui
