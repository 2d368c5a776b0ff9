#include "store/SqliteStatement.h"

#include <QSqlDriver>
#include <QVariant>

#include <sqlite3.h>

#include <dlfcn.h>
#include <link.h>

#include <cstring>
#include <limits>
#include <utility>

namespace certsync::store {

namespace {

Error statementError(const QString &message)
{
    return Error { QStringLiteral("state_db"), message };
}

// Whether the loaded Qt SQLite driver calls the SQLite library this code links (Debian's is built
// with -system-sqlite). A driver with SQLite compiled in (Qt's own builds) hands out a connection of
// another copy of SQLite, which this code must never touch: its structures may differ.
bool driverSharesOurSqlite()
{
    QByteArray plugin;
    dl_iterate_phdr(
        [](dl_phdr_info *info, size_t, void *found) {
            if (info->dlpi_name && std::strstr(info->dlpi_name, "libqsqlite"))
                *static_cast<QByteArray *>(found) = info->dlpi_name;
            return 0;
        },
        &plugin);
    if (plugin.isEmpty())
        return false;
    void *handle = dlopen(plugin.constData(), RTLD_LAZY | RTLD_NOLOAD);
    if (!handle)
        return false;
    // Looked up from the plugin: its own copy if it has one, else the library it links.
    void *theirs = dlsym(handle, "sqlite3_prepare_v3");
    dlclose(handle);
    return theirs == reinterpret_cast<void *>(&sqlite3_prepare_v3);
}

} // namespace

Result<sqlite3 *> SqliteStatement::connection(const QSqlDatabase &db)
{
    const QVariant handle = db.driver() ? db.driver()->handle() : QVariant();
    if (!handle.isValid() || qstrcmp(handle.typeName(), "sqlite3*") != 0)
        return statementError(QStringLiteral("the state database's connection is not SQLite's"));
    static const bool shared = driverSharesOurSqlite();
    if (!shared)
        return statementError(QStringLiteral(
            "Qt's SQLite driver does not use the system's SQLite library that certsync links (it must be "
            "built with -system-sqlite, as Debian's is)"));
    sqlite3 *connection = *static_cast<sqlite3 *const *>(handle.constData());
    if (!connection)
        return statementError(QStringLiteral("the state database is not open"));
    return connection;
}

Result<SqliteStatement> SqliteStatement::prepare(const QSqlDatabase &db, const char *sql)
{
    const Result<sqlite3 *> connection = SqliteStatement::connection(db);
    if (!connection)
        return connection.error();
    sqlite3_stmt *statement = nullptr;
    if (sqlite3_prepare_v3(*connection, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr)
        != SQLITE_OK) {
        const QString why = QString::fromUtf8(sqlite3_errmsg(*connection));
        sqlite3_finalize(statement);
        return statementError(QStringLiteral("cannot prepare a statement: %1").arg(why));
    }
    return SqliteStatement(*connection, statement);
}

SqliteStatement::SqliteStatement(sqlite3 *db, sqlite3_stmt *statement)
    : m_db(db)
    , m_statement(statement)
{ }

SqliteStatement::SqliteStatement(SqliteStatement &&other) noexcept
    : m_db(std::exchange(other.m_db, nullptr))
    , m_statement(std::exchange(other.m_statement, nullptr))
    , m_code(other.m_code)
    , m_bindCode(other.m_bindCode)
    , m_error(std::move(other.m_error))
{ }

SqliteStatement &SqliteStatement::operator=(SqliteStatement &&other) noexcept
{
    if (this != &other) {
        sqlite3_finalize(m_statement);
        m_db = std::exchange(other.m_db, nullptr);
        m_statement = std::exchange(other.m_statement, nullptr);
        m_code = other.m_code;
        m_bindCode = other.m_bindCode;
        m_error = std::move(other.m_error);
    }
    return *this;
}

SqliteStatement::~SqliteStatement()
{
    sqlite3_finalize(m_statement); // a no-op on null
}

void SqliteStatement::bound(int code)
{
    if (code != SQLITE_OK && m_bindCode == 0)
        m_bindCode = code;
}

void SqliteStatement::bind(int parameter, qint64 value)
{
    bound(sqlite3_bind_int64(m_statement, parameter, value));
}

void SqliteStatement::bindBlob(int parameter, QByteArrayView bytes)
{
    if (bytes.isNull())
        bound(sqlite3_bind_null(m_statement, parameter));
    else // an empty blob is a blob, not NULL
        bound(sqlite3_bind_blob64(m_statement, parameter, bytes.data() ? bytes.data() : "",
                                  sqlite3_uint64(bytes.size()), SQLITE_STATIC));
}

void SqliteStatement::bindText(int parameter, QStringView text)
{
    // As QtSql binds text (UTF-16, converted by SQLite): a key written here is the key a QtSql lookup
    // asks for, whatever its characters.
    if (text.size() > std::numeric_limits<int>::max() / 2)
        bound(SQLITE_TOOBIG);
    else
        bound(sqlite3_bind_text16(m_statement, parameter, text.utf16(), int(text.size() * 2), SQLITE_STATIC));
}

bool SqliteStatement::run()
{
    if (m_bindCode != 0) { // a value missing: never a row with the last row's value in its place
        m_code = std::exchange(m_bindCode, 0);
        m_error = QStringLiteral("cannot bind a value: %1").arg(QString::fromUtf8(sqlite3_errstr(m_code)));
        sqlite3_clear_bindings(m_statement);
        return false;
    }
    m_code = sqlite3_step(m_statement);
    const bool done = m_code == SQLITE_DONE;
    if (!done)
        m_error = QString::fromUtf8(sqlite3_errmsg(m_db));
    sqlite3_reset(m_statement);
    return done;
}

bool SqliteStatement::constraintFailed() const
{
    return (m_code & 0xff) == SQLITE_CONSTRAINT;
}

} // namespace certsync::store
