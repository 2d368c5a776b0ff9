#include "models/UserFilterProxy.h"

#include "models/UsersModel.h"

#include <algorithm>

namespace certsync::models {

UserFilterProxy::UserFilterProxy(QObject *parent)
    : QAbstractProxyModel(parent)
{ }

void UserFilterProxy::setSourceModel(QAbstractItemModel *model)
{
    if (model == sourceModel())
        return;
    auto *users = qobject_cast<UsersModel *>(model);
    if (model && !users) {
        qWarning("UserFilterProxy: the source model must be a UsersModel, not a %s; keeping the previous one",
                 model->metaObject()->className());
        return;
    }
    beginResetModel();
    if (m_users)
        disconnect(m_users, nullptr, this, nullptr);
    m_users = users;
    QAbstractProxyModel::setSourceModel(model);
    if (m_users) {
        // UsersModel changes its rows only by a reset; any other structural change is handled as
        // one too, so that no signal leaves the mapping stale.
        for (auto signal :
             { &QAbstractItemModel::rowsAboutToBeInserted, &QAbstractItemModel::rowsAboutToBeRemoved,
               &QAbstractItemModel::columnsAboutToBeInserted, &QAbstractItemModel::columnsAboutToBeRemoved })
            connect(m_users, signal, this, &UserFilterProxy::sourceAboutToChange);
        for (auto signal : { &QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved,
                             &QAbstractItemModel::columnsInserted, &QAbstractItemModel::columnsRemoved })
            connect(m_users, signal, this, &UserFilterProxy::sourceChanged);
        connect(m_users, &QAbstractItemModel::modelAboutToBeReset, this,
                &UserFilterProxy::sourceAboutToChange);
        connect(m_users, &QAbstractItemModel::modelReset, this, &UserFilterProxy::sourceChanged);
        connect(m_users, &QAbstractItemModel::layoutAboutToBeChanged, this,
                &UserFilterProxy::sourceAboutToChange);
        connect(m_users, &QAbstractItemModel::layoutChanged, this, &UserFilterProxy::sourceChanged);
        connect(m_users, &QAbstractItemModel::dataChanged, this, &UserFilterProxy::sourceDataChanged);
        // Silently, as QAbstractProxyModel does: whoever listens may be going down with the model
        // (the window), and asking a half-destroyed model its rows would crash.
        connect(m_users, &QObject::destroyed, this, [this] {
            m_users = nullptr;
            m_history.clear();
            m_accepted.clear();
            m_rows.clear();
            m_proxyRowOf.clear();
        });
    }
    m_history.clear();
    recompute();
    endResetModel();
}

void UserFilterProxy::sourceAboutToChange()
{
    beginResetModel();
}

void UserFilterProxy::sourceChanged()
{
    m_history.clear(); // the rows it holds were another snapshot's
    recompute();
    endResetModel();
}

void UserFilterProxy::sourceDataChanged(const QModelIndex &topLeft, const QModelIndex &bottomRight,
                                        const QList<int> &roles)
{
    if (!topLeft.isValid() || !bottomRight.isValid())
        return;
    const int left = topLeft.column();
    const int right = bottomRight.column();
    auto covers = [&](int column) { return column >= left && column <= right; };
    // The sort column's values changed (the tenant match), or the statuses the chips filter on.
    if ((m_sortColumn >= 0 && covers(m_sortColumn)) || covers(UsersModel::Status))
        relayout(covers(UsersModel::Status), QAbstractItemModel::VerticalSortHint);
    if (m_rows.empty())
        return;
    if (topLeft.row() == bottomRight.row()) {
        const int row = m_proxyRowOf[size_t(topLeft.row())];
        if (row >= 0)
            emit dataChanged(index(row, left), index(row, right), roles);
        return;
    }
    // Many rows, scattered through the proxy: the views repaint what they show.
    emit dataChanged(index(0, left), index(rowCount() - 1, right), roles);
}

void UserFilterProxy::sort(int column, Qt::SortOrder order)
{
    if (column < 0 || column >= UsersModel::ColumnCount)
        column = -1;
    if (column == m_sortColumn && order == m_sortOrder)
        return;
    m_sortColumn = column;
    m_sortOrder = order;
    relayout(false, QAbstractItemModel::VerticalSortHint);
}

void UserFilterProxy::setSearchText(const QString &text)
{
    const QString needle = text.trimmed().toCaseFolded();
    if (needle == m_needle)
        return;
    m_needle = needle;
    QString hex = needle;
    hex.remove(QLatin1Char(':')).remove(QLatin1Char(' '));
    const bool isHex =
        hex.size() >= 4 && hex.size() <= 64 && std::all_of(hex.cbegin(), hex.cend(), [](QChar c) {
            return (c >= QLatin1Char('0') && c <= QLatin1Char('9'))
                || (c >= QLatin1Char('a') && c <= QLatin1Char('f'));
        });
    m_hexNeedle = isHex ? hex.toLatin1() : QByteArray();
    relayout(true, QAbstractItemModel::NoLayoutChangeHint);
}

void UserFilterProxy::setStatusShown(certs::Status status, bool shown)
{
    const quint8 bit = quint8(1u << int(status));
    const quint8 next = shown ? quint8(m_shown | bit) : quint8(m_shown & ~bit);
    if (next == m_shown)
        return;
    m_shown = next;
    relayout(true, QAbstractItemModel::NoLayoutChangeHint);
}

const std::vector<int> *UserFilterProxy::textMatches()
{
    if (m_needle.isEmpty() || !m_users)
        return nullptr;
    while (!m_history.empty() && !m_needle.contains(m_history.back().needle))
        m_history.pop_back();
    if (!m_history.empty() && m_history.back().needle == m_needle)
        return &m_history.back().rows; // a deleted character, or a chip toggled: no search
    // A text that contains the previous one matches a subset of what that one matched.
    std::vector<int> rows = m_history.empty() ? m_users->rowsMatching(m_needle)
                                              : m_users->rowsMatching(m_needle, m_history.back().rows);
    m_history.push_back({ m_needle, std::move(rows) });
    return &m_history.back().rows;
}

void UserFilterProxy::recompute()
{
    const size_t n = m_users ? size_t(m_users->rowCount()) : 0;
    m_accepted.assign(n, 0);
    auto shown = [this](int row) { return char((m_shown >> int(m_users->status(row))) & 1u); };
    if (const std::vector<int> *text = textMatches()) {
        for (const int row : *text)
            m_accepted[size_t(row)] = shown(row);
        if (!m_hexNeedle.isEmpty())
            for (const int row : m_users->rowsWithFingerprint(m_hexNeedle))
                m_accepted[size_t(row)] = shown(row);
    } else {
        for (size_t row = 0; row < n; ++row)
            m_accepted[row] = shown(int(row));
    }
    rebuildRows();
}

void UserFilterProxy::rebuildRows()
{
    const size_t n = m_accepted.size();
    m_rows.clear();
    m_proxyRowOf.assign(n, -1);
    auto take = [this](int row) {
        if (m_accepted[size_t(row)]) {
            m_proxyRowOf[size_t(row)] = int(m_rows.size());
            m_rows.push_back(row);
        }
    };
    if (m_sortColumn >= 0 && m_users) {
        for (const int row : m_users->sortOrder(m_sortColumn, m_sortOrder))
            take(row);
    } else {
        for (size_t row = 0; row < n; ++row)
            take(int(row));
    }
}

void UserFilterProxy::relayout(bool refilter, QAbstractItemModel::LayoutChangeHint hint)
{
    emit layoutAboutToBeChanged({}, hint);
    const QModelIndexList before = persistentIndexList();
    std::vector<int> sources; // the source row of each persistent index
    sources.reserve(size_t(before.size()));
    for (const QModelIndex &i : before)
        sources.push_back(i.isValid() ? m_rows[size_t(i.row())] : -1);
    if (refilter)
        recompute();
    else
        rebuildRows();
    QModelIndexList after;
    after.reserve(before.size());
    for (qsizetype i = 0; i < before.size(); ++i) {
        const int source = sources[size_t(i)];
        const int row = source >= 0 ? m_proxyRowOf[size_t(source)] : -1;
        after.append(row >= 0 ? createIndex(row, before.at(i).column()) : QModelIndex());
    }
    changePersistentIndexList(before, after);
    emit layoutChanged({}, hint);
}

QModelIndex UserFilterProxy::mapToSource(const QModelIndex &proxyIndex) const
{
    if (!m_users || !proxyIndex.isValid() || proxyIndex.model() != this || proxyIndex.row() >= rowCount())
        return {};
    return m_users->index(m_rows[size_t(proxyIndex.row())], proxyIndex.column());
}

QModelIndex UserFilterProxy::mapFromSource(const QModelIndex &sourceIndex) const
{
    if (!m_users || !sourceIndex.isValid() || sourceIndex.model() != m_users
        || size_t(sourceIndex.row()) >= m_proxyRowOf.size())
        return {};
    const int row = m_proxyRowOf[size_t(sourceIndex.row())];
    return row < 0 ? QModelIndex() : createIndex(row, sourceIndex.column());
}

QModelIndex UserFilterProxy::index(int row, int column, const QModelIndex &parent) const
{
    if (parent.isValid() || row < 0 || row >= rowCount() || column < 0 || column >= columnCount())
        return {};
    return createIndex(row, column);
}

QModelIndex UserFilterProxy::parent(const QModelIndex &) const
{
    return {};
}

int UserFilterProxy::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int UserFilterProxy::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() || !m_users ? 0 : m_users->columnCount();
}

bool UserFilterProxy::hasChildren(const QModelIndex &parent) const
{
    return !parent.isValid() && rowCount() > 0 && columnCount() > 0;
}

QVariant UserFilterProxy::headerData(int section, Qt::Orientation orientation, int role) const
{
    // Column titles do not depend on which rows are shown (the base class asks row 0 for them).
    if (orientation == Qt::Horizontal && m_users)
        return m_users->headerData(section, orientation, role);
    return QAbstractItemModel::headerData(section, orientation, role);
}

} // namespace certsync::models
