#pragma once

#include "core/Result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QSqlDatabase>
#include <QStringView>

struct sqlite3;
struct sqlite3_stmt;

namespace certsync::store {

// A statement run through SQLite's own C API on the connection that a QSqlDatabase holds, for the
// statements a store runs once per row: a cold 50,000-user inventory runs 225,000 of them. Through
// QtSql each run built a QSqlError, a QVariant for every value and a list of them, and looked each
// placeholder up by name. Here a value is bound where it lies (the caller keeps it until run()
// returns) and the statement is reset for the next row (docs/BENCHMARKS.md, session 13).
//
// QSqlDriver::handle() gives the driver's `sqlite3 *`; Debian's Qt SQLite driver is linked against
// the system's libsqlite3, the library this code links, so both use one SQLite (connection() checks
// it, and refuses a driver with a copy of SQLite compiled in). The statement takes
// part in whatever transaction is open on the connection, waits on a busy database as the connection's
// other statements do, and belongs to the connection's thread. It is finalized when destroyed, which
// must be before the connection closes.
class SqliteStatement
{
public:
    // Parameters are numbered from 1, as `?` placeholders are.
    static Result<SqliteStatement> prepare(const QSqlDatabase &db, const char *sql);
    // The connection's `sqlite3 *`, or an error when the driver is not SQLite's or not the system's.
    static Result<sqlite3 *> connection(const QSqlDatabase &db);

    SqliteStatement(SqliteStatement &&other) noexcept;
    SqliteStatement &operator=(SqliteStatement &&other) noexcept;
    SqliteStatement(const SqliteStatement &) = delete;
    SqliteStatement &operator=(const SqliteStatement &) = delete;
    ~SqliteStatement();

    // Blobs and text are bound where they lie: the caller keeps them until run() returns (a temporary
    // does not compile). A value that cannot be bound (too large) makes the next run() fail.
    void bind(int parameter, qint64 value);
    void bindBlob(int parameter, QByteArrayView bytes); // a null view binds NULL
    void bindBlob(int parameter, QByteArray &&bytes) = delete;
    void bindText(int parameter, QStringView text);
    void bindText(int parameter, QString &&text) = delete;

    // Runs a statement that returns no rows (an insert, an update) and resets it for the next values.
    // False when it failed; then
    // error() says why and constraintFailed() whether a constraint (a key met twice) was the cause.
    bool run();
    [[nodiscard]] QString error() const { return m_error; }
    [[nodiscard]] bool constraintFailed() const;

private:
    SqliteStatement(sqlite3 *db, sqlite3_stmt *statement);

    sqlite3 *m_db = nullptr;
    sqlite3_stmt *m_statement = nullptr;
    int m_code = 0; // of the last run
    int m_bindCode = 0; // the first failed bind's since the last run, 0 when none
    void bound(int code); // keeps the first failure
    QString m_error;
};

} // namespace certsync::store
