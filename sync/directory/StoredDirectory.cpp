#include "directory/StoredDirectory.h"

#include "core/OrderedBatches.h"
#include "store/StateStore.h"

#include <QDataStream>
#include <QIODevice>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

#include <cstring>
#include <utility>

namespace certsync::directory {

namespace {

constexpr quint32 magic = 0x43535531; // "CSU1"

Error storeError(const QString &what)
{
    return Error { QStringLiteral("state_db"), what };
}

} // namespace

QString storedDirectoryKey(const ConnectionProfile &profile)
{
    return QStringLiteral("directory %1 %2 base=%3 filter=%4 attributes=%5")
        .arg(sourceKindName(profile.kind), profile.url, profile.baseDn, profile.effectiveFilter(),
             profile.mapping.attributes().join(QLatin1Char(',')));
}

QString storedRowKey(const DirectoryUser &user)
{
    if (!user.sourceAnchor.isEmpty())
        return QStringLiteral("anchor:") + user.sourceAnchor;
    return QStringLiteral("dn:") + user.dn.toLower(); // DNs compare without case
}

namespace {

void writeStoredUser(QDataStream &s, const DirectoryUser &u)
{
    s.setVersion(QDataStream::Qt_6_4);
    s << magic << u.dn << u.sourceAnchor << u.consistencyGuid << u.userPrincipalName << u.mail
      << u.proxyAddresses << u.accountName << u.displayName << u.disabled
      << (u.changed.isValid() ? u.changed.toMSecsSinceEpoch() : qint64(-1)) << u.changeNumber
      << u.userCertificate << u.userSmimeCertificate;
}

// Compares what is written with bytes it was given, keeping nothing: an unchanged user is found
// without making its stored form.
class ComparingDevice final : public QIODevice
{
public:
    explicit ComparingDevice(const QByteArray &expected)
        : m_expected(expected)
    {
        open(QIODevice::WriteOnly | QIODevice::Unbuffered);
    }
    [[nodiscard]] bool matched() const { return m_same && m_at == m_expected.size(); }

protected:
    qint64 readData(char *, qint64) override { return -1; }
    qint64 writeData(const char *data, qint64 size) override
    {
        if (m_same
            && (size > m_expected.size() - m_at
                || std::memcmp(m_expected.constData() + m_at, data, size_t(size)) != 0))
            m_same = false;
        m_at += size;
        return size;
    }

private:
    const QByteArray &m_expected;
    qint64 m_at = 0;
    bool m_same = true;
};

} // namespace

QByteArray encodeStoredUser(const DirectoryUser &u)
{
    QByteArray bytes;
    // Room for all of it at once: grown write by write, the buffer was copied again and again.
    qsizetype strings = u.dn.size() + u.sourceAnchor.size() + u.consistencyGuid.size()
        + u.userPrincipalName.size() + u.mail.size() + u.accountName.size() + u.displayName.size();
    for (const QString &address : u.proxyAddresses)
        strings += address.size() + 2;
    bytes.reserve(2 * strings + u.valueBytes() + 4 * (u.valueCount() + u.proxyAddresses.size()) + 96);
    QDataStream s(&bytes, QIODevice::WriteOnly);
    writeStoredUser(s, u);
    return bytes;
}

bool matchesStoredUser(const DirectoryUser &user, const QByteArray &stored)
{
    ComparingDevice device(stored);
    QDataStream s(&device);
    writeStoredUser(s, user);
    return device.matched();
}

std::optional<DirectoryUser> decodeStoredUser(const QByteArray &bytes)
{
    QDataStream s(bytes);
    s.setVersion(QDataStream::Qt_6_4);
    DirectoryUser u;
    quint32 m = 0;
    qint64 changed = -1;
    s >> m;
    if (m != magic)
        return std::nullopt;
    s >> u.dn >> u.sourceAnchor >> u.consistencyGuid >> u.userPrincipalName >> u.mail >> u.proxyAddresses
        >> u.accountName >> u.displayName >> u.disabled >> changed >> u.changeNumber >> u.userCertificate
        >> u.userSmimeCertificate;
    if (s.status() != QDataStream::Ok)
        return std::nullopt;
    if (changed >= 0)
        u.changed = QDateTime::fromMSecsSinceEpoch(changed, Qt::UTC);
    return u;
}

bool isReadPlanNote(const jobs::LogRecord &record)
{
    return record.level == jobs::LogRecord::Level::Info
        && (record.message.startsWith(QLatin1String("full read"))
            || record.message.startsWith(QLatin1String("incremental read")));
}

StoredUserReader::StoredUserReader(store::StateStore &state, const ConnectionProfile &profile)
    : m_key(storedDirectoryKey(profile))
    // Not mapped: a full read passes over every row once, and mapped pages would stay resident.
    , m_readers(std::make_unique<store::ThreadReaders>(state, false))
{ }

StoredUserReader::~StoredUserReader() = default;

QHash<QString, StoredUserReader::Row> StoredUserReader::range(qint64 firstSeq, qint64 count) const
{
    QHash<QString, Row> rows;
    QSqlQuery *q = m_readers->query(
        0,
        QStringLiteral("SELECT dn, seq, data, report, report_csv FROM directory_users "
                       "WHERE source = (SELECT id FROM sources WHERE key = ?) AND seq >= ? AND seq < ?"));
    if (!q)
        return rows;
    q->bindValue(0, m_key);
    q->bindValue(1, firstSeq);
    q->bindValue(2, firstSeq + count);
    if (q->exec()) {
        rows.reserve(count);
        while (q->next())
            rows.insert(q->value(0).toString(),
                        { q->value(1).toLongLong(), q->value(2).toByteArray(), q->value(3).toByteArray(),
                          q->value(4).toByteArray() });
    }
    q->finish();
    return rows;
}

std::optional<StoredUserReader::Row> StoredUserReader::find(const QString &rowKey) const
{
    QSqlQuery *q =
        m_readers->query(1,
                         QStringLiteral("SELECT seq, data, report, report_csv FROM directory_users "
                                        "WHERE source = (SELECT id FROM sources WHERE key = ?) AND dn = ?"));
    if (!q)
        return std::nullopt;
    q->bindValue(0, m_key);
    q->bindValue(1, rowKey);
    std::optional<Row> row;
    if (q->exec() && q->next())
        row = Row { q->value(0).toLongLong(), q->value(1).toByteArray(), q->value(2).toByteArray(),
                    q->value(3).toByteArray() };
    q->finish();
    return row;
}

UserReport ReportSettings::make(const DirectoryUser &user, const QDateTime &judgedAt, int warningDays) const
{
    UserReport report;
    report.context = context;
    report.from = judgedAt.toMSecsSinceEpoch();
    report.until = verdictsHoldUntil(user.values, judgedAt, warningDays);
    report.csv = rowsOf(user, &report.rows);
    for (const certs::AnalyzedValue &value : user.values)
        report.certificates += value.certificates.size();
    return report;
}

StoredDirectory::StoredDirectory(store::StateStore &state, const ConnectionProfile &profile)
    : m_state(state)
    , m_key(storedDirectoryKey(profile))
{ }

StoredDirectory::~StoredDirectory()
{
    rollback();
}

QDateTime StoredDirectory::storedAt() const
{
    return m_state.markSaved(m_key);
}

std::optional<ReadMark> StoredDirectory::mark(QString *why) const
{
    const QByteArray json = m_state.mark(m_key);
    if (json.isEmpty()) {
        *why = QStringLiteral("no stored snapshot for this directory, base DN, filter and attributes");
        return std::nullopt;
    }
    const ReadMark mark = ReadMark::fromJson(json);
    if (!mark.isValid()) {
        *why = QStringLiteral("the stored read mark is unusable");
        return std::nullopt;
    }
    return mark;
}

Result<void> StoredDirectory::begin(bool fullRead, FirstFill firstFill)
{
    QSqlDatabase db = m_state.database();
    // A first full read into a new database is most of what it will hold: written once, when it can.
    m_alone = fullRead && firstFill == FirstFill::WriteAlone && m_state.beginWritingAlone();
    if (!db.transaction()) {
        const QString text = db.lastError().text();
        endWritingAlone();
        return storeError(QStringLiteral("cannot begin storing the snapshot: %1").arg(text));
    }
    m_open = true;
    m_fullRead = fullRead;
    m_read.clear();
    const Result<qint64> last = m_state.lastRowSeq(m_key);
    if (!last) {
        rollback();
        return last.error();
    }
    m_fresh = fullRead && *last == 0;
    m_nextSeq = fullRead ? 1 : *last + 1;
    return {};
}

Result<void> StoredDirectory::store(const QList<DirectoryUser> &users)
{
    QList<store::StateStore::StoredRow> rows;
    rows.reserve(users.size());
    for (const DirectoryUser &u : users) {
        QString key = storedRowKey(u);
        const qint64 seq = m_nextSeq++;
        if (m_fullRead && !m_fresh) // into a source without rows, every row is this read's
            m_read.insert(key);
        // Compared with its stored row and found the same, in the same place: nothing to write.
        if (u.storedSeq == seq && u.report)
            continue;
        // A user whose stored report was reused is not analysed: its row's data is unchanged, so the
        // summary stored with it holds.
        const std::optional<UserSummary> summary = UserSummary::of(u);
        rows.append({ std::move(key), seq, encodeStoredUser(u), u.report ? u.report->encode() : QByteArray(),
                      u.report ? u.report->csv : QByteArray(), summary ? summary->encode() : QByteArray() });
    }
    using Order = store::StateStore::RowOrder;
    return m_state.storeRows(m_key, rows,
                             m_fresh          ? Order::Fresh
                                 : m_fullRead ? Order::Reorder
                                              : Order::Keep,
                             false);
}

Result<DirectoryUser> StoredDirectory::user(const QString &rowKey) const
{
    QSqlQuery q(m_state.database());
    q.prepare(QStringLiteral("SELECT data FROM directory_users "
                             "WHERE source = (SELECT id FROM sources WHERE key = ?) AND dn = ?"));
    q.addBindValue(m_key);
    q.addBindValue(rowKey);
    if (!q.exec())
        return storeError(QStringLiteral("cannot read the stored user: %1").arg(q.lastError().text()));
    if (!q.next())
        return storeError(QStringLiteral("the user is no longer in the stored snapshot"));
    std::optional<DirectoryUser> user = decodeStoredUser(q.value(0).toByteArray());
    if (!user)
        return storeError(QStringLiteral("the stored user cannot be read"));
    return std::move(*user);
}

bool StoredDirectory::summariesComplete(qint64 *users) const
{
    return m_state.summariesComplete(m_key, users);
}

Result<qint64>
StoredDirectory::forEachSummary(const std::function<bool(UserSummary &&)> &visit,
                                const std::function<void(qint64, UserSummary &)> &decoded) const
{
    // The summaries are read on this thread (the connection belongs to it) and decoded in batches on
    // both cores while `visit` takes the ones before them, in the stored order.
    OrderedBatches<QByteArray, UserSummary> batches(
        2000, 4,
        [&decoded](const QList<QByteArray> &encoded, qint64 first) -> std::optional<QList<UserSummary>> {
            QList<UserSummary> summaries;
            summaries.reserve(encoded.size());
            for (const QByteArray &bytes : encoded) {
                std::optional<UserSummary> summary = UserSummary::decode(bytes);
                if (!summary)
                    return std::nullopt;
                if (decoded)
                    decoded(first + summaries.size(), *summary);
                summaries.append(std::move(*summary));
            }
            return summaries;
        },
        visit);
    auto read = m_state.forEachSummary(
        m_key, [&](const QByteArray &bytes) { return batches.add(QByteArray(bytes)); });
    if (read)
        batches.finish();
    if (!read)
        return read.error();
    if (batches.damaged())
        return Error { QStringLiteral("summary_unreadable"),
                       QStringLiteral(
                           "a stored user summary cannot be read (damaged, or of an older format)") };
    return batches.visited();
}

Result<void> StoredDirectory::commit(const ReadMark &mark)
{
    if (m_fullRead && !m_fresh) {
        if (auto dropped = m_state.dropRowsExcept(m_key, m_read); !dropped) {
            rollback();
            return dropped.error();
        }
        m_read.clear();
    }
    if (auto saved = m_state.saveMark(m_key, mark.toJson()); !saved) {
        rollback();
        return saved;
    }
    QSqlDatabase db = m_state.database();
    if (!db.commit()) {
        const QString text = db.lastError().text();
        rollback();
        return storeError(QStringLiteral("cannot store the snapshot: %1").arg(text));
    }
    m_open = false;
    endWritingAlone();
    return {};
}

void StoredDirectory::rollback()
{
    if (m_open)
        m_state.database().rollback();
    m_open = false;
    m_read.clear();
    endWritingAlone();
}

void StoredDirectory::endWritingAlone()
{
    if (m_alone)
        m_state.endWritingAlone();
    m_alone = false;
}

Result<qint64> StoredDirectory::forEachUser(const certs::ValueAnalyzer &analyzer, const QDateTime &judgedAt,
                                            const std::function<bool(DirectoryUser &&)> &visit,
                                            const ReportSettings *reports) const
{
    const QDateTime now = judgedAt.toUTC(); // as DirectoryReadJob judges
    // Rows are read on this thread (the connection belongs to it) and analysed in batches on both
    // cores, a few batches ahead; users reach `visit` in the stored order. Analysed one by one here,
    // the merged inventory of an unchanged directory took longer than reading it all again.
    const int warningDays = analyzer.judge().policy().warningDays;
    OrderedBatches<DirectoryUser, DirectoryUser> batches(
        500, 4,
        [&analyzer, now, reports, warningDays](QList<DirectoryUser> users,
                                               qint64) -> std::optional<QList<DirectoryUser>> {
            for (DirectoryUser &user : users) {
                if (user.report)
                    continue; // the stored report holds
                user.values = analyzer.analyzeUser(user.userCertificate, user.userSmimeCertificate,
                                                   user.context(), now);
                if (reports)
                    user.report = reports->make(user, now, warningDays);
            }
            return users;
        },
        visit);
    bool damaged = false;
    auto read = m_state.forEachRow(m_key, [&](const store::StateStore::StoredRow &row) {
        std::optional<DirectoryUser> user = decodeStoredUser(row.data);
        if (!user) {
            damaged = true;
            return false;
        }
        if (reports)
            if (std::optional<UserReport> report = UserReport::decode(row.report, row.reportCsv);
                report && report->holds(reports->context, now)) {
                user->report = std::move(report);
                user->storedSeq = row.seq;
            }
        return batches.add(std::move(*user));
    });
    if (read && !damaged)
        batches.finish();
    if (!read)
        return read.error();
    if (damaged)
        return storeError(QStringLiteral("a stored directory user cannot be read; run with --full"));
    return batches.visited();
}

} // namespace certsync::directory
