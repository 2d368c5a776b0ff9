#pragma once

#include <QDialog>

class QMainWindow;

namespace certsync::ui {

// Help → About certsync: what certsync is, and the versions of certsync, Qt, OpenSSL and libldap it
// runs with (the same as `certsync --version`), with a button that copies them for a bug report.
class AboutDialog : public QDialog
{
    Q_OBJECT

public:
    explicit AboutDialog(QWidget *parent = nullptr);
};

// Adds the Help menu (About certsync, About Qt) at the end of `window`'s menu bar.
void addHelpMenu(QMainWindow *window);

} // namespace certsync::ui
