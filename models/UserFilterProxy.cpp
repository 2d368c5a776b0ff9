#include "models/UserFilterProxy.h"

#include "models/UsersModel.h"

namespace certsync::models {

UserFilterProxy::UserFilterProxy(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(UsersModel::SortRole);
    setDynamicSortFilter(true);
}

void UserFilterProxy::setSourceModel(QAbstractItemModel *model)
{
    if (m_users)
        disconnect(m_users, nullptr, this, nullptr);
    m_users = qobject_cast<UsersModel *>(model);
    m_matchesValid = false;
    if (m_users) // a new snapshot has other rows to match
        connect(m_users, &QAbstractItemModel::modelAboutToBeReset, this, [this] { m_matchesValid = false; });
    QSortFilterProxyModel::setSourceModel(model);
}

void UserFilterProxy::sort(int column, Qt::SortOrder order)
{
    if (m_users)
        m_users->sort(column, order); // the proxy follows the source's new order
    else
        QSortFilterProxyModel::sort(column, order);
}

void UserFilterProxy::refilter()
{
    m_matchesValid = false;
    // invalidateFilter() reports each removed and inserted range, thousands of them when a
    // keystroke hides rows all over a large list; one layout change (persistent indexes, and so
    // the selection, kept where the row stays) costs a single pass.
    if (m_users)
        invalidate();
    else
        invalidateFilter();
}

void UserFilterProxy::setSearchText(const QString &text)
{
    const QString needle = text.trimmed().toLower();
    if (needle == m_needle)
        return;
    m_needle = needle;
    m_matcher.setPattern(needle);
    QString hex = needle;
    hex.remove(QLatin1Char(':')).remove(QLatin1Char(' '));
    const bool isHex = hex.size() >= 4 && std::all_of(hex.cbegin(), hex.cend(), [](QChar c) {
                           return (c >= QLatin1Char('0') && c <= QLatin1Char('9'))
                               || (c >= QLatin1Char('a') && c <= QLatin1Char('f'));
                       });
    m_hexNeedle = isHex ? hex : QString();
    refilter();
}

void UserFilterProxy::setStatusShown(certs::Status status, bool shown)
{
    const quint8 bit = quint8(1u << int(status));
    const quint8 next = shown ? quint8(m_shown | bit) : quint8(m_shown & ~bit);
    if (next == m_shown)
        return;
    m_shown = next;
    refilter();
}

bool UserFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (!m_users || sourceParent.isValid())
        return QSortFilterProxyModel::filterAcceptsRow(sourceRow, sourceParent);
    const UsersModel::Row &row = m_users->row(sourceRow);
    if (!(m_shown & (1u << int(row.status))))
        return false;
    if (m_needle.isEmpty())
        return true;
    if (!m_matchesValid || m_matches.size() != size_t(m_users->rowCount())) {
        m_matches = m_users->matching(m_matcher, m_hexNeedle);
        m_matchesValid = true;
    }
    return m_matches[size_t(m_users->storageIndex(sourceRow))];
}

} // namespace certsync::models
