#pragma once

#include <QWidget>

class QLineEdit;
class QTableView;
class QToolButton;
class QLabel;

namespace certsync::models {
class UsersModel;
class UserFilterProxy;
} // namespace certsync::models

namespace certsync::ui {

// The users table with its search box and status chips.
class UsersPane : public QWidget
{
    Q_OBJECT
public:
    UsersPane(models::UsersModel *model, QWidget *parent = nullptr);

    [[nodiscard]] models::UserFilterProxy *proxy() const { return m_proxy; }
    [[nodiscard]] QTableView *table() const { return m_table; }
    void focusSearch();
    // Selects the user at this row of the model (when the filters show it), as a click would.
    void selectSourceRow(int sourceRow);
    // Selects a user found by a live look-up, clearing the search when it does not show that user.
    void showFoundUser(int sourceRow);
    // Under the search box: a look-up under way, or why it found no one. Empty hides it.
    void setLookupStatus(const QString &text);

signals:
    // The selected user's row in the source model, -1 when none.
    void currentUserChanged(int sourceRow);
    // Enter in the search box on a name no loaded user matches: look that one user up live.
    void lookupRequested(const QString &who);

private:
    void updateCount();
    void searchEntered();
    // Hides the columns no user has a value in (UPN on OpenLDAP), shows the others.
    void hideEmptyColumns();

    models::UsersModel *m_model;
    models::UserFilterProxy *m_proxy;
    QLineEdit *m_search;
    QTableView *m_table;
    QLabel *m_count;
    QLabel *m_lookupStatus;
    QList<QToolButton *> m_chips;
};

} // namespace certsync::ui
