#include "models/UsersModel.h"

#include "engine/Verdict.h"
#include "models/StatusPresentation.h"

#include <QCoreApplication>
#include <QLocale>
#include <QSet>
#include <QtConcurrentRun>
#include <QtEndian>

#include <optional>
#include <utility>

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
    if (std::optional<directory::UserSummary> summary = directory::UserSummary::of(user))
        return summarize(*summary, now);
    Row row; // not analysed: its identifiers only
    row.dn = user.dn;
    row.displayName = user.displayName.isEmpty() ? user.accountName : user.displayName;
    row.userPrincipalName = user.userPrincipalName;
    row.mail = user.mail;
    return row;
}

UsersModel::Row UsersModel::summarize(const directory::UserSummary &summary, const QDateTime &now)
{
    const directory::DirectoryUser &user = summary.identity;
    Row row;
    row.dn = user.dn;
    row.displayName = user.displayName.isEmpty() ? user.accountName : user.displayName;
    row.userPrincipalName = user.userPrincipalName;
    row.mail = user.mail;
    row.searchText = QString(row.displayName + QLatin1Char('\n') + row.userPrincipalName + QLatin1Char('\n')
                             + row.mail + QLatin1Char('\n') + user.accountName)
                         .toCaseFolded();
    row.certificates = summary.certificates;
    row.status = summary.status;
    const qint64 nowMs = now.toMSecsSinceEpoch();
    qint64 soonestValid = 0;
    qint64 latestExpired = 0;
    bool valid = false;
    bool expired = false;
    for (const qint64 notAfter : summary.notAfters) {
        if (notAfter > nowMs) {
            if (!valid || notAfter < soonestValid)
                soonestValid = notAfter;
            valid = true;
        } else {
            if (!expired || notAfter > latestExpired)
                latestExpired = notAfter;
            expired = true;
        }
    }
    if (valid || expired)
        row.soonestExpiry = QDateTime::fromMSecsSinceEpoch(valid ? soonestValid : latestExpired, Qt::UTC);
    row.sha256 = summary.sha256; // shared, not copied: the hex is made once, by buildKeys
    row.directoryCanEncrypt = summary.directoryCanEncrypt;
    row.encryptReasons = summary.encryptReasons.join(QStringLiteral(", "));
    return row;
}

namespace {

// The verdict's yes/no: both paths when Exchange Online was judged, else the directory's.
bool canEncrypt(const UsersModel::Row &r)
{
    return r.directoryCanEncrypt && r.tenantCanEncrypt.value_or(true);
}

} // namespace

UsersModel::Prepared UsersModel::prepare(std::shared_ptr<const directory::DirectorySnapshot> snapshot,
                                         const QDateTime &now)
{
    std::vector<Row> rows;
    if (snapshot) {
        rows.reserve(size_t(snapshot->users.size()));
        for (const directory::DirectoryUser &user : snapshot->users)
            rows.push_back(summarize(user, now));
    }
    return prepare(std::move(snapshot), std::move(rows));
}

UsersModel::Prepared UsersModel::prepare(std::shared_ptr<const directory::DirectorySnapshot> snapshot,
                                         std::vector<Row> rows)
{
    Q_ASSERT(rows.size() == size_t(snapshot ? snapshot->users.size() : 0));
    Prepared prepared;
    prepared.snapshot = std::move(snapshot);
    prepared.rows = std::move(rows);
    // Both cores: the first sort order beside the keys (both only read the rows).
    QFuture<std::vector<int>> byName = QtConcurrent::run(
        [&rows = std::as_const(prepared.rows)] { return order(rows, DisplayName, Qt::AscendingOrder); });
    buildKeys(prepared);
    prepared.byDisplayName = byName.result();
    return prepared;
}

void UsersModel::setSnapshot(std::shared_ptr<const directory::DirectorySnapshot> snapshot,
                             const QDateTime &now)
{
    setPrepared(prepare(std::move(snapshot), now));
}

void UsersModel::setPrepared(Prepared prepared)
{
    beginResetModel();
    if (prepared.snapshot && !m_lookedUp.isEmpty())
        for (qsizetype i = m_lookedUp.size() - 1; i >= 0; --i)
            if (prepared.rowByDn.contains(m_lookedUp.at(i).dn)) {
                m_lookedUp.removeAt(i);
                m_lookedUpTenant.removeAt(i);
                m_lookedUpCanEncrypt.removeAt(i);
            }
    Prepared old = std::exchange(m_data, std::move(prepared)); // freed after the reset, not in it
    if (!m_lookedUp.isEmpty())
        appendLookedUp(QDateTime::currentDateTimeUtc());
    for (auto &orders : m_sortOrders)
        for (std::vector<int> &order : orders)
            order.clear();
    if (m_data.byDisplayName.size() == m_data.rows.size()) // no looked-up rows were added after them
        m_sortOrders[DisplayName][0] = std::move(m_data.byDisplayName);
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
        const qsizetype i = existing - (int(m_data.rows.size()) - m_lookedUp.size());
        m_lookedUp[i] = user;
        m_lookedUpTenant[i] = tenant;
        m_lookedUpCanEncrypt[i] = tenantCanEncrypt;
    } else {
        m_lookedUp.append(user);
        m_lookedUpTenant.append(tenant);
        m_lookedUpCanEncrypt.append(tenantCanEncrypt);
    }
    appendLookedUp(now);
    for (auto &orders : m_sortOrders)
        for (std::vector<int> &order : orders)
            order.clear();
    endResetModel();
    return rowOfDn(user.dn);
}

bool UsersModel::isLookedUp(int row) const
{
    const int snapshotRows = m_data.snapshot ? int(m_data.snapshot->users.size()) : 0;
    return row >= snapshotRows && row < int(m_data.rows.size());
}

void UsersModel::appendLookedUp(const QDateTime &now)
{
    // The snapshot's rows keep what they show (their tenant column included).
    m_data.rows.resize(size_t(m_data.snapshot ? m_data.snapshot->users.size() : 0));
    m_data.rows.reserve(m_data.rows.size() + size_t(m_lookedUp.size()));
    for (qsizetype i = 0; i < m_lookedUp.size(); ++i) {
        m_data.rows.push_back(summarize(m_lookedUp.at(i), now));
        m_data.rows.back().tenant = m_lookedUpTenant.at(i);
        m_data.rows.back().tenantCanEncrypt = m_lookedUpCanEncrypt.at(i);
    }
    buildKeys(m_data);
}

void UsersModel::buildKeys(Prepared &p)
{
    const std::vector<Row> &rows = p.rows;
    // Three independent keys, each written by one task: the fingerprints on the pool, the DN index
    // and the search text here (at 100,000 users about 150 ms each, one after the other before).
    QFuture<void> fingerprints = QtConcurrent::run([&p] { buildFingerprintKeys(p); });
    p.statuses.resize(rows.size());
    p.rowByDn.clear();
    p.rowByDn.reserve(qsizetype(rows.size()));
    p.searchKeys.clear();
    p.searchStart.clear();
    qsizetype size = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        p.statuses[i] = rows[i].status;
        p.rowByDn.insert(rows[i].dn, int(i));
        size += rows[i].searchText.size() + 1;
    }
    p.searchKeys.reserve(size);
    p.searchStart.reserve(rows.size() + 1);
    for (size_t i = 0; i < rows.size(); ++i) {
        p.searchStart.push_back(int(p.searchKeys.size()));
        p.searchKeys += rows[i].searchText;
        p.searchKeys += QChar(0);
    }
    p.searchStart.push_back(int(p.searchKeys.size()));
    fingerprints.waitForFinished();
}

void UsersModel::buildFingerprintKeys(Prepared &p)
{
    // The certificates' digests sorted as raw bytes, which is the order of their lower-case hex; no
    // string per certificate (at 100,000 users these were 150,000 allocations and conversions).
    // Sorted on a copy of their first 8 bytes (big-endian, so in byte order) beside them: a sort that
    // compared the digests where they lie went all over the heap, 150 ms for 150,000.
    struct Digest
    {
        quint64 prefix;
        int row;
        QByteArrayView bytes;
    };
    const std::vector<Row> &rows = p.rows;
    std::vector<Digest> sorted;
    size_t count = 0;
    for (const Row &row : rows)
        count += size_t(row.sha256.size());
    sorted.reserve(count);
    for (size_t i = 0; i < rows.size(); ++i)
        for (const QByteArray &sha256 : rows[i].sha256) {
            const QByteArrayView bytes = QByteArrayView(sha256).first(qMin(sha256.size(), qsizetype(32)));
            char first[8] = {};
            std::copy_n(bytes.data(), qMin(bytes.size(), qsizetype(8)), first);
            sorted.push_back({ qFromBigEndian<quint64>(first), int(i), bytes });
        }
    std::sort(sorted.begin(), sorted.end(), [](const Digest &a, const Digest &b) {
        if (a.prefix != b.prefix)
            return a.prefix < b.prefix;
        const int c = a.bytes.compare(b.bytes);
        return c < 0 || (c == 0 && a.row < b.row);
    });
    p.fingerprintKeys = QByteArray(qsizetype(sorted.size()) * 64, '\0');
    p.fingerprintOwner.clear();
    p.fingerprintOwner.reserve(sorted.size());
    static constexpr char hex[] = "0123456789abcdef";
    char *out = p.fingerprintKeys.data();
    for (const Digest &digest : sorted) {
        for (qsizetype b = 0; b < digest.bytes.size(); ++b) {
            const auto byte = quint8(digest.bytes[b]);
            out[2 * b] = hex[byte >> 4];
            out[2 * b + 1] = hex[byte & 0xf];
        }
        out += 64;
        p.fingerprintOwner.push_back(digest.row);
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
    if (needle.isEmpty() || m_data.rows.empty())
        return out;
    const QStringView keys(m_data.searchKeys);
    size_t row = 0;
    for (qsizetype pos = find(keys, needle, 0); pos >= 0;) {
        while (m_data.searchStart[row + 1] <= pos) // hits come in order: walk on, no search
            ++row;
        out.push_back(int(row));
        pos = find(keys, needle, m_data.searchStart[row + 1]); // on with the next row
    }
    return out;
}

std::vector<int> UsersModel::rowsMatching(QStringView needle, const std::vector<int> &candidates) const
{
    if (candidates.size() > m_data.rows.size() / 8)
        return rowsMatching(needle); // one pass over contiguous keys beats a call per row
    std::vector<int> out;
    if (needle.isEmpty())
        return out;
    const QStringView keys(m_data.searchKeys);
    for (const int row : candidates) {
        const qsizetype start = m_data.searchStart[size_t(row)];
        if (find(keys.sliced(start, m_data.searchStart[size_t(row) + 1] - start - 1), needle, 0) >= 0)
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
    const QByteArrayView keys(m_data.fingerprintKeys);
    auto prefixOf = [&](size_t f) { return keys.sliced(qsizetype(f) * 64, n); };
    // Lower bound: the first fingerprint whose prefix is not below hexPrefix.
    size_t low = 0;
    size_t high = m_data.fingerprintOwner.size();
    while (low < high) {
        const size_t mid = low + (high - low) / 2;
        if (prefixOf(mid).compare(hexPrefix) < 0)
            low = mid + 1;
        else
            high = mid;
    }
    for (size_t f = low; f < m_data.fingerprintOwner.size() && prefixOf(f) == hexPrefix; ++f)
        out.push_back(m_data.fingerprintOwner[f]);
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
    if (rows.size() != m_data.rows.size())
        rows = UsersModel::order(m_data.rows, column, order);
    return rows;
}

std::vector<int> UsersModel::order(const std::vector<Row> &data, int column, Qt::SortOrder order)
{
    const size_t n = data.size();
    std::vector<int> rows(n);
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
            keys[i] = sortKey(data[i], column).toString();
        sortBy(keys);
        break;
    }
    default: {
        std::vector<qint64> keys(n);
        for (size_t i = 0; i < n; ++i)
            keys[i] = sortKey(data[i], column).toLongLong();
        sortBy(keys);
        break;
    }
    }
    return rows;
}

void UsersModel::setTenantMatches(const QHash<QString, TenantMatch> &byDn,
                                  const QHash<QString, bool> &tenantCanEncrypt)
{
    if (m_data.rows.empty())
        return;
    for (auto it = m_data.rowByDn.cbegin(); it != m_data.rowByDn.cend(); ++it) {
        if (isLookedUp(it.value()))
            continue; // a looked-up user keeps what its own look-up found
        Row &r = m_data.rows[size_t(it.value())];
        r.tenant = byDn.isEmpty() ? TenantMatch::NotRead : byDn.value(it.key(), TenantMatch::Unmatched);
        const auto answer = tenantCanEncrypt.constFind(it.key());
        r.tenantCanEncrypt =
            answer == tenantCanEncrypt.cend() ? std::nullopt : std::optional<bool>(answer.value());
    }
    for (const int column : { int(Tenant), int(CanEncrypt) })
        for (std::vector<int> &order : m_sortOrders[column])
            order.clear();
    // CanEncrypt and Tenant are not adjacent: two signals, so that a proxy sorted by either re-sorts.
    emit dataChanged(index(0, CanEncrypt), index(int(m_data.rows.size()) - 1, CanEncrypt));
    emit dataChanged(index(0, Tenant), index(int(m_data.rows.size()) - 1, Tenant));
}

bool UsersModel::columnHasValues(int column) const
{
    if (column != UserPrincipalName && column != Mail)
        return true; // the others always show something (a count, a word, a yes/no)
    return std::any_of(m_data.rows.cbegin(), m_data.rows.cend(), [column](const Row &r) {
        return !(column == UserPrincipalName ? r.userPrincipalName : r.mail).isEmpty();
    });
}

const directory::DirectoryUser *UsersModel::user(int row) const
{
    if (row < 0 || row >= int(m_data.rows.size()))
        return nullptr;
    if (isLookedUp(row))
        return &m_lookedUp.at(row - (int(m_data.rows.size()) - int(m_lookedUp.size())));
    return &m_data.snapshot->users.at(row);
}

int UsersModel::rowOfDn(const QString &dn) const
{
    return m_data.rowByDn.value(dn, -1);
}

int UsersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_data.rows.size());
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
