#include "models/UsersModel.h"

#include "engine/Verdict.h"
#include "models/StatusPresentation.h"

#include <QCoreApplication>
#include <QLocale>
#include <QSet>

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
    row.searchText = QString(row.displayName + QLatin1Char('\n') + row.userPrincipalName + QLatin1Char('\n')
                             + row.mail + QLatin1Char('\n') + user.accountName)
                         .toCaseFolded();
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
    const engine::OutlookPick pick = engine::outlookPick(user.values);
    row.directoryCanEncrypt = pick.usable;
    row.encryptReasons = pick.reasons.join(QStringLiteral(", "));
    return row;
}

namespace {

// The verdict's yes/no: both paths when Exchange Online was judged, else the directory's.
bool canEncrypt(const UsersModel::Row &r)
{
    return r.directoryCanEncrypt && r.tenantCanEncrypt.value_or(true);
}

} // namespace

void UsersModel::setSnapshot(std::shared_ptr<const directory::DirectorySnapshot> snapshot,
                             const QDateTime &now)
{
    beginResetModel();
    m_snapshot = std::move(snapshot);
    if (m_snapshot && !m_lookedUp.isEmpty()) {
        QSet<QString> dns;
        for (const directory::DirectoryUser &user : m_snapshot->users)
            dns.insert(user.dn);
        for (qsizetype i = m_lookedUp.size() - 1; i >= 0; --i)
            if (dns.contains(m_lookedUp.at(i).dn)) {
                m_lookedUp.removeAt(i);
                m_lookedUpTenant.removeAt(i);
                m_lookedUpCanEncrypt.removeAt(i);
            }
    }
    rebuild(now, false);
    endResetModel();
}

int UsersModel::addLookedUp(const directory::DirectoryUser &user, TenantMatch tenant, const QDateTime &now,
                            std::optional<bool> tenantCanEncrypt)
{
    const int existing = rowOfDn(user.dn);
    if (existing >= 0 && !isLookedUp(existing))
        return existing;
    beginResetModel();
    if (existing >= 0) {
        const qsizetype i = existing - (int(m_rows.size()) - m_lookedUp.size());
        m_lookedUp[i] = user;
        m_lookedUpTenant[i] = tenant;
        m_lookedUpCanEncrypt[i] = tenantCanEncrypt;
    } else {
        m_lookedUp.append(user);
        m_lookedUpTenant.append(tenant);
        m_lookedUpCanEncrypt.append(tenantCanEncrypt);
    }
    rebuild(now, true);
    endResetModel();
    return rowOfDn(user.dn);
}

bool UsersModel::isLookedUp(int row) const
{
    const int snapshotRows = m_snapshot ? int(m_snapshot->users.size()) : 0;
    return row >= snapshotRows && row < int(m_rows.size());
}

void UsersModel::rebuild(const QDateTime &now, bool keepTenantColumn)
{
    QHash<QString, std::pair<TenantMatch, std::optional<bool>>> tenant;
    if (keepTenantColumn)
        for (auto it = m_rowByDn.cbegin(); it != m_rowByDn.cend(); ++it) {
            const Row &r = m_rows[size_t(it.value())];
            tenant.insert(it.key(), { r.tenant, r.tenantCanEncrypt });
        }
    m_rows.clear();
    m_rowByDn.clear();
    const qsizetype snapshotUsers = m_snapshot ? m_snapshot->users.size() : 0;
    m_rows.reserve(size_t(snapshotUsers + m_lookedUp.size()));
    m_rowByDn.reserve(snapshotUsers + m_lookedUp.size());
    for (qsizetype i = 0; i < snapshotUsers; ++i) {
        const directory::DirectoryUser &user = m_snapshot->users.at(i);
        m_rowByDn.insert(user.dn, int(m_rows.size()));
        m_rows.push_back(summarize(user, now));
        std::tie(m_rows.back().tenant, m_rows.back().tenantCanEncrypt) =
            tenant.value(user.dn, { TenantMatch::NotRead, std::nullopt });
    }
    for (qsizetype i = 0; i < m_lookedUp.size(); ++i) {
        m_rowByDn.insert(m_lookedUp.at(i).dn, int(m_rows.size()));
        m_rows.push_back(summarize(m_lookedUp.at(i), now));
        m_rows.back().tenant = m_lookedUpTenant.at(i);
        m_rows.back().tenantCanEncrypt = m_lookedUpCanEncrypt.at(i);
    }
    m_statuses.resize(m_rows.size());
    for (size_t i = 0; i < m_rows.size(); ++i)
        m_statuses[i] = m_rows[i].status;
    buildSearchKeys();
    for (auto &orders : m_sortOrders)
        for (std::vector<int> &order : orders)
            order.clear();
}

void UsersModel::buildSearchKeys()
{
    m_searchKeys.clear();
    m_searchStart.clear();
    qsizetype size = 0;
    size_t fingerprints = 0;
    for (const Row &r : m_rows) {
        size += r.searchText.size() + 1;
        fingerprints += size_t(r.fingerprints.size());
    }
    m_searchKeys.reserve(size);
    m_searchStart.reserve(m_rows.size() + 1);
    std::vector<std::pair<QByteArray, int>> sorted; // fingerprint, row
    sorted.reserve(fingerprints);
    for (size_t i = 0; i < m_rows.size(); ++i) {
        m_searchStart.push_back(int(m_searchKeys.size()));
        m_searchKeys += m_rows[i].searchText;
        m_searchKeys += QChar(0);
        for (const QString &fingerprint : m_rows[i].fingerprints)
            sorted.emplace_back(fingerprint.toLatin1(), int(i));
    }
    m_searchStart.push_back(int(m_searchKeys.size()));
    std::sort(sorted.begin(), sorted.end());
    m_fingerprintKeys.clear();
    m_fingerprintKeys.reserve(qsizetype(sorted.size()) * 64);
    m_fingerprintOwner.clear();
    m_fingerprintOwner.reserve(sorted.size());
    for (const auto &entry : sorted) {
        m_fingerprintKeys += entry.first.leftJustified(64, '\0', true);
        m_fingerprintOwner.push_back(entry.second);
    }
}

namespace {

// Where `needle` (not empty) first occurs in `text` from `from`, -1 when nowhere. The vectorised
// search for its first character, then a comparison: on short needles over case-folded names this
// runs several times faster than Boyer-Moore, whose skips are no longer than the needle.
qsizetype find(QStringView text, QStringView needle, qsizetype from)
{
    const QChar first = needle.front();
    const qsizetype last = text.size() - needle.size();
    while (from <= last) {
        const qsizetype pos = text.indexOf(first, from);
        if (pos < 0 || pos > last)
            return -1;
        if (text.sliced(pos, needle.size()) == needle)
            return pos;
        from = pos + 1;
    }
    return -1;
}

} // namespace

std::vector<int> UsersModel::rowsMatching(QStringView needle) const
{
    std::vector<int> out;
    if (needle.isEmpty() || m_rows.empty())
        return out;
    const QStringView keys(m_searchKeys);
    size_t row = 0;
    for (qsizetype pos = find(keys, needle, 0); pos >= 0;) {
        while (m_searchStart[row + 1] <= pos) // hits come in order: walk on, no search
            ++row;
        out.push_back(int(row));
        pos = find(keys, needle, m_searchStart[row + 1]); // on with the next row
    }
    return out;
}

std::vector<int> UsersModel::rowsMatching(QStringView needle, const std::vector<int> &candidates) const
{
    if (candidates.size() > m_rows.size() / 8)
        return rowsMatching(needle); // one pass over contiguous keys beats a call per row
    std::vector<int> out;
    if (needle.isEmpty())
        return out;
    const QStringView keys(m_searchKeys);
    for (const int row : candidates) {
        const qsizetype start = m_searchStart[size_t(row)];
        if (find(keys.sliced(start, m_searchStart[size_t(row) + 1] - start - 1), needle, 0) >= 0)
            out.push_back(row);
    }
    return out;
}

std::vector<int> UsersModel::rowsWithFingerprint(QByteArrayView hexPrefix) const
{
    std::vector<int> out;
    const qsizetype n = hexPrefix.size();
    if (n == 0 || n > 64)
        return out;
    const QByteArrayView keys(m_fingerprintKeys);
    auto prefixOf = [&](size_t f) { return keys.sliced(qsizetype(f) * 64, n); };
    // Lower bound: the first fingerprint whose prefix is not below hexPrefix.
    size_t low = 0;
    size_t high = m_fingerprintOwner.size();
    while (low < high) {
        const size_t mid = low + (high - low) / 2;
        if (prefixOf(mid).compare(hexPrefix) < 0)
            low = mid + 1;
        else
            high = mid;
    }
    for (size_t f = low; f < m_fingerprintOwner.size() && prefixOf(f) == hexPrefix; ++f)
        out.push_back(m_fingerprintOwner[f]);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
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
    case CanEncrypt: // no, yes by the directory only (Exchange not judged), yes on both paths
        return canEncrypt(r) ? (r.tenantCanEncrypt ? 2 : 1) : 0;
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

const std::vector<int> &UsersModel::sortOrder(int column, Qt::SortOrder order) const
{
    Q_ASSERT(column >= 0 && column < ColumnCount);
    std::vector<int> &rows = m_sortOrders[column][order == Qt::AscendingOrder ? 0 : 1];
    if (rows.size() == m_rows.size())
        return rows;
    const size_t n = m_rows.size();
    rows.resize(n);
    std::iota(rows.begin(), rows.end(), 0);
    const bool ascending = order == Qt::AscendingOrder;
    // Typed keys: comparing QVariants costs more than the sort itself at 100,000 rows.
    auto sortBy = [&](const auto &keys) {
        std::stable_sort(rows.begin(), rows.end(), [&](int a, int b) {
            return ascending ? keys[size_t(a)] < keys[size_t(b)] : keys[size_t(b)] < keys[size_t(a)];
        });
    };
    switch (column) {
    case DisplayName:
    case UserPrincipalName:
    case Mail: {
        std::vector<QString> keys(n);
        for (size_t i = 0; i < n; ++i)
            keys[i] = sortKey(m_rows[i], column).toString();
        sortBy(keys);
        break;
    }
    default: {
        std::vector<qint64> keys(n);
        for (size_t i = 0; i < n; ++i)
            keys[i] = sortKey(m_rows[i], column).toLongLong();
        sortBy(keys);
        break;
    }
    }
    return rows;
}

void UsersModel::setTenantMatches(const QHash<QString, TenantMatch> &byDn,
                                  const QHash<QString, bool> &tenantCanEncrypt)
{
    if (m_rows.empty())
        return;
    for (auto it = m_rowByDn.cbegin(); it != m_rowByDn.cend(); ++it) {
        if (isLookedUp(it.value()))
            continue; // a looked-up user keeps what its own look-up found
        Row &r = m_rows[size_t(it.value())];
        r.tenant = byDn.isEmpty() ? TenantMatch::NotRead : byDn.value(it.key(), TenantMatch::Unmatched);
        const auto answer = tenantCanEncrypt.constFind(it.key());
        r.tenantCanEncrypt =
            answer == tenantCanEncrypt.cend() ? std::nullopt : std::optional<bool>(answer.value());
    }
    for (const int column : { int(Tenant), int(CanEncrypt) })
        for (std::vector<int> &order : m_sortOrders[column])
            order.clear();
    // CanEncrypt and Tenant are not adjacent: two signals, so that a proxy sorted by either re-sorts.
    emit dataChanged(index(0, CanEncrypt), index(int(m_rows.size()) - 1, CanEncrypt));
    emit dataChanged(index(0, Tenant), index(int(m_rows.size()) - 1, Tenant));
}

bool UsersModel::columnHasValues(int column) const
{
    if (column != UserPrincipalName && column != Mail)
        return true; // the others always show something (a count, a word, a yes/no)
    return std::any_of(m_rows.cbegin(), m_rows.cend(), [column](const Row &r) {
        return !(column == UserPrincipalName ? r.userPrincipalName : r.mail).isEmpty();
    });
}

const directory::DirectoryUser *UsersModel::user(int row) const
{
    if (row < 0 || row >= int(m_rows.size()))
        return nullptr;
    if (isLookedUp(row))
        return &m_lookedUp.at(row - (int(m_rows.size()) - int(m_lookedUp.size())));
    return &m_snapshot->users.at(row);
}

int UsersModel::rowOfDn(const QString &dn) const
{
    return m_rowByDn.value(dn, -1);
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
        case CanEncrypt:
            return canEncrypt(r) ? tr("yes") : tr("no");
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
        if (column == CanEncrypt) {
            const QString exchange = !r.tenantCanEncrypt ? tr("not judged")
                : *r.tenantCanEncrypt                    ? tr("yes")
                                                         : tr("no");
            QString tip = tr("Directory (Outlook's pick): %1; Exchange Online: %2.")
                              .arg(r.directoryCanEncrypt ? tr("yes") : tr("no"), exchange);
            if (!r.encryptReasons.isEmpty())
                tip += QLatin1Char(' ') + tr("Directory: %1.").arg(r.encryptReasons);
            return tip;
        }
        break;
    case Qt::TextAlignmentRole:
        if (column == Certificates)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case StatusRole:
        return int(r.status);
    case UserIndexRole:
        return index.row();
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
    case CanEncrypt:
        return tr("Can encrypt");
    }
    return {};
}

} // namespace certsync::models
