#include "directory/StoredDirectory.h"

#include "store/StateStore.h"

#include <QDataStream>
#include <QIODevice>
#include <QSqlDatabase>
#include <QSqlError>
#include <QThread>
#include <QThreadPool>
#include <QtConcurrent>

#include <deque>
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

QByteArray encodeStoredUser(const DirectoryUser &u)
{
    QByteArray bytes;
    QDataStream s(&bytes, QIODevice::WriteOnly);
    s.setVersion(QDataStream::Qt_6_4);
    s << magic << u.dn << u.sourceAnchor << u.consistencyGuid << u.userPrincipalName << u.mail
      << u.proxyAddresses << u.accountName << u.displayName << u.disabled
      << (u.changed.isValid() ? u.changed.toMSecsSinceEpoch() : qint64(-1)) << u.changeNumber
      << u.userCertificate << u.userSmimeCertificate;
    return bytes;
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

StoredDirectory::StoredDirectory(store::StateStore &state, const ConnectionProfile &profile)
    : m_state(state)
    , m_key(storedDirectoryKey(profile))
{ }

StoredDirectory::~StoredDirectory()
{
    rollback();
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

Result<void> StoredDirectory::begin(bool fullRead)
{
    QSqlDatabase db = m_state.database();
    if (!db.transaction())
        return storeError(QStringLiteral("cannot begin storing the snapshot: %1").arg(db.lastError().text()));
    m_open = true;
    m_fullRead = fullRead;
    m_read.clear();
    m_nextSeq = fullRead ? 1 : m_state.lastRowSeq(m_key) + 1;
    return {};
}

Result<void> StoredDirectory::store(const QList<DirectoryUser> &users)
{
    QList<store::StateStore::StoredRow> rows;
    rows.reserve(users.size());
    for (const DirectoryUser &u : users) { // DNs compare without case
        rows.append({ u.dn.toLower(), m_nextSeq++, encodeStoredUser(u) });
        if (m_fullRead)
            m_read.insert(rows.constLast().key);
    }
    return m_state.storeRows(m_key, rows, m_fullRead, false);
}

Result<void> StoredDirectory::commit(const ReadMark &mark)
{
    if (m_fullRead) {
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
    return {};
}

void StoredDirectory::rollback()
{
    if (m_open)
        m_state.database().rollback();
    m_open = false;
    m_read.clear();
}

Result<qint64> StoredDirectory::forEachUser(const certs::ValueAnalyzer &analyzer, const QDateTime &now,
                                            const std::function<bool(DirectoryUser &&)> &visit) const
{
    // Rows are read on this thread (the connection belongs to it) and analysed in batches on both
    // cores, a few batches ahead; users reach `visit` in the stored order. Analysed one by one here,
    // the merged inventory of an unchanged directory took longer than reading it all again.
    constexpr qsizetype batchSize = 500;
    constexpr size_t batchesAhead = 4;
    QThreadPool pool;
    pool.setMaxThreadCount(qMax(1, QThread::idealThreadCount()));
    std::deque<QFuture<QList<DirectoryUser>>> inFlight;
    QList<DirectoryUser> batch;
    bool damaged = false;
    bool stopped = false;
    qint64 visited = 0;
    const auto analyse = [&analyzer, now](QList<DirectoryUser> users) {
        for (DirectoryUser &user : users)
            user.values =
                analyzer.analyzeUser(user.userCertificate, user.userSmimeCertificate, user.context(), now);
        return users;
    };
    const auto deliver = [&](bool wait) {
        while (!stopped && !inFlight.empty() && (wait || inFlight.front().isFinished())) {
            QList<DirectoryUser> users = inFlight.front().takeResult();
            inFlight.pop_front();
            for (DirectoryUser &user : users) {
                if (!visit(std::move(user))) {
                    stopped = true;
                    break;
                }
                ++visited;
            }
        }
    };
    const auto submit = [&] {
        if (batch.isEmpty())
            return;
        inFlight.push_back(QtConcurrent::run(&pool, analyse, std::exchange(batch, {})));
        deliver(false);
        while (!stopped && inFlight.size() > batchesAhead) {
            inFlight.front().waitForFinished();
            deliver(false);
        }
    };
    auto read = m_state.forEachRow(m_key, [&](const QString &, const QByteArray &bytes) {
        std::optional<DirectoryUser> user = decodeStoredUser(bytes);
        if (!user) {
            damaged = true;
            return false;
        }
        batch.append(std::move(*user));
        if (batch.size() >= batchSize)
            submit();
        return !stopped;
    });
    if (read && !damaged && !stopped) {
        submit();
        deliver(true);
    }
    pool.waitForDone(); // batches still running after a stop use the analyzer
    if (!read)
        return read.error();
    if (damaged)
        return storeError(QStringLiteral("a stored directory user cannot be read; run with --full"));
    return visited;
}

} // namespace certsync::directory
