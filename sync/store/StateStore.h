#pragma once

#include "certs/ValueAnalyzer.h"
#include "core/Result.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QMutex>
#include <QSqlDatabase>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

namespace certsync::store {

// The state database of DESIGN.md: one SQLite file, WAL mode, schema versioned with migrations.
// A StateStore and its connection belong to the thread that opened it (QtSql's rule); other
// threads hand their data to that thread (see SqliteAnalysisCache).
class StateStore
{
public:
    static Result<std::unique_ptr<StateStore>> open(const QString &path);
    ~StateStore();
    StateStore(const StateStore &) = delete;
    StateStore &operator=(const StateStore &) = delete;

    [[nodiscard]] QSqlDatabase database() const;
    [[nodiscard]] int schemaVersion() const;
    [[nodiscard]] QString path() const { return m_path; }
    static int latestSchemaVersion();

    // Incremental-read marks per directory (ReadMark JSON), keyed by the profile's server text.
    Result<void> saveMark(const QString &server, const QByteArray &markJson);
    [[nodiscard]] QByteArray mark(const QString &server) const;

    // Last snapshots (DESIGN.md's State), for incremental reads: one blob per key...
    Result<void> saveSnapshot(const QString &key, const QByteArray &data);
    [[nodiscard]] QByteArray snapshot(const QString &key) const; // empty when none
    Result<void> forget(const QString &key); // the blob and the mark stored under this key
    // ...and rows keyed by (source, key), for a directory's users, kept in the order they were first
    // stored (seq): an incremental read replaces only the rows it read (a row read again keeps its
    // seq); replaceAll drops the source's other rows first (a full read). Without ownTransaction
    // the caller holds one around several calls.
    struct StoredRow
    {
        QString key;
        qint64 seq = 0;
        QByteArray data;
    };
    Result<void> storeRows(const QString &source, const QList<StoredRow> &rows, bool replaceAll,
                           bool ownTransaction = true);
    [[nodiscard]] qint64 lastRowSeq(const QString &source) const; // 0 when none
    // Streams the source's rows in seq order; `visit` returns false to stop. Returns the rows visited.
    Result<qint64> forEachRow(const QString &source,
                              const std::function<bool(const QString &, const QByteArray &)> &visit) const;

private:
    StateStore(QString path, QString connectionName);
    Result<void> migrate();

    QString m_path;
    QString m_connectionName;
};

// Analyses remembered across runs, keyed by the SHA-256 of the raw value. Every row is read at load
// time, kept encoded (about 1 KB a value), decoded by whichever thread asks; new analyses are encoded
// on the analysing thread and written back by flush() on the store's thread: the analysis threads
// never touch SQL. Two things are left out to keep 100,000 values small: the chain's elements (the
// verdict stays: status, error, message) and, for a plain certificate value, the certificate's DER,
// which is the value itself: a caller that needs it takes it from the value (DirectoryReadJob does).
class SqliteAnalysisCache final : public certs::AnalysisCache
{
public:
    static Result<std::shared_ptr<SqliteAnalysisCache>> load(StateStore &store);

    std::optional<certs::CachedAnalysis> find(const QByteArray &valueSha256) override;
    void insert(const QByteArray &valueSha256, const certs::CachedAnalysis &analysis) override;
    Result<void> flush(); // on the StateStore's thread
    [[nodiscard]] qsizetype size() const;
    [[nodiscard]] qsizetype pending() const;

    static QByteArray encode(const certs::CachedAnalysis &analysis);
    static std::optional<certs::CachedAnalysis> decode(const QByteArray &bytes);
    static int formatVersion(); // bump when CachedAnalysis or Certificate gains a field

private:
    explicit SqliteAnalysisCache(StateStore &store);

    StateStore &m_store;
    mutable QMutex m_mutex;
    QHash<QByteArray, QByteArray> m_encoded; // loaded and new, decoded on every find
    QList<QByteArray> m_new;
};

} // namespace certsync::store
