#pragma once

#include "certs/ValueAnalyzer.h"
#include "core/Result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>
#include <QHash>
#include <QList>
#include <QMutex>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

namespace certsync::store {

class WriteBehind;

// The state database of DESIGN.md: one SQLite file, WAL mode (but for a first fill written alone,
// beginWritingAlone()), schema versioned with migrations.
// A StateStore and its connection belong to the thread that opened it (QtSql's rule); other
// threads hand their data to that thread (see SqliteAnalysisCache).
class StateStore
{
public:
    static Result<std::unique_ptr<StateStore>> open(const QString &path);
    // For migration tests: a database (new, or older than `version`) brought to schema `version` only.
    static Result<std::unique_ptr<StateStore>> openAtVersion(const QString &path, int version);
    ~StateStore();
    StateStore(const StateStore &) = delete;
    StateStore &operator=(const StateStore &) = delete;

    [[nodiscard]] QSqlDatabase database() const;
    [[nodiscard]] int schemaVersion() const;

    // For the first large write into a database this store made (open() created the file) and that
    // stores no directory user and no cached analysis yet (a first read into an empty state folder),
    // outside a transaction: leaves the WAL for a rollback journal, when no other connection (of any
    // process) has the database open, and returns whether it did. SQLite journals no page past the
    // file's end at the transaction's start, so each new page is written once, into the database,
    // where with the WAL it is written to the WAL, read back by the checkpoint and written again (a
    // cold 50,000-user inventory: 280 MB three times; BENCHMARKS.md, session 12). Crash-safe as the WAL is: a
    // hot journal left by a killed process is rolled back by the next connection. A process that opens the
    // database meanwhile cannot put it in WAL mode and is told that it is being filled (open() fails).
    // Meanwhile the kernel is asked to start writing the new pages out as they come (WriteBehind), so
    // that the commit does not wait for all of them. endWritingAlone() goes back to the WAL.
    bool beginWritingAlone();
    void endWritingAlone(); // after the transaction's commit or rollback
    [[nodiscard]] QString path() const { return m_path; }
    static int latestSchemaVersion();

    // Incremental-read marks per directory (ReadMark JSON), keyed by the profile's server text.
    Result<void> saveMark(const QString &server, const QByteArray &markJson);
    [[nodiscard]] QByteArray mark(const QString &server) const;
    [[nodiscard]] QDateTime markSaved(const QString &server) const; // UTC; invalid when none

    // Last snapshots (DESIGN.md's State), for incremental reads: one blob per key...
    Result<void> saveSnapshot(const QString &key, const QByteArray &data);
    [[nodiscard]] QByteArray snapshot(const QString &key) const; // empty when none
    Result<void> forget(const QString &key); // the blob and the mark stored under this key
    // ...and rows keyed by (source, key), for a directory's users, in seq order. A row stored again
    // with the same data (and, with RowOrder::Reorder, the same seq) is not rewritten: a full read of an
    // unchanged directory writes nothing. With RowOrder::Keep a row read again keeps its seq (an
    // incremental read: the order is the order rows were first stored); with Reorder, it takes the new
    // one (a full read: the directory's order). Fresh is Reorder into a source that had no rows when
    // the caller's transaction began (a first read), written the fastest way. Without ownTransaction
    // the caller holds one around several calls.
    enum class RowOrder { Keep, Reorder, Fresh };
    // `report` and `reportCsv` are what an inventory made of the row's user (directory::UserReport:
    // encoded, and its rows); a null `report` (the writer made none) keeps a stored one of the same data.
    // `summary` is what the console's users table shows of it (directory::UserSummary, encoded), stored
    // beside the row in the row's place; empty stores none. A row whose data changed loses the summary
    // it had (a trigger), a row that moved takes it along.
    struct StoredRow
    {
        QString key;
        qint64 seq = 0;
        QByteArray data;
        QByteArray report;
        QByteArray reportCsv;
        QByteArray summary;
    };
    Result<void> storeRows(const QString &source, const QList<StoredRow> &rows, RowOrder order,
                           bool ownTransaction = true);
    // Drops the source's rows whose key is not in `keep` (after a full read: the users that are
    // gone). Returns how many were dropped.
    Result<qint64> dropRowsExcept(const QString &source, const QSet<QString> &keep);
    // 0 when none. An error is one: a read that took it for 0 would store into the source as if it had
    // no rows, and drop none that are gone.
    [[nodiscard]] Result<qint64> lastRowSeq(const QString &source) const;
    // Streams the source's rows in seq order; `visit` returns false to stop. Returns the rows visited.
    Result<qint64> forEachRow(const QString &source,
                              const std::function<bool(const StoredRow &)> &visit) const;

    // Whether every row of the source has its summary (not so in a database made before them); `rows`
    // gets how many rows the source has.
    [[nodiscard]] bool summariesComplete(const QString &source, qint64 *rows = nullptr) const;
    // Streams the source's summaries in the rows' order, in one query; `visit` returns false to stop.
    Result<qint64> forEachSummary(const QString &source,
                                  const std::function<bool(const QByteArray &)> &visit) const;

private:
    StateStore(QString path, QString connectionName);
    Result<void> migrate(int target);

    // The number naming a source's rows (table `sources`), made when first needed. Not kept between
    // calls: one made in a transaction that is rolled back is gone.
    Result<qint64> sourceId(const QString &source);

    QString m_path;
    QString m_connectionName;
    bool m_madeHere = false; // open() created the database file
    std::unique_ptr<WriteBehind> m_writeBehind; // while written alone
};

// Read-only connections to one state database for threads other than the store's, one per thread
// (a QtSql connection belongs to the thread that made it). With WAL they read the last committed
// state while the store's thread writes in a transaction. On the store's own thread, the store's
// connection is borrowed. A thread's connection is closed by that thread: when it ends, or when it
// next opens one for another ThreadReaders after this one is gone.
class ThreadReaders
{
public:
    struct Reader;
    // `mapped`: pages are read in place through a memory map (no system call per page, but every page
    // read stays in the process's resident memory while the connection lives).
    ThreadReaders(StateStore &store, bool mapped);
    ~ThreadReaders();
    ThreadReaders(const ThreadReaders &) = delete;
    ThreadReaders &operator=(const ThreadReaders &) = delete;

    // This thread's statement `slot` (0-7), prepared from `sql` on first use; null when the database
    // cannot be read from this thread (logged once).
    QSqlQuery *query(int slot, const QString &sql);

private:
    StateStore &m_store;
    QThread *m_storeThread;
    bool m_mapped;
    quint64 m_id; // never reused: a thread's readers are found by it (not by a reusable TLS slot)
    std::unique_ptr<Reader> m_storeReader; // on the store's thread
};

// Analyses remembered across runs, keyed by the SHA-256 of the raw value. Nothing is read at start:
// each value is looked up when it is met, by whichever thread analyses it, through that thread's own
// read-only connection (QtSql connections belong to one thread; WAL lets them read while the store's
// thread writes). New analyses are encoded on the analysing thread and written back by flush() on the
// store's thread.
//
// The cached form is compact: what the judge and the inventory CSV need of each certificate (hashes
// are the SHA-256 only; subject, issuer, serial, validity, e-mail addresses, key and extended key
// usage, key type and size, signature algorithm, CA and self-signed flags) and the chain's verdict
// (status, error, message), not its elements. Left out: the DER (a plain certificate value is its own
// DER, which DirectoryReadJob puts back), SHA-1, UPN and DNS names, key identifiers, AIA and CRL URLs,
// the path length. A caller that shows a certificate's details re-analyses the value.
class SqliteAnalysisCache final : public certs::AnalysisCache
{
public:
    // Prepares lookups in `store`, which must outlive the cache; reads nothing yet.
    static Result<std::shared_ptr<SqliteAnalysisCache>> load(StateStore &store);
    ~SqliteAnalysisCache() override;

    std::optional<certs::CachedAnalysis> find(const QByteArray &valueSha256) override;
    void insert(const QByteArray &valueSha256, const certs::CachedAnalysis &analysis) override;
    Result<void> flush(); // on the StateStore's thread, in a transaction of its own
    // While the store's thread holds a transaction open (a snapshot being stored), writes what is
    // pending into it, so that the work is spread over the read instead of done at its end. Only the
    // rows' keys stay in memory, where keeping every analysis of a cold read until its commit was
    // 100 MB at 50,000 users and, made on the analysing threads, fragmented their heaps (OpenSSL's
    // allocations then cost a third more CPU).
    Result<void> writeIntoTransaction();
    // Before that transaction is rolled back: reads the rows written into it back, pending again for
    // flush(), so that what a failed read analysed stays useful.
    void takeBackWritten();
    void transactionEnded(bool committed);
    [[nodiscard]] qsizetype size() const; // stored in this format, and pending; on the store's thread
    [[nodiscard]] qsizetype pending() const; // inserted and not yet written, each time a value was met

    static QByteArray encode(const certs::CachedAnalysis &analysis);
    static std::optional<certs::CachedAnalysis> decode(const QByteArray &bytes);
    static int formatVersion(); // bump when the cached form changes

private:
    explicit SqliteAnalysisCache(StateStore &store);
    static void encodeInto(QByteArray &out, const certs::CachedAnalysis &analysis); // appends
    QByteArray lookup(const QByteArray &valueSha256); // the stored encoded form, empty when none

    StateStore &m_store;
    ThreadReaders m_readers;

    // A row not yet written: its key and encoded form, views into a block of rows that it keeps alive.
    struct Pending
    {
        std::shared_ptr<const QByteArray> block;
        QByteArrayView key;
        QByteArrayView data;
    };
    // What one analysing thread inserted and the store's thread has not taken yet: rows appended to
    // blocks of a few hundred, each row a byte of key length, four of data length, the key, the data.
    // Each thread writes its own, so inserting takes no lock another thread holds (a shared map of
    // pending rows took one per value, on both cores and the writing thread: BENCHMARKS.md, session
    // 14), and the writing thread frees a block at a time: a row freed on another thread than the one
    // that allocated it takes that thread's heap lock, which the analysing threads hold most of the
    // time (session 13). A pending row is not found by find(): a value met again before its row is
    // written is analysed again, which is rare (values shared by users).
    struct Slot
    {
        std::thread::id thread;
        QMutex mutex; // taken by its thread for each row and by the store's thread to take the blocks
        QList<std::shared_ptr<QByteArray>> blocks; // the last one is being filled
        qsizetype rows = 0;
    };
    Slot &slot(); // this thread's
    // Takes every pending row, in key order, each key once; left-over rows of a failed write first.
    [[nodiscard]] QList<Pending> takePending();
    void putBack(QList<Pending> rows); // not written after all: pending again
    Result<void> write(const QList<Pending> &rows);
    void rememberWritten(const QList<Pending> &rows); // into the open transaction, for takeBackWritten()

    const quint64 m_id; // tells this cache's slot from a destroyed one's in a thread's memory
    mutable QMutex m_mutex; // guards the members below
    std::vector<std::unique_ptr<Slot>> m_slots; // one per thread that inserted, for the cache's life
    QList<Pending> m_unwritten; // taken back from a rolled back transaction, or not written by a failure
    std::atomic<qsizetype> m_pending = 0;
    // No row of this format when loaded, and nothing of this run's left memory since: lookups skip
    // the database.
    std::atomic<bool> m_nothingStored = false;
    // The keys written into the open transaction, not yet committed: one byte of length, the key.
    QByteArray m_writtenKeys;
};

} // namespace certsync::store
