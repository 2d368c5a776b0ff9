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
    m_users = qobject_cast<UsersModel *>(model);
    QSortFilterProxyModel::setSourceModel(model);
}

void UserFilterProxy::setSearchText(const QString &text)
{
    const QString needle = text.trimmed().toLower();
    if (needle == m_needle)
        return;
    m_needle = needle;
    QString hex = needle;
    hex.remove(QLatin1Char(':')).remove(QLatin1Char(' '));
    const bool isHex = hex.size() >= 4 && std::all_of(hex.cbegin(), hex.cend(), [](QChar c) {
                           return (c >= QLatin1Char('0') && c <= QLatin1Char('9'))
                               || (c >= QLatin1Char('a') && c <= QLatin1Char('f'));
                       });
    m_hexNeedle = isHex ? hex : QString();
    invalidateFilter();
}

void UserFilterProxy::setStatusShown(certs::Status status, bool shown)
{
    const quint8 bit = quint8(1u << int(status));
    const quint8 next = shown ? quint8(m_shown | bit) : quint8(m_shown & ~bit);
    if (next == m_shown)
        return;
    m_shown = next;
    invalidateFilter();
}

bool UserFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (!m_users || sourceParent.isValid())
        return QSortFilterProxyModel::filterAcceptsRow(sourceRow, sourceParent);
    const UsersModel::Row &row = m_users->row(sourceRow);
    if (!(m_shown & (1u << int(row.status))))
        return false;
    if (m_needle.isEmpty() || row.searchText.contains(m_needle))
        return true;
    if (!m_hexNeedle.isEmpty())
        for (const QString &fingerprint : row.fingerprints)
            if (fingerprint.startsWith(m_hexNeedle))
                return true;
    return false;
}

} // namespace certsync::models
