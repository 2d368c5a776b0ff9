#pragma once

#include "certs/ValueAnalyzer.h"
#include "core/Result.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QMutex>
#include <QSqlDatabase>
#include <QString>

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
