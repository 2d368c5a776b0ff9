#pragma once

// The directory side of the state database: the last complete snapshot of one directory (its users'
// identifiers and raw values, one row each) and the mark where the next incremental read continues.
// An incremental read replaces the rows of the users it read; the merged snapshot is then streamed
// from the rows, analysed again through the analysis cache (warm: values are known by SHA-256).
// Deleted users stay in it until the next full read, as the log says.

#include "certs/ValueAnalyzer.h"
#include "core/Result.h"
#include "directory/DirectorySnapshot.h"
#include "directory/UserSummary.h"
#include "jobs/LogRecord.h"

#include <QHash>
#include <QSet>

#include <functional>
#include <memory>
#include <optional>

namespace certsync::store {
class StateStore;
class ThreadReaders;
} // namespace certsync::store

namespace certsync::directory {

// What a stored snapshot and its mark belong to: kind, URL, base DN, the effective filter and the
// attributes read. Any of them changed finds nothing stored, and so reads in full.
QString storedDirectoryKey(const ConnectionProfile &profile);

// A stored user's row key: its source anchor (objectGUID on AD, entryUUID on OpenLDAP), which a move or
// a rename keeps, so that the user's row is replaced instead of a second one added; the DN in lower
// case only for an entry without one. "anchor:<anchor>" or "dn:<dn>".
QString storedRowKey(const DirectoryUser &user);

// Identifiers and raw values; no analysis (re-derived, and cached by SHA-256 elsewhere).
QByteArray encodeStoredUser(const DirectoryUser &user);
std::optional<DirectoryUser> decodeStoredUser(const QByteArray &bytes);
// Whether encodeStoredUser(user) would give `stored`, without making it.
bool matchesStoredUser(const DirectoryUser &user, const QByteArray &stored);

// DirectoryReadJob's record of why a read is full or incremental (another DC; changes only, so
// deleted users need a full read): commands show it to the person who ran them.
bool isReadPlanNote(const jobs::LogRecord &record);

// The rows of the last committed snapshot, readable from any thread (each through a read-only
// connection of its own), for a full read that compares each entry with its stored row.
class StoredUserReader
{
public:
    struct Row
    {
        qint64 seq = 0;
        QByteArray data; // encodeStoredUser
        QByteArray report; // UserReport::encode(); empty when none
        QByteArray reportCsv;
    };
    StoredUserReader(store::StateStore &state, const ConnectionProfile &profile); // on the store's thread
    ~StoredUserReader();
    StoredUserReader(const StoredUserReader &) = delete;
    StoredUserReader &operator=(const StoredUserReader &) = delete;

    // The rows at positions firstSeq .. firstSeq + count - 1, by row key (storedRowKey): where a full
    // read of an unchanged directory meets them again.
    [[nodiscard]] QHash<QString, Row> range(qint64 firstSeq, qint64 count) const;
    [[nodiscard]] std::optional<Row> find(const QString &rowKey) const;

private:
    QString m_key;
    std::unique_ptr<store::ThreadReaders> m_readers;
};

// How the inventory makes and reuses user reports (UserReport). Each analysed user's CSV rows are made
// on the analysing thread and stored with the user's row; a user whose entry is byte for byte the
// stored one, with a report that still holds, takes the stored report and is not analysed.
struct ReportSettings
{
    QByteArray context; // the trust, policy and judgement the verdicts were made under
    std::function<QByteArray(const DirectoryUser &, qint64 *rows)> rowsOf; // the CSV rows of an analysed user
    std::shared_ptr<const StoredUserReader> stored; // the last snapshot; null when there is none

    [[nodiscard]] UserReport make(const DirectoryUser &user, const QDateTime &judgedAt,
                                  int warningDays) const;
};

class StoredDirectory
{
public:
    StoredDirectory(store::StateStore &state, const ConnectionProfile &profile);
    ~StoredDirectory(); // rolls back what was not committed

    // The mark of the last complete read, when there is one; `why` says why there is none.
    [[nodiscard]] std::optional<ReadMark> mark(QString *why) const;
    // When the last complete read was stored (its end); invalid when none is.
    [[nodiscard]] QDateTime storedAt() const;

    // One transaction per read: nothing of a failed read is kept. A full read stores every user in
    // the directory's order (rewriting only what changed) and drops the users it did not meet.
    // With WriteAlone, a first full read into a database the process has just created (no users, no
    // cached analyses) may leave the WAL for a rollback journal (StateStore::beginWritingAlone: each
    // page written once), which other connections then cannot read through until the commit: for a
    // process that opens none meanwhile (the command line's inventory), not for the console, whose
    // other tasks read the run history while it refreshes.
    enum class FirstFill { ThroughWal, WriteAlone };
    Result<void> begin(bool fullRead, FirstFill firstFill = FirstFill::ThroughWal);
    Result<void> store(const QList<DirectoryUser> &users); // replaces rows by storedRowKey
    Result<void> commit(const ReadMark &mark);
    void rollback();

    // The stored users in the order they were first read, analysed. `visit` returns false to stop. Returns
    // the users visited. With `reports`, a user whose stored report holds is given it instead of being
    // analysed (its `values` stay empty), and the others get a new one.
    Result<qint64> forEachUser(const certs::ValueAnalyzer &analyzer, const QDateTime &now,
                               const std::function<bool(DirectoryUser &&)> &visit,
                               const ReportSettings *reports = nullptr) const;

    // What the console's users table shows of each stored user, in the stored order, from one query
    // and without analysis (UserSummary); complete only when every stored user has one (a database
    // made before summaries has none until the next read is stored).
    [[nodiscard]] bool summariesComplete(qint64 *users = nullptr) const; // `users`: how many are stored
    // One stored user with its values (not analysed), by its row key (storedRowKey).
    [[nodiscard]] Result<DirectoryUser> user(const QString &rowKey) const;
    // Each stored user's summary, in the stored order. Error code "summary_unreadable" when one does
    // not decode (damaged, or written in an older format): judge the stored users (forEachUser)
    // instead; the next stored read writes the summaries anew. `decoded`, when given, is called on
    // the worker that decoded each summary (several at once, in no order) with its position in the
    // stored order, before `visit` has it, and may take parts of it: work that needs only the summary
    // (the console makes its table rows there and keeps the identities) leaves the thread that calls
    // `visit`.
    Result<qint64> forEachSummary(const std::function<bool(UserSummary &&)> &visit,
                                  const std::function<void(qint64, UserSummary &)> &decoded = {}) const;

private:
    store::StateStore &m_state;
    QString m_key;
    bool m_open = false;
    bool m_fullRead = false;
    bool m_fresh = false; // a full read into a source without rows: plain inserts
    bool m_alone = false; // written with a rollback journal (StateStore::beginWritingAlone)
    void endWritingAlone();
    QSet<QString> m_read; // the row keys a full read stored; the others are dropped at commit (not fresh)
    qint64 m_nextSeq = 1;
};

} // namespace certsync::directory
