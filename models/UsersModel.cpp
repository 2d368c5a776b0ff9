#include "models/UsersModel.h"

#include "models/StatusPresentation.h"

#include <QCoreApplication>

#include <QLocale>

#include <algorithm>
#include <numeric>

namespace certsync::models {

QString tenantMatchText(TenantMatch match)
{
    switch (match) {
    case TenantMatch::NotRead:
        return QCoreApplication::translate("certsync", "not read");
    case TenantMatch::Unmatched:
        return QCoreApplication::translate("certsync", "unmatched");
    case TenantMatch::Synced:
        return QCoreApplication::translate("certsync", "synced");
    case TenantMatch::Cloud:
        return QCoreApplication::translate("certsync", "cloud");
    }
    return {};
}

UsersModel::UsersModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

UsersModel::~UsersModel() = default;

UsersModel::Row UsersModel::summarize(const directory::DirectoryUser &user, const QDateTime &now)
{
    Row row;
    row.displayName = user.displayName.isEmpty() ? user.accountName : user.displayName;
    row.userPrincipalName = user.userPrincipalName;
    row.mail = user.mail;
    row.searchText = (row.displayName + QLatin1Char('\n') + row.userPrincipalName + QLatin1Char('\n')
                      + row.mail + QLatin1Char('\n') + user.accountName)
                         .toLower();
    QDateTime soonestValid;
    QDateTime latestExpired;
    for (const certs::AnalyzedValue &value : user.values) {
        row.status = std::max(row.status, value.valueProblems.status());
        for (int i = 0; i < value.certificates.size(); ++i) {
            const certs::JudgedCertificate &cert = value.certificates.at(i);
            if (!cert.isUsers)
                continue;
            ++row.certificates;
            row.status = std::max(row.status, value.problemsOf(i).status());
            const QDateTime notAfter = cert.certificate.notAfter;
            if (notAfter > now) {
                if (!soonestValid.isValid() || notAfter < soonestValid)
                    soonestValid = notAfter;
            } else if (!latestExpired.isValid() || notAfter > latestExpired) {
                latestExpired = notAfter;
            }
            const QString hex = cert.certificate.sha256Hex();
            if (!row.fingerprints.contains(hex))
                row.fingerprints.append(hex);
        }
    }
    row.soonestExpiry = soonestValid.isValid() ? soonestValid : latestExpired;
    return row;
}

void UsersModel::setSnapshot(std::shared_ptr<const directory::DirectorySnapshot> snapshot,
                             const QDateTime &now)
{
    beginResetModel();
    m_snapshot = std::move(snapshot);
    m_rows.clear();
    m_rowByDn.clear();
    if (m_snapshot) {
        m_rows.reserve(size_t(m_snapshot->users.size()));
        m_rowByDn.reserve(m_snapshot->users.size());
        for (const directory::DirectoryUser &user : m_snapshot->users) {
            m_rowByDn.insert(user.dn, int(m_rows.size()));
            m_rows.push_back(summarize(user, now));
        }
    }
    m_searchKeys.clear();
    m_searchStart.clear();
    m_fingerprintKeys.clear();
    m_fingerprintOwner.clear();
    qsizetype size = 0;
    for (const Row &r : m_rows)
        size += r.searchText.size() + 1;
    m_searchKeys.reserve(size);
    m_searchStart.reserve(m_rows.size() + 1);
    for (size_t i = 0; i < m_rows.size(); ++i) {
        m_searchStart.push_back(int(m_searchKeys.size()));
        m_searchKeys += m_rows[i].searchText;
        m_searchKeys += QChar(0);
        for (const QString &fingerprint : m_rows[i].fingerprints) {
            m_fingerprintKeys += fingerprint;
            m_fingerprintOwner.push_back(int(i));
        }
    }
    m_searchStart.push_back(int(m_searchKeys.size()));
    applySort();
    endResetModel();
}

std::vector<char> UsersModel::matching(const QStringMatcher &needle, const QString &hexPrefix) const
{
    std::vector<char> out(m_rows.size(), 0);
    if (needle.pattern().isEmpty()) {
        std::fill(out.begin(), out.end(), 1);
        return out;
    }
    // One character: the vectorised character search beats Boyer-Moore's table.
    const bool single = needle.pattern().size() == 1;
    const QChar first = needle.pattern().at(0);
    auto find = [&](qsizetype from) {
        return single ? m_searchKeys.indexOf(first, from) : needle.indexIn(m_searchKeys, from);
    };
    for (qsizetype pos = find(0); pos >= 0;) {
        const auto next = std::upper_bound(m_searchStart.cbegin(), m_searchStart.cend(), int(pos));
        const size_t row = size_t(next - m_searchStart.cbegin()) - 1;
        out[row] = 1;
        pos = find(*next); // on with the next row
    }
    if (!hexPrefix.isEmpty() && hexPrefix.size() <= 64) {
        const QStringView keys(m_fingerprintKeys);
        for (size_t f = 0; f < m_fingerprintOwner.size(); ++f)
            if (keys.mid(qsizetype(f) * 64, hexPrefix.size()) == hexPrefix)
                out[size_t(m_fingerprintOwner[f])] = 1;
    }
    return out;
}

QVariant UsersModel::sortKey(const Row &r, int column)
{
    switch (column) {
    case Certificates:
        return r.certificates;
    case SoonestExpiry:
        return r.soonestExpiry.isValid() ? r.soonestExpiry.toMSecsSinceEpoch()
                                         : std::numeric_limits<qint64>::max();
    case Status:
        return int(r.status);
    case Tenant:
        return int(r.tenant);
    case DisplayName:
        return r.displayName.toLower();
    case UserPrincipalName:
        return r.userPrincipalName.toLower();
    case Mail:
        return r.mail.toLower();
    default:
        return {};
    }
}

void UsersModel::applySort()
{
    const size_t n = m_rows.size();
    m_order.resize(n);
    std::iota(m_order.begin(), m_order.end(), 0);
    if (m_sortColumn >= 0 && m_sortColumn < ColumnCount && n > 1) {
        std::vector<QVariant> keys(n);
        for (size_t i = 0; i < n; ++i)
            keys[i] = sortKey(m_rows[i], m_sortColumn);
        const bool ascending = m_sortOrder == Qt::AscendingOrder;
        // From the snapshot's order every time, so that ties come out as they do in any sorted view.
        std::stable_sort(m_order.begin(), m_order.end(), [&](int a, int b) {
            const QPartialOrdering c = QVariant::compare(keys[size_t(a)], keys[size_t(b)]);
            return ascending ? c == QPartialOrdering::Less : c == QPartialOrdering::Greater;
        });
    }
    m_position.resize(n);
    for (size_t i = 0; i < n; ++i)
        m_position[size_t(m_order[i])] = int(i);
}

void UsersModel::sort(int column, Qt::SortOrder order)
{
    m_sortColumn = column;
    m_sortOrder = order;
    if (m_rows.empty())
        return;
    emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    const QModelIndexList before = persistentIndexList();
    QList<int> rowsOf; // index into m_rows of each persistent index
    rowsOf.reserve(before.size());
    for (const QModelIndex &i : before)
        rowsOf.append(m_order[size_t(i.row())]);
    applySort();
    QModelIndexList after;
    after.reserve(before.size());
    for (qsizetype i = 0; i < before.size(); ++i)
        after.append(index(m_position[size_t(rowsOf.at(i))], before.at(i).column()));
    changePersistentIndexList(before, after);
    emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
}

void UsersModel::setTenantMatches(const QHash<QString, TenantMatch> &byDn)
{
    if (m_rows.empty())
        return;
    for (auto it = m_rowByDn.cbegin(); it != m_rowByDn.cend(); ++it)
        m_rows[size_t(it.value())].tenant =
            byDn.isEmpty() ? TenantMatch::NotRead : byDn.value(it.key(), TenantMatch::Unmatched);
    emit dataChanged(index(0, Tenant), index(int(m_rows.size()) - 1, Tenant));
    if (m_sortColumn == Tenant)
        sort(m_sortColumn, m_sortOrder);
}

const directory::DirectoryUser *UsersModel::user(int row) const
{
    if (!m_snapshot || row < 0 || row >= int(m_rows.size()))
        return nullptr;
    return &m_snapshot->users.at(m_order[size_t(row)]);
}

int UsersModel::rowOfDn(const QString &dn) const
{
    const int i = m_rowByDn.value(dn, -1);
    return i < 0 ? -1 : m_position[size_t(i)];
}

int UsersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int UsersModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant UsersModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = row(index.row());
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case DisplayName:
            return r.displayName;
        case UserPrincipalName:
            return r.userPrincipalName;
        case Mail:
            return r.mail;
        case Certificates:
            return r.certificates;
        case SoonestExpiry:
            return r.soonestExpiry.isValid()
                ? QLocale().toString(r.soonestExpiry.toLocalTime().date(), QLocale::ShortFormat)
                : QString();
        case Status:
            return statusText(r.status);
        case Tenant:
            return tenantMatchText(r.tenant);
        }
        break;
    case SortRole:
        return sortKey(r, column);
    case Qt::DecorationRole:
        if (column == Status)
            return statusIcon(r.status);
        break;
    case Qt::ToolTipRole:
        if (column == SoonestExpiry && r.soonestExpiry.isValid())
            return r.soonestExpiry.toString(Qt::ISODate);
        break;
    case Qt::TextAlignmentRole:
        if (column == Certificates)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case StatusRole:
        return int(r.status);
    case UserIndexRole:
        return m_order[size_t(index.row())];
    default:
        break;
    }
    return {};
}

QVariant UsersModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case DisplayName:
        return tr("Name");
    case UserPrincipalName:
        return tr("UPN");
    case Mail:
        return tr("Mail");
    case Certificates:
        return tr("Certificates");
    case SoonestExpiry:
        return tr("Soonest expiry");
    case Status:
        return tr("Status");
    case Tenant:
        return tr("Microsoft 365");
    }
    return {};
}

} // namespace certsync::models
