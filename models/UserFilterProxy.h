#pragma once

#include "certs/Problem.h"

#include <QSortFilterProxyModel>
#include <QStringMatcher>

#include <vector>

namespace certsync::models {

class UsersModel;

// Filters the users pane: free text over name, UPN and mail (substring) or a certificate
// fingerprint (hex prefix, colons and spaces ignored), and status chips. Sorting is the
// UsersModel's own (on raw values): the proxy keeps its order, so a keystroke costs one pass over
// the rows' precomputed search keys and no sort (under 30 ms at 100,000 users).
class UserFilterProxy : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit UserFilterProxy(QObject *parent = nullptr);

    void setSourceModel(QAbstractItemModel *model) override;
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;
    void setSearchText(const QString &text);
    [[nodiscard]] QString searchText() const { return m_needle; }
    // Which statuses are shown; all three by default.
    void setStatusShown(certs::Status status, bool shown);
    [[nodiscard]] bool isStatusShown(certs::Status status) const { return m_shown & (1u << int(status)); }

protected:
    void refilter();
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    UsersModel *m_users = nullptr;
    QString m_needle; // lower case
    QStringMatcher m_matcher; // of m_needle
    // Per storage index of the UsersModel: what the text matches, computed once a keystroke
    // (lazily, on the first row asked for) rather than once a row.
    mutable std::vector<char> m_matches;
    mutable bool m_matchesValid = false;
    QString m_hexNeedle; // the needle as a fingerprint prefix, or empty when it cannot be one
    quint8 m_shown = 0b111;
};

} // namespace certsync::models
