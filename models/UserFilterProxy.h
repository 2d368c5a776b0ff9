#pragma once

#include "certs/Problem.h"

#include <QSortFilterProxyModel>

namespace certsync::models {

class UsersModel;

// Filters the users pane: free text over name, UPN and mail (substring) or a certificate
// fingerprint (hex prefix, colons and spaces ignored), and status chips. Sorts on raw values.
class UserFilterProxy : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit UserFilterProxy(QObject *parent = nullptr);

    void setSourceModel(QAbstractItemModel *model) override;
    void setSearchText(const QString &text);
    [[nodiscard]] QString searchText() const { return m_needle; }
    // Which statuses are shown; all three by default.
    void setStatusShown(certs::Status status, bool shown);
    [[nodiscard]] bool isStatusShown(certs::Status status) const { return m_shown & (1u << int(status)); }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    UsersModel *m_users = nullptr;
    QString m_needle; // lower case
    QString m_hexNeedle; // the needle as a fingerprint prefix, or empty when it cannot be one
    quint8 m_shown = 0b111;
};

} // namespace certsync::models
