#include "store/StateStore.h"
#include "store/CompactCodec.h"
#include "store/FileModes.h"
#include "store/SqliteStatement.h"
#include "store/WriteBehind.h"

#include "core/Logging.h"

#include <QAtomicInt>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QScopeGuard>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QThreadStorage>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace certsync::store {

using namespace certs;

namespace {

// Each entry upgrades the schema by one version, in one transaction. Never edit a released entry:
// add a new one.
const QList<QStringList> &migrations()
{
    static const QList<QStringList> list = {
        // 1: analysis cache and incremental-read marks
        { QStringLiteral("CREATE TABLE analysis_cache (sha256 BLOB PRIMARY KEY, format INTEGER NOT NULL, "
                         "data BLOB NOT NULL, created TEXT NOT NULL) WITHOUT ROWID"),
          QStringLiteral("CREATE TABLE directory_marks (server TEXT PRIMARY KEY, mark TEXT NOT NULL, "
                         "updated TEXT NOT NULL)") },
        // 2: staged plans, their items, decisions, the publish journal, findings and the audit trail
        { QStringLiteral(
              "CREATE TABLE plans (id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, "
              "status TEXT NOT NULL, directory_server TEXT, directory_read_at TEXT, tenant_id TEXT, "
              "tenant_read_at TEXT, items INTEGER NOT NULL, removed_values INTEGER NOT NULL, "
              "added_values INTEGER NOT NULL, matched INTEGER NOT NULL)"),
          QStringLiteral(
              "CREATE TABLE plan_items (plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE, "
              "item_no INTEGER NOT NULL, user_key TEXT NOT NULL, user_label TEXT, tenant_object_id TEXT, "
              "matched_by TEXT, channel TEXT NOT NULL, attribute TEXT NOT NULL, operation TEXT NOT NULL, "
              "target TEXT NOT NULL, recipient_type TEXT, old_sha256 TEXT, new_sha256 TEXT, "
              "old_values BLOB, new_values BLOB, removed_values BLOB, removed INTEGER NOT NULL, "
              "added INTEGER NOT NULL, reasons TEXT, decision TEXT NOT NULL DEFAULT 'pending', "
              "PRIMARY KEY (plan_id, item_no))"),
          QStringLiteral(
              "CREATE TABLE decisions (id INTEGER PRIMARY KEY AUTOINCREMENT, plan_id INTEGER NOT NULL, "
              "item_no INTEGER NOT NULL, decision TEXT NOT NULL, who TEXT NOT NULL, at TEXT NOT NULL, "
              "comment TEXT)"),
          QStringLiteral("CREATE TABLE journal (plan_id INTEGER NOT NULL, item_no INTEGER NOT NULL, "
                         "state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, http_status INTEGER, "
                         "request_id TEXT, client_request_id TEXT, error TEXT, updated TEXT NOT NULL, "
                         "PRIMARY KEY (plan_id, item_no))"),
          QStringLiteral("CREATE TABLE plan_findings (plan_id INTEGER NOT NULL, kind TEXT NOT NULL, "
                         "user_key TEXT, user_label TEXT, code TEXT, detail TEXT)"),
          QStringLiteral("CREATE INDEX plan_findings_plan ON plan_findings (plan_id)"),
          QStringLiteral(
              "CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "
              "who TEXT NOT NULL, action TEXT NOT NULL, plan_id INTEGER, item_no INTEGER, detail TEXT)") },
        // 3: last snapshots for incremental reads: whole blobs (the tenant's users) and the directory's
        // users one row each, so that an incremental read rewrites only what changed (a rowid table:
        // rows of kilobytes stream back six times faster than from a WITHOUT ROWID one)
        { QStringLiteral("CREATE TABLE snapshots (key TEXT PRIMARY KEY, data BLOB NOT NULL, "
                         "updated TEXT NOT NULL)"),
          QStringLiteral("CREATE TABLE directory_users (source TEXT NOT NULL, dn TEXT NOT NULL, "
                         "seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (source, dn))"),
          QStringLiteral("CREATE INDEX directory_users_order ON directory_users (source, seq)") },
        // 4: the analysis cache keeps a compact form (format 4) and is looked up value by value; the
        // rows of earlier formats are never read again and are recomputed when their value is met
        { QStringLiteral("DELETE FROM analysis_cache") },
        // 5: analyses are keyed by the value and the trust store's fingerprint (anchors,
        // intermediates, CRLs): rows keyed by the value alone carried verdicts of unknown trust
        { QStringLiteral("DELETE FROM analysis_cache") },
        // 6: what the inventory made of each stored user (its CSV rows, and until when their
        // verdicts hold), reused while the user's entry is unchanged
        // (the rows apart from the rest, so that reading them back copies them once)
        { QStringLiteral("ALTER TABLE directory_users ADD COLUMN report BLOB"),
          QStringLiteral("ALTER TABLE directory_users ADD COLUMN report_csv BLOB") },
        // 7: one publisher per plan (a claim with the holder's process identity and a heartbeat), and
        // what a target held when its item became a conflict
        { QStringLiteral("CREATE TABLE plan_claims (plan_id INTEGER PRIMARY KEY, who TEXT NOT NULL, "
                         "host TEXT NOT NULL, pid INTEGER NOT NULL, process_start TEXT NOT NULL, "
                         "started TEXT NOT NULL, heartbeat TEXT NOT NULL)"),
          QStringLiteral("ALTER TABLE journal ADD COLUMN seen_values TEXT") },
        // 8: a directory's users are keyed by their source anchor (directory::storedRowKey, in the `dn`
        // column), so that a moved or renamed user replaces its row: the rows keyed by DN are dropped,
        // with the directories' read marks, and the next read of each directory is a full one
        { QStringLiteral("DELETE FROM directory_users"),
          QStringLiteral("DELETE FROM directory_marks WHERE server LIKE 'directory %'") },
        // 9: the run history: every command's run and its log records (RunHistory);
        // times as UTC epoch milliseconds, pruned by age
        { QStringLiteral("CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started INTEGER NOT NULL, "
                         "finished INTEGER, who TEXT NOT NULL, origin TEXT NOT NULL, command TEXT NOT NULL, "
                         "outcome TEXT NOT NULL, summary TEXT, figures TEXT)"),
          QStringLiteral("CREATE INDEX runs_started ON runs (started)"),
          QStringLiteral(
              "CREATE TABLE run_log (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, "
              "seq INTEGER NOT NULL, at INTEGER NOT NULL, level INTEGER NOT NULL, job TEXT, "
              "user TEXT, channel TEXT, message TEXT, http_status INTEGER, request_id TEXT, "
              "client_request_id TEXT, PRIMARY KEY (run_id, seq)) WITHOUT ROWID") },
        // 10: a tamper-evident audit trail (each row's SHA-256 over its content and the previous
        // row's hash: engine::PlanStore); rows written before keep no hash and are reported as such.
        // Plans name their author (four-eyes), taken from the trail for older plans.
        { QStringLiteral("ALTER TABLE audit ADD COLUMN hash TEXT"),
          QStringLiteral("ALTER TABLE plans ADD COLUMN author TEXT"),
          QStringLiteral("UPDATE plans SET author = (SELECT a.who FROM audit a WHERE a.action = "
                         "'plan_created' AND a.plan_id = plans.id ORDER BY a.id LIMIT 1)") },
        // 11: what the console's users table shows of each stored directory user (UserSummary), apart
        // from the rows so that the console's start reads it in one pass over small pages, in the
        // rows' order. Triggers keep it true to its row: a row dropped or whose data changed loses
        // its summary (its writer stores a new one after it), a row that moves takes its summary
        // along. Databases of version 10 have none: the console judges their rows once more.
        { QStringLiteral("CREATE TABLE user_summaries (source TEXT NOT NULL, dn TEXT NOT NULL, "
                         "seq INTEGER NOT NULL, summary BLOB NOT NULL, PRIMARY KEY (source, dn))"),
          QStringLiteral("CREATE INDEX user_summaries_order ON user_summaries (source, seq)"),
          QStringLiteral("CREATE TRIGGER user_summaries_row_gone AFTER DELETE ON directory_users BEGIN "
                         "DELETE FROM user_summaries WHERE source = old.source AND dn = old.dn; END"),
          QStringLiteral("CREATE TRIGGER user_summaries_row_changed AFTER UPDATE OF data ON directory_users "
                         "WHEN old.data IS NOT new.data BEGIN "
                         "DELETE FROM user_summaries WHERE source = old.source AND dn = old.dn; END"),
          QStringLiteral("CREATE TRIGGER user_summaries_row_moved AFTER UPDATE OF seq ON directory_users "
                         "WHEN old.seq <> new.seq BEGIN UPDATE user_summaries SET seq = new.seq "
                         "WHERE source = new.source AND dn = new.dn; END") },
        // 12: what storing a cold inventory costs (docs/BENCHMARKS.md, session 10). The analysis cache
        // as a rowid table, its key in an index of its own: keyed by the hash WITHOUT ROWID, every batch of
        // new analyses landed on pages all over the table (80 MB at
        // 50,000 users), which the page cache could not hold: a cold inventory wrote its WAL three
        // times over and read it back four times. Now rows are appended and only the small index
        // entries (about 45 bytes) are scattered. The cache is recomputed, so its rows are dropped.
        // The directories' rows and summaries name their source (a directory, base DN, filter and
        // attributes: about 200 characters) by a number: the text was repeated in every row and in
        // the four indexes, a sixth of a snapshot's bytes, and every insert compared it again. The
        // rows are copied in the order they are stored (CROSS JOIN keeps the old table outside),
        // which is their seq order after a full read, with no sort held in memory.
        { QStringLiteral("DROP TABLE analysis_cache"),
          QStringLiteral("CREATE TABLE analysis_cache (id INTEGER PRIMARY KEY, sha256 BLOB NOT NULL UNIQUE, "
                         "format INTEGER NOT NULL, data BLOB NOT NULL, created TEXT NOT NULL)"),
          QStringLiteral("CREATE TABLE sources (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE)"),
          QStringLiteral("INSERT INTO sources (key) SELECT DISTINCT source FROM directory_users "
                         "UNION SELECT source FROM user_summaries"),
          QStringLiteral("DROP TRIGGER user_summaries_row_gone"),
          QStringLiteral("DROP TRIGGER user_summaries_row_changed"),
          QStringLiteral("DROP TRIGGER user_summaries_row_moved"),
          QStringLiteral("CREATE TABLE users_by_source (source INTEGER NOT NULL, dn TEXT NOT NULL, "
                         "seq INTEGER NOT NULL, data BLOB NOT NULL, report BLOB, report_csv BLOB, "
                         "PRIMARY KEY (source, dn))"),
          QStringLiteral(
              "INSERT INTO users_by_source SELECT s.id, d.dn, d.seq, d.data, d.report, d.report_csv "
              "FROM directory_users d CROSS JOIN sources s ON s.key = d.source"),
          QStringLiteral("CREATE TABLE summaries_by_source (source INTEGER NOT NULL, dn TEXT NOT NULL, "
                         "seq INTEGER NOT NULL, summary BLOB NOT NULL, PRIMARY KEY (source, dn))"),
          QStringLiteral("INSERT INTO summaries_by_source SELECT s.id, u.dn, u.seq, u.summary "
                         "FROM user_summaries u CROSS JOIN sources s ON s.key = u.source"),
          QStringLiteral("DROP TABLE directory_users"),
          QStringLiteral("DROP TABLE user_summaries"),
          QStringLiteral("ALTER TABLE users_by_source RENAME TO directory_users"),
          QStringLiteral("ALTER TABLE summaries_by_source RENAME TO user_summaries"),
          QStringLiteral("CREATE INDEX directory_users_order ON directory_users (source, seq)"),
          QStringLiteral("CREATE INDEX user_summaries_order ON user_summaries (source, seq)"),
          QStringLiteral("CREATE TRIGGER user_summaries_row_gone AFTER DELETE ON directory_users BEGIN "
                         "DELETE FROM user_summaries WHERE source = old.source AND dn = old.dn; END"),
          QStringLiteral("CREATE TRIGGER user_summaries_row_changed AFTER UPDATE OF data ON directory_users "
                         "WHEN old.data IS NOT new.data BEGIN "
                         "DELETE FROM user_summaries WHERE source = old.source AND dn = old.dn; END"),
          QStringLiteral("CREATE TRIGGER user_summaries_row_moved AFTER UPDATE OF seq ON directory_users "
                         "WHEN old.seq <> new.seq BEGIN UPDATE user_summaries SET seq = new.seq "
                         "WHERE source = new.source AND dn = new.dn; END") },
        // 13: the analysis cache's rows in CompactCodec's form (format 5); those of format 4
        // (QDataStream) are never read again, and only a value met again would have replaced its row
        { QStringLiteral("DELETE FROM analysis_cache WHERE format < 5") },
    };
    return list;
}

Error sqlError(const QString &what, const QSqlError &error)
{
    return Error { QStringLiteral("state_db"), QStringLiteral("%1: %2").arg(what, error.text()) };
}

// A named placeholder for the analysis cache's lookups, run once per value on the analysing threads'
// QtSql connections (the writes, on the store's thread, use SqliteStatement). Qt 6.4's
// QSqlResult::bindValue(int, ...) formats a placeholder name (":0", ":1", ...) for every value it
// binds: three allocations and a QString::arg each (heaptrack; docs/BENCHMARKS.md, session 12). Bound
// by a name made once, the value is found by a hash lookup instead.
class Placeholder
{
public:
    explicit Placeholder(QStringView name)
        : m_name(name.toString())
    { }
    void bind(QSqlQuery &q, const QVariant &value) const { q.bindValue(m_name, value); }

private:
    QString m_name;
};

// A row stored by a plain insert when there is one, else by `fallback` (an upsert or a replace),
// which also takes a key the plain insert met twice; any other failure of the plain insert is one.
struct Put
{
    bool inserted = false; // by the plain insert
    const SqliteStatement *failed = nullptr; // the statement that failed, which says why
};
template<typename Bind> Put put(SqliteStatement *plain, SqliteStatement &fallback, const Bind &bind)
{
    if (plain && bind(*plain))
        return { true, nullptr };
    if (plain && !plain->constraintFailed())
        return { false, plain };
    return { false, bind(fallback) ? nullptr : &fallback };
}

// 2: no chain elements, no DER for plain values; 3: times as epoch ms; 4: compact, only what the
// judge and the inventory need (SqliteAnalysisCache's comment); 5: CompactCodec instead of QDataStream
// (UTF-8 strings, varints)
constexpr int codecFormat = 5;

qint64 epochMs(const QDateTime &time)
{
    return time.isValid() ? time.toMSecsSinceEpoch() : std::numeric_limits<qint64>::min();
}

QDateTime fromEpochMs(qint64 ms)
{
    return ms == std::numeric_limits<qint64>::min() ? QDateTime()
                                                    : QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
}

// The fewest bytes each element of the cached form takes (every field empty or zero): the bounds
// CompactReader::count() checks a list's count against.
constexpr quint64 minCertificateBytes = 20;
constexpr quint64 minChainBytes = 4;
constexpr quint64 minCapabilityBytes = 3;

// A time as put() wrote it; one QDateTime cannot hold is damage (and would not encode back the same).
QDateTime readTime(CompactReader &r)
{
    const qint64 ms = r.signedNumber();
    QDateTime value = fromEpochMs(ms);
    if (ms != std::numeric_limits<qint64>::min() && !value.isValid())
        r.refuse();
    return value;
}

void put(CompactWriter &w, const Certificate &c)
{
    // Times as UTC milliseconds: QDateTime's own serial forms consult the local time zone (a stat()
    // of /etc/localtime per value) and would dominate a warm run.
    w.bytes(c.sha256);
    w.text(c.subject);
    w.text(c.issuer);
    w.text(c.serialHex);
    w.signedNumber(epochMs(c.notBefore));
    w.signedNumber(epochMs(c.notAfter));
    w.texts(c.emailSans);
    w.texts(c.subjectEmails);
    w.flag(c.hasKeyUsage);
    w.signedNumber(c.keyUsage);
    w.flag(c.hasExtendedKeyUsage);
    w.texts(c.extendedKeyUsages);
    w.flag(c.isCa);
    w.signedNumber(qint64(c.keyType));
    w.signedNumber(c.keyBits);
    w.text(c.curve);
    w.text(c.signatureAlgorithm);
    w.text(c.signatureDigest);
    w.flag(c.selfIssued);
    w.flag(c.selfSigned);
}

void get(CompactReader &r, Certificate &c)
{
    c.sha256 = r.bytes();
    c.subject = r.text();
    c.issuer = r.text();
    c.serialHex = r.text();
    c.notBefore = readTime(r);
    c.notAfter = readTime(r);
    c.emailSans = r.texts();
    c.subjectEmails = r.texts();
    c.hasKeyUsage = r.flag();
    c.keyUsage = quint16(r.bounded(0, std::numeric_limits<quint16>::max()));
    c.hasExtendedKeyUsage = r.flag();
    c.extendedKeyUsages = r.texts();
    c.isCa = r.flag();
    c.keyType = KeyType(r.bounded(0, qint64(KeyType::Dsa)));
    c.keyBits = int(r.bounded(0, std::numeric_limits<int>::max()));
    c.curve = r.text();
    c.signatureAlgorithm = r.text();
    c.signatureDigest = r.text();
    c.selfIssued = r.flag();
    c.selfSigned = r.flag();
}

void put(CompactWriter &w, const ChainResult &r)
{
    w.signedNumber(qint64(r.status));
    w.signedNumber(r.opensslError);
    w.text(r.message);
    w.flag(r.revocationChecked);
}

void get(CompactReader &r, ChainResult &c)
{
    c.status = ChainStatus(r.bounded(0, qint64(ChainStatus::Invalid)));
    c.opensslError = int(r.bounded(std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
    c.message = r.text();
    c.revocationChecked = r.flag();
}

} // namespace

StateStore::StateStore(QString path, QString connectionName)
    : m_path(std::move(path))
    , m_connectionName(std::move(connectionName))
{ }

StateStore::~StateStore()
{
    m_writeBehind.reset(); // it uses the connection's descriptor of the file
    {
        QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
        if (db.isOpen())
            db.close();
    }
    QSqlDatabase::removeDatabase(m_connectionName);
}

int StateStore::latestSchemaVersion()
{
    return int(migrations().size());
}

Result<std::unique_ptr<StateStore>> StateStore::open(const QString &path)
{
    return openAtVersion(path, latestSchemaVersion());
}

Result<std::unique_ptr<StateStore>> StateStore::openAtVersion(const QString &path, int version)
{
    static QAtomicInt counter;
    // The folder's permissions say who shares the state (FileModes.h): a group's setgid folder, or
    // this account alone.
    if (auto folder = makeFolder(QFileInfo(path).absolutePath()); !folder)
        return Error { QStringLiteral("state_db"), folder.error().message };
    const Result<bool> prepared = prepareDatabaseFile(path);
    if (!prepared)
        return Error { QStringLiteral("state_db"), prepared.error().message };
    const QString name = QStringLiteral("certsync-state-%1").arg(counter.fetchAndAddRelaxed(1));
    std::unique_ptr<StateStore> store(new StateStore(path, name));
    store->m_madeHere = *prepared;
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
    db.setDatabaseName(path);
    if (!db.open())
        return sqlError(QStringLiteral("cannot open the state database %1").arg(path), db.lastError());
    // The rows are written through SQLite's C API on this connection: said now, not at the first write.
    if (const auto usable = SqliteStatement::connection(db); !usable)
        return Error {
            usable.error().code,
            QStringLiteral("cannot use the state database %1: %2").arg(path, usable.error().message)
        };
    QSqlQuery pragma(db);
    // Pages of 16 KiB for a new database (an existing one keeps its size): a stored directory user is
    // about 2.8 KB, so 4 KiB pages held one (8 KiB pages two) and a third of the file was empty;
    // 16 KiB pages hold five (a 50,000-user snapshot and its cache: 270 MB instead of 315 MB).
    // WAL: the GUI reads while a job writes; NORMAL sync is durable enough with WAL.
    // temp_store=MEMORY keeps statement journals in memory: an upsert on a table with triggers and
    // foreign keys needs one per statement, which SQLite spills to a temporary file past 64 KiB, so
    // every stored user wrote its first-touched 16 KiB pages to disk once more: a cold inventory of
    // 50,000 users wrote 7.9 GB for a 370 MB database (1.5 GB now; docs/BENCHMARKS.md).
    for (const char *statement :
         { "PRAGMA page_size=16384", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
           "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY" })
        if (!pragma.exec(QString::fromLatin1(statement))) {
            // Going into WAL needs the write lock, which a first fill written alone holds until it
            // commits (beginWritingAlone).
            if (pragma.lastError().nativeErrorCode() == QLatin1String("5")) // SQLITE_BUSY
                return Error { QStringLiteral("state_db"),
                               QStringLiteral("%1 is being filled by another certsync process (the first "
                                              "inventory into a new state database); try again when it "
                                              "has ended")
                                   .arg(path) };
            return sqlError(QStringLiteral("cannot configure %1").arg(path), pragma.lastError());
        }
    if (auto migrated = store->migrate(std::clamp(version, 1, latestSchemaVersion())); !migrated)
        return migrated.error();
    return store;
}

QSqlDatabase StateStore::database() const
{
    return QSqlDatabase::database(m_connectionName, false);
}

bool StateStore::beginWritingAlone()
{
    // Only a database this process made: another process has nothing in it to read meanwhile, and
    // one that opens it then is told that it is being filled (openAtVersion).
    if (!m_madeHere)
        return false;
    // Nothing that the read's other connections read: with a stored user a full read compares each
    // entry with its row, with a cached analysis the analysing threads look their values up, both
    // through connections of their own (ThreadReaders), which would wait on the held file for their
    // busy timeout at every lookup (a database with cached analyses and no user: a 50,000-user read
    // that did not end in two minutes).
    QSqlQuery q(database());
    if (!q.exec(QStringLiteral("SELECT EXISTS (SELECT 1 FROM directory_users) "
                               "OR EXISTS (SELECT 1 FROM analysis_cache)"))
        || !q.next() || q.value(0).toBool())
        return false;
    q.finish();
    // Leaving the WAL needs the only connection: with another one open it fails at once (no busy
    // wait) and the mode stays WAL.
    const bool alone = q.exec(QStringLiteral("PRAGMA journal_mode=DELETE")) && q.next()
        && q.value(0).toString() == QLatin1String("delete");
    qCDebug(lcStore) << "state database" << m_path
                     << (alone ? "written with a rollback journal (first fill, no other connection)"
                               : "stays in WAL mode (another connection has it open)");
    if (alone)
        m_writeBehind = std::make_unique<WriteBehind>(m_path);
    return alone;
}

void StateStore::endWritingAlone()
{
    m_writeBehind.reset();
    QSqlQuery q(database());
    const bool answered = q.exec(QStringLiteral("PRAGMA journal_mode=WAL")) && q.next();
    const QString mode = answered ? q.value(0).toString() : QString();
    if (mode != QLatin1String("wal"))
        // The next connection to open the database sets WAL again (open()).
        qCWarning(lcStore) << "state database" << m_path << "cannot go back to WAL mode:"
                           << (answered ? QStringLiteral("still %1").arg(mode) : q.lastError().text());
}

int StateStore::schemaVersion() const
{
    QSqlQuery q(database());
    if (q.exec(QStringLiteral("SELECT version FROM schema_version")) && q.next())
        return q.value(0).toInt();
    return 0;
}

Result<void> StateStore::migrate(int target)
{
    QSqlDatabase db = database();
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")))
        return sqlError(QStringLiteral("cannot create schema_version"), q.lastError());
    auto tooNew = [this](int current) {
        return Error { QStringLiteral("state_db"),
                       QStringLiteral("%1 has schema version %2, newer than this certsync knows (%3): use a "
                                      "newer certsync")
                           .arg(m_path)
                           .arg(current)
                           .arg(latestSchemaVersion()) };
    };
    if (const int current = schemaVersion(); current >= target) {
        if (current > latestSchemaVersion())
            return tooNew(current);
        return {};
    }
    // Two connections can open a new or older database at once (the console's stored view and a job,
    // two processes): the write lock comes first, then the version is read again, so that only one of
    // them migrates and the other finds the work done.
    // Debian's SQLite zeroes every freed page (secure_delete), and within a statement keeps each page
    // it changes in a statement journal (in memory: temp_store). A migration that drops a table whose
    // rows it has just copied (12) would hold the whole table in memory to zero it: 250 MB at 50,000
    // users. The copied rows are still in the database, so zeroing their old pages protects nothing.
    QSqlQuery secureDelete(db);
    const int wasSecure = secureDelete.exec(QStringLiteral("PRAGMA secure_delete")) && secureDelete.next()
        ? secureDelete.value(0).toInt()
        : 1;
    secureDelete.finish();
    secureDelete.exec(QStringLiteral("PRAGMA secure_delete = 0"));
    auto restoreSecureDelete = qScopeGuard([&secureDelete, wasSecure] {
        secureDelete.exec(QStringLiteral("PRAGMA secure_delete = %1").arg(wasSecure));
    });
    if (!q.exec(QStringLiteral("BEGIN IMMEDIATE")))
        return sqlError(QStringLiteral("cannot begin a migration"), q.lastError());
    auto rollback = qScopeGuard([&q] { q.exec(QStringLiteral("ROLLBACK")); });
    const int current = schemaVersion();
    if (current > latestSchemaVersion())
        return tooNew(current);
    for (int version = current; version < target; ++version) {
        for (const QString &statement : migrations().at(version))
            if (!q.exec(statement))
                return sqlError(QStringLiteral("migration to version %1 failed").arg(version + 1),
                                q.lastError());
        qCInfo(lcStore) << "state database" << m_path << "migrating to schema version" << version + 1;
    }
    q.exec(QStringLiteral("DELETE FROM schema_version"));
    q.prepare(QStringLiteral("INSERT INTO schema_version (version) VALUES (?)"));
    q.addBindValue(target);
    if (!q.exec())
        return sqlError(QStringLiteral("migration to version %1 failed").arg(target), q.lastError());
    if (!q.exec(QStringLiteral("COMMIT")))
        return sqlError(QStringLiteral("cannot commit the migration"), q.lastError());
    rollback.dismiss();
    return {};
}

Result<void> StateStore::saveMark(const QString &server, const QByteArray &markJson)
{
    QSqlQuery q(database());
    q.prepare(
        QStringLiteral("INSERT OR REPLACE INTO directory_marks (server, mark, updated) VALUES (?, ?, ?)"));
    q.addBindValue(server);
    q.addBindValue(QString::fromUtf8(markJson));
    q.addBindValue(QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    if (!q.exec())
        return sqlError(QStringLiteral("cannot save the read mark"), q.lastError());
    return {};
}

QByteArray StateStore::mark(const QString &server) const
{
    QSqlQuery q(database());
    q.prepare(QStringLiteral("SELECT mark FROM directory_marks WHERE server = ?"));
    q.addBindValue(server);
    if (q.exec() && q.next())
        return q.value(0).toString().toUtf8();
    return {};
}

QDateTime StateStore::markSaved(const QString &server) const
{
    QSqlQuery q(database());
    q.prepare(QStringLiteral("SELECT updated FROM directory_marks WHERE server = ?"));
    q.addBindValue(server);
    if (q.exec() && q.next())
        return QDateTime::fromString(q.value(0).toString(), Qt::ISODate).toUTC();
    return {};
}

Result<void> StateStore::saveSnapshot(const QString &key, const QByteArray &data)
{
    QSqlQuery q(database());
    q.prepare(QStringLiteral("INSERT OR REPLACE INTO snapshots (key, data, updated) VALUES (?, ?, ?)"));
    q.addBindValue(key);
    q.addBindValue(data);
    q.addBindValue(QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    if (!q.exec())
        return sqlError(QStringLiteral("cannot save the snapshot"), q.lastError());
    return {};
}

QByteArray StateStore::snapshot(const QString &key) const
{
    QSqlQuery q(database());
    q.prepare(QStringLiteral("SELECT data FROM snapshots WHERE key = ?"));
    q.addBindValue(key);
    if (q.exec() && q.next())
        return q.value(0).toByteArray();
    return {};
}

Result<void> StateStore::forget(const QString &key)
{
    QSqlQuery q(database());
    q.prepare(QStringLiteral("DELETE FROM snapshots WHERE key = ?"));
    q.addBindValue(key);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot forget the snapshot"), q.lastError());
    q.prepare(QStringLiteral("DELETE FROM directory_marks WHERE server = ?"));
    q.addBindValue(key);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot forget the read mark"), q.lastError());
    return {};
}

Result<void> StateStore::storeRows(const QString &source, const QList<StoredRow> &rows, RowOrder order,
                                   bool ownTransaction)
{
    QSqlDatabase db = database();
    if (ownTransaction && !db.transaction())
        return sqlError(QStringLiteral("cannot begin saving the snapshot"), db.lastError());
    const Result<qint64> id = sourceId(source);
    if (!id) {
        if (ownTransaction)
            db.rollback();
        return id.error();
    }
    const auto fail = [&](const Error &error) {
        if (ownTransaction)
            db.rollback();
        return error;
    };
    const auto prepare = [&](const char *sql) { return SqliteStatement::prepare(db, sql); };
    const bool reorder = order != RowOrder::Keep;
    // Unchanged rows are compared, not written: SQLite skips the update when the WHERE is false. A
    // row stored without a report keeps the report of the same data.
    const QByteArray upsertSql =
        QStringLiteral("INSERT INTO directory_users (source, dn, seq, data, report, report_csv) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                       "ON CONFLICT (source, dn) DO UPDATE SET %1 data = excluded.data, "
                       "report = CASE WHEN excluded.report IS NULL AND data = excluded.data THEN report "
                       "ELSE excluded.report END, "
                       "report_csv = CASE WHEN excluded.report IS NULL AND data = excluded.data THEN "
                       "report_csv ELSE excluded.report_csv END "
                       "WHERE %2 data <> excluded.data OR (excluded.report IS NOT NULL AND "
                       "(report IS NOT excluded.report OR report_csv IS NOT excluded.report_csv))")
            .arg(reorder ? QStringLiteral("seq = excluded.seq,") : QString(),
                 reorder ? QStringLiteral("seq <> excluded.seq OR") : QString())
            .toUtf8();
    Result<SqliteStatement> upsert = prepare(upsertSql.constData());
    // The summary takes its row's place (seq); an unchanged summary is not rewritten. A full read
    // knows the row's seq (the row takes the one given); an incremental one keeps the stored row's,
    // so there the given seq is not used. Every summary statement binds (source, key, seq, summary).
    const QByteArray summaryUpsertSql =
        QStringLiteral(
            "INSERT INTO user_summaries (source, dn, seq, summary) %1 "
            "ON CONFLICT (source, dn) DO UPDATE SET seq = excluded.seq, summary = excluded.summary "
            "WHERE seq <> excluded.seq OR summary <> excluded.summary")
            .arg(reorder
                     ? QStringLiteral("VALUES (?1, ?2, ?3, ?4)")
                     : QStringLiteral("SELECT d.source, d.dn, d.seq, n.summary FROM (SELECT ?1 AS source, "
                                      "?2 AS dn, ?3 AS seq, ?4 AS summary) n, directory_users d "
                                      "WHERE d.source = n.source AND d.dn = n.dn"))
            .toUtf8();
    Result<SqliteStatement> summaryUpsert = prepare(summaryUpsertSql.constData());
    if (!upsert || !summaryUpsert)
        return fail(!upsert ? upsert.error() : summaryUpsert.error());
    // Into a source without rows, plain inserts: an upsert on a table with triggers writes, for each
    // row, every page it touches into a statement journal first (16 KiB each, in memory since
    // temp_store=MEMORY), which was most of what storing a cold inventory cost (docs/BENCHMARKS.md).
    // A key met twice in one read fails its plain insert and is stored by the upsert.
    std::optional<SqliteStatement> insert;
    std::optional<SqliteStatement> summaryInsert;
    if (order == RowOrder::Fresh) {
        Result<SqliteStatement> rowInsert =
            prepare("INSERT INTO directory_users (source, dn, seq, data, report, report_csv) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        Result<SqliteStatement> summary =
            prepare("INSERT INTO user_summaries (source, dn, seq, summary) VALUES (?1, ?2, ?3, ?4)");
        if (!rowInsert || !summary)
            return fail(!rowInsert ? rowInsert.error() : summary.error());
        insert.emplace(std::move(*rowInsert));
        summaryInsert.emplace(std::move(*summary));
    }
    const auto failed = [&](const SqliteStatement &statement) {
        return fail(Error { QStringLiteral("state_db"),
                            QStringLiteral("cannot save the snapshot: %1").arg(statement.error()) });
    };
    // A null QByteArray binds NULL (no report), an empty one an empty blob.
    const auto blob = [](const QByteArray &bytes) {
        return bytes.isNull() ? QByteArrayView() : QByteArrayView(bytes);
    };
    for (const StoredRow &row : rows) {
        const auto bindRow = [&](SqliteStatement &q) {
            q.bind(1, *id);
            q.bindText(2, row.key);
            q.bind(3, row.seq);
            q.bindBlob(4, blob(row.data));
            q.bindBlob(5, blob(row.report));
            q.bindBlob(6, blob(row.reportCsv));
            return q.run();
        };
        const Put stored = put(insert ? &*insert : nullptr, *upsert, bindRow);
        if (stored.failed)
            return failed(*stored.failed);
        if (row.summary.isEmpty())
            continue;
        const auto bindSummary = [&](SqliteStatement &q) {
            q.bind(1, *id);
            q.bindText(2, row.key);
            q.bind(3, row.seq);
            q.bindBlob(4, row.summary);
            return q.run();
        };
        const Put summary = put(stored.inserted ? &*summaryInsert : nullptr, *summaryUpsert, bindSummary);
        if (summary.failed)
            return failed(*summary.failed);
    }
    if (ownTransaction && !db.commit()) {
        const Error error = sqlError(QStringLiteral("cannot save the snapshot"), db.lastError());
        db.rollback();
        return error;
    }
    return {};
}

Result<qint64> StateStore::sourceId(const QString &source)
{
    QSqlQuery q(database());
    q.prepare(QStringLiteral("SELECT id FROM sources WHERE key = ?"));
    q.addBindValue(source);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot name the snapshot's source"), q.lastError());
    if (q.next())
        return q.value(0).toLongLong();
    q.prepare(QStringLiteral("INSERT INTO sources (key) VALUES (?)"));
    q.addBindValue(source);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot name the snapshot's source"), q.lastError());
    return q.lastInsertId().toLongLong();
}

Result<qint64> StateStore::dropRowsExcept(const QString &source, const QSet<QString> &keep)
{
    QSqlQuery q(database());
    q.prepare(QStringLiteral("SELECT id, (SELECT COUNT(*) FROM directory_users WHERE source = sources.id) "
                             "FROM sources WHERE key = ?"));
    q.addBindValue(source);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot read the stored snapshot"), q.lastError());
    if (!q.next())
        return 0; // no row was ever stored for it
    const qint64 id = q.value(0).toLongLong();
    if (q.value(1).toLongLong() <= keep.size())
        return 0; // every stored row is one of `keep` (the caller stored them all)
    QStringList gone;
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT dn FROM directory_users WHERE source = ?"));
    q.addBindValue(id);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot read the stored snapshot"), q.lastError());
    while (q.next())
        if (QString key = q.value(0).toString(); !keep.contains(key))
            gone.append(std::move(key));
    q.prepare(QStringLiteral("DELETE FROM directory_users WHERE source = ? AND dn = ?"));
    for (const QString &key : std::as_const(gone)) {
        q.bindValue(0, id);
        q.bindValue(1, key);
        if (!q.exec())
            return sqlError(QStringLiteral("cannot drop a user from the stored snapshot"), q.lastError());
    }
    return qint64(gone.size());
}

Result<qint64> StateStore::lastRowSeq(const QString &source) const
{
    QSqlQuery q(database());
    q.prepare(QStringLiteral(
        "SELECT MAX(seq) FROM directory_users WHERE source = (SELECT id FROM sources WHERE key = ?)"));
    q.addBindValue(source);
    if (!q.exec() || !q.next())
        return sqlError(QStringLiteral("cannot read the stored snapshot"), q.lastError());
    return q.value(0).isNull() ? 0 : q.value(0).toLongLong();
}

Result<qint64> StateStore::forEachRow(const QString &source,
                                      const std::function<bool(const StoredRow &)> &visit) const
{
    QSqlQuery q(database());
    q.setForwardOnly(true); // rows stream from SQLite: 50,000 users are never all in memory here
    q.prepare(QStringLiteral("SELECT dn, seq, data, report, report_csv FROM directory_users "
                             "WHERE source = (SELECT id FROM sources WHERE key = ?) ORDER BY seq"));
    q.addBindValue(source);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot read the stored snapshot"), q.lastError());
    qint64 n = 0;
    while (q.next()) {
        ++n;
        if (!visit({ q.value(0).toString(), q.value(1).toLongLong(), q.value(2).toByteArray(),
                     q.value(3).toByteArray(), q.value(4).toByteArray(), QByteArray() }))
            break;
    }
    return n;
}

bool StateStore::summariesComplete(const QString &source, qint64 *rows) const
{
    QSqlQuery q(database());
    q.prepare(QStringLiteral("SELECT (SELECT COUNT(*) FROM directory_users WHERE source = s.id), "
                             "(SELECT COUNT(*) FROM user_summaries WHERE source = s.id) "
                             "FROM (SELECT (SELECT id FROM sources WHERE key = ?) AS id) s"));
    q.addBindValue(source);
    if (!q.exec() || !q.next())
        return false;
    if (rows)
        *rows = q.value(0).toLongLong();
    return q.value(0).toLongLong() == q.value(1).toLongLong();
}

Result<qint64> StateStore::forEachSummary(const QString &source,
                                          const std::function<bool(const QByteArray &)> &visit) const
{
    QSqlQuery q(database());
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT summary FROM user_summaries "
                             "WHERE source = (SELECT id FROM sources WHERE key = ?) ORDER BY seq"));
    q.addBindValue(source);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot read the users' summaries"), q.lastError());
    qint64 n = 0;
    while (q.next()) {
        ++n;
        if (!visit(q.value(0).toByteArray()))
            break;
    }
    return n;
}

struct ThreadReaders::Reader
{
    QString connection; // empty: the store's connection, borrowed
    std::array<std::optional<QSqlQuery>, 8> queries;
    bool unusable = false;

    ~Reader()
    {
        for (auto &query : queries)
            query.reset(); // before their connection goes
        if (connection.isEmpty())
            return;
        {
            QSqlDatabase db = QSqlDatabase::database(connection, false);
            if (db.isOpen())
                db.close();
        }
        QSqlDatabase::removeDatabase(connection);
    }
};

namespace {

// The ThreadReaders alive. (QThreadStorage would reuse the slot of one that is gone, and hand a
// long-lived thread the old one's connection, to another database, with other statements.)
QMutex liveReadersMutex;
QSet<quint64> liveReaders;
std::atomic<quint64> nextReadersId = 1;

// A thread's connections, by ThreadReaders; closed on that thread when it ends. One storage for the
// life of the process, so its slot is never handed to another.
using Connections = std::unordered_map<quint64, std::unique_ptr<ThreadReaders::Reader>>;
Connections &threadConnections()
{
    static QThreadStorage<Connections *> storage;
    if (!storage.hasLocalData())
        storage.setLocalData(new Connections);
    return *storage.localData();
}

} // namespace

ThreadReaders::ThreadReaders(StateStore &store, bool mapped)
    : m_store(store)
    , m_storeThread(QThread::currentThread())
    , m_mapped(mapped)
    , m_id(nextReadersId++)
{
    const QMutexLocker lock(&liveReadersMutex);
    liveReaders.insert(m_id);
}

ThreadReaders::~ThreadReaders()
{
    const QMutexLocker lock(&liveReadersMutex);
    liveReaders.remove(m_id); // other threads close theirs (see threadConnections)
}

QSqlQuery *ThreadReaders::query(int slot, const QString &sql)
{
    Reader *reader = nullptr;
    QSqlDatabase db;
    if (QThread::currentThread() == m_storeThread) {
        if (!m_storeReader)
            m_storeReader = std::make_unique<Reader>();
        reader = m_storeReader.get();
        db = m_store.database();
    } else {
        Connections &connections = threadConnections();
        auto found = connections.find(m_id);
        if (found == connections.end()) {
            std::vector<quint64> gone; // this thread's connections for ThreadReaders that are no more
            {
                const QMutexLocker lock(&liveReadersMutex);
                for (const auto &entry : connections)
                    if (!liveReaders.contains(entry.first))
                        gone.push_back(entry.first);
            }
            for (quint64 id : gone)
                connections.erase(id);
            static QAtomicInt counter;
            auto created = std::make_unique<Reader>();
            created->connection =
                QStringLiteral("certsync-state-reader-%1").arg(counter.fetchAndAddRelaxed(1));
            QSqlDatabase opened = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), created->connection);
            opened.setDatabaseName(m_store.path());
            opened.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY"));
            if (!opened.open()) {
                qCWarning(lcStore) << "state database reads disabled on a worker thread:"
                                   << opened.lastError().text();
                created->unusable = true;
            } else if (m_mapped) {
                QSqlQuery(opened).exec(QStringLiteral("PRAGMA mmap_size = 1073741824"));
            }
            found = connections.emplace(m_id, std::move(created)).first;
        }
        reader = found->second.get();
        db = QSqlDatabase::database(reader->connection, false);
    }
    if (reader->unusable || slot < 0 || slot >= int(reader->queries.size()))
        return nullptr;
    std::optional<QSqlQuery> &query = reader->queries[size_t(slot)];
    if (!query) {
        QSqlQuery q(db);
        q.setForwardOnly(true);
        if (!q.prepare(sql)) {
            qCWarning(lcStore) << "state database reads disabled:" << q.lastError().text();
            reader->unusable = true;
            return nullptr;
        }
        query = std::move(q);
    }
    return &*query;
}

namespace {
std::atomic<quint64> nextCacheId { 1 };

// The slot this thread used last, so that inserting finds it without a lock.
struct LastSlot
{
    quint64 cache = 0;
    void *slot = nullptr;
};
thread_local LastSlot lastSlot;
} // namespace

SqliteAnalysisCache::SqliteAnalysisCache(StateStore &store)
    : m_store(store)
    , m_readers(store, true) // mapped: the lookups read pages in place, no system call and copy per page
    , m_id(nextCacheId++)
{ }

SqliteAnalysisCache::~SqliteAnalysisCache() = default;

int SqliteAnalysisCache::formatVersion()
{
    return codecFormat;
}

Result<std::shared_ptr<SqliteAnalysisCache>> SqliteAnalysisCache::load(StateStore &store)
{
    if (!store.database().isOpen())
        return Error { QStringLiteral("state_db"), QStringLiteral("the state database is not open") };
    std::shared_ptr<SqliteAnalysisCache> cache(new SqliteAnalysisCache(store));
    // A first run (or the first after a format change) finds nothing stored: its lookups would all
    // miss, one SQLite query per value, so they are not made. What this run adds is found in memory.
    QSqlQuery q(store.database());
    q.prepare(QStringLiteral("SELECT 1 FROM analysis_cache WHERE format = ? LIMIT 1"));
    q.addBindValue(codecFormat);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot read the analysis cache"), q.lastError());
    cache->m_nothingStored = !q.next();
    return cache;
}

QByteArray SqliteAnalysisCache::lookup(const QByteArray &valueSha256)
{
    if (m_nothingStored)
        return {};
    // The format is part of the statement: one value fewer to bind, per value looked up.
    static const Placeholder sha256(u":sha256");
    static const QString sql =
        QStringLiteral("SELECT data FROM analysis_cache WHERE sha256 = :sha256 AND format = %1")
            .arg(codecFormat);
    QSqlQuery *q = m_readers.query(0, sql);
    if (!q)
        return {};
    sha256.bind(*q, valueSha256);
    QByteArray data;
    if (q->exec() && q->next())
        data = q->value(0).toByteArray();
    q->finish();
    return data;
}

QByteArray SqliteAnalysisCache::encode(const CachedAnalysis &a)
{
    QByteArray bytes;
    encodeInto(bytes, a);
    return bytes;
}

void SqliteAnalysisCache::encodeInto(QByteArray &bytes, const CachedAnalysis &a)
{
    bytes.reserve(bytes.size() + 160
                  + 320 * a.certificates.size()); // a typical leaf's row, without regrowing
    CompactWriter w(bytes);
    w.signedNumber(qint64(a.kind));
    w.text(a.error);
    w.flag(a.bareCertificate);
    w.flag(a.pkcs7Signed);
    w.text(a.userChoice);
    w.signedNumber(a.userIndex);
    w.number(quint64(a.capabilities.size()));
    for (const SmimeCapability &c : a.capabilities) {
        w.text(c.oid);
        w.text(c.name);
        w.signedNumber(c.parameter);
    }
    w.number(quint64(a.certificates.size()));
    for (const Certificate &c : a.certificates)
        put(w, c);
    w.number(quint64(a.chains.size()));
    for (const ChainResult &r : a.chains)
        put(w, r);
}

std::optional<CachedAnalysis> SqliteAnalysisCache::decode(const QByteArray &bytes)
{
    CompactReader r(bytes);
    CachedAnalysis a;
    a.kind = ValueKind(r.bounded(0, qint64(ValueKind::Invalid)));
    a.error = r.text();
    a.bareCertificate = r.flag();
    a.pkcs7Signed = r.flag();
    a.userChoice = r.text();
    a.userIndex = int(r.bounded(-1, std::numeric_limits<int>::max()));
    for (quint64 i = 0, n = r.count(minCapabilityBytes); i < n && !r.failed(); ++i) {
        SmimeCapability c;
        c.oid = r.text();
        c.name = r.text();
        c.parameter = int(r.bounded(std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
        a.capabilities.append(std::move(c));
    }
    const quint64 certificates = r.count(minCertificateBytes + minChainBytes); // each has its chain
    a.certificates.reserve(qsizetype(certificates));
    for (quint64 i = 0; i < certificates && !r.failed(); ++i) {
        Certificate c;
        get(r, c);
        a.certificates.append(std::move(c));
    }
    const quint64 chains = r.count(minChainBytes);
    a.chains.reserve(qsizetype(chains));
    for (quint64 i = 0; i < chains && !r.failed(); ++i) {
        ChainResult c;
        get(r, c);
        a.chains.append(std::move(c));
    }
    if (r.failed() || !r.atEnd() || a.chains.size() != a.certificates.size())
        return std::nullopt; // a damaged row is analysed afresh, never trusted
    return a;
}

std::optional<CachedAnalysis> SqliteAnalysisCache::find(const QByteArray &valueSha256)
{
    const QByteArray encoded = lookup(valueSha256);
    if (encoded.isEmpty())
        return std::nullopt;
    return decode(encoded); // a damaged row is a miss
}

SqliteAnalysisCache::Slot &SqliteAnalysisCache::slot()
{
    if (lastSlot.cache == m_id)
        return *static_cast<Slot *>(lastSlot.slot);
    const std::thread::id self = std::this_thread::get_id();
    const QMutexLocker lock(&m_mutex);
    Slot *found = nullptr;
    for (const std::unique_ptr<Slot> &s : m_slots)
        if (s->thread == self)
            found = s.get();
    if (!found) {
        m_slots.push_back(std::make_unique<Slot>());
        found = m_slots.back().get();
        found->thread = self;
    }
    lastSlot = LastSlot { m_id, found };
    return *found;
}

void SqliteAnalysisCache::insert(const QByteArray &valueSha256, const CachedAnalysis &analysis)
{
    // Encoded on the analysing thread, straight into its block. A block is never read before the
    // store's thread takes it, so it may move when a row outgrows it.
    constexpr qsizetype blockSize = 256 * 1024;
    constexpr qsizetype headroom = 16 * 1024; // a typical row fits in what is left
    const QByteArrayView key = QByteArrayView(valueSha256).first(qMin(valueSha256.size(), qsizetype(255)));
    Slot &mine = slot();
    const QMutexLocker lock(&mine.mutex);
    if (mine.blocks.isEmpty() || mine.blocks.back()->capacity() - mine.blocks.back()->size() < headroom) {
        mine.blocks.append(std::make_shared<QByteArray>());
        mine.blocks.back()->reserve(blockSize);
    }
    QByteArray &block = *mine.blocks.back();
    block.append(char(quint8(key.size())));
    const qsizetype lengthAt = block.size();
    block.append(sizeof(quint32), '\0');
    block.append(key);
    const qsizetype dataAt = block.size();
    encodeInto(block, analysis);
    const auto length = quint32(block.size() - dataAt);
    std::memcpy(block.data() + lengthAt, &length, sizeof length);
    ++mine.rows;
    m_pending.fetch_add(1, std::memory_order_relaxed);
}

qsizetype SqliteAnalysisCache::size() const
{
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("SELECT COUNT(*) FROM analysis_cache WHERE format = ?"));
    q.addBindValue(codecFormat);
    const qsizetype stored = q.exec() && q.next() ? q.value(0).toLongLong() : 0;
    return stored + pending();
}

qsizetype SqliteAnalysisCache::pending() const
{
    return m_pending.load(std::memory_order_relaxed);
}

// Inserts `rows` on the store's connection, in whatever transaction is open there.
Result<void> SqliteAnalysisCache::write(const QList<Pending> &rows)
{
    // New keys (never found by a lookup) go in by a plain insert; one stored meanwhile by another
    // process, or in an earlier format, is replaced. Plain inserts need no statement journal.
    const QString created = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
    const QString columns =
        QStringLiteral("INTO analysis_cache (sha256, format, data, created) VALUES (?1, %1, ?2, '%2')")
            .arg(codecFormat)
            .arg(created);
    Result<SqliteStatement> insert = SqliteStatement::prepare(
        m_store.database(), (QStringLiteral("INSERT ") + columns).toUtf8().constData());
    Result<SqliteStatement> replace = SqliteStatement::prepare(
        m_store.database(), (QStringLiteral("INSERT OR REPLACE ") + columns).toUtf8().constData());
    if (!insert || !replace)
        return !insert ? insert.error() : replace.error();
    for (const Pending &row : rows) {
        const auto bind = [&row](SqliteStatement &q) {
            q.bindBlob(1, row.key);
            q.bindBlob(2, row.data);
            return q.run();
        };
        if (const Put stored = put(&*insert, *replace, bind); stored.failed)
            return Error {
                QStringLiteral("state_db"),
                QStringLiteral("cannot write the analysis cache: %1").arg(stored.failed->error())
            };
    }
    return {};
}

// In key order the index's pages are filled one after another, instead of each row landing on a
// random page that must be read back first (the keys are hashes).
QList<SqliteAnalysisCache::Pending> SqliteAnalysisCache::takePending()
{
    QList<std::shared_ptr<QByteArray>> blocks;
    QList<Pending> rows;
    {
        const QMutexLocker lock(&m_mutex);
        rows = std::exchange(m_unwritten, {});
        qsizetype taken = rows.size();
        for (const std::unique_ptr<Slot> &s : m_slots) {
            const QMutexLocker slotLock(&s->mutex);
            blocks.append(std::exchange(s->blocks, {}));
            taken += std::exchange(s->rows, 0);
        }
        m_pending.fetch_sub(taken, std::memory_order_relaxed);
        rows.reserve(taken);
    }
    for (std::shared_ptr<QByteArray> &owned : blocks) {
        const std::shared_ptr<const QByteArray> block = std::move(owned);
        for (qsizetype at = 0; at < block->size();) {
            const qsizetype keySize = quint8(block->at(at));
            quint32 dataSize = 0;
            std::memcpy(&dataSize, block->constData() + at + 1, sizeof dataSize);
            const char *const key = block->constData() + at + 1 + qsizetype(sizeof dataSize);
            rows.append(
                Pending { block, QByteArrayView(key, keySize), QByteArrayView(key + keySize, dataSize) });
            at += 1 + qsizetype(sizeof dataSize) + keySize + qsizetype(dataSize);
        }
    }
    const auto keyLess = [](const Pending &a, const Pending &b) {
        return std::lexicographical_compare(a.key.begin(), a.key.end(), b.key.begin(), b.key.end(),
                                            [](char x, char y) { return quint8(x) < quint8(y); });
    };
    // Stable: of a value met twice, the row made first is kept.
    std::stable_sort(rows.begin(), rows.end(), keyLess);
    rows.erase(std::unique(rows.begin(), rows.end(),
                           [](const Pending &a, const Pending &b) { return a.key == b.key; }),
               rows.end());
    return rows;
}

void SqliteAnalysisCache::putBack(QList<Pending> rows)
{
    const QMutexLocker lock(&m_mutex);
    m_pending.fetch_add(rows.size(), std::memory_order_relaxed);
    m_unwritten.append(std::move(rows));
}

void SqliteAnalysisCache::rememberWritten(const QList<Pending> &rows)
{
    const QMutexLocker lock(&m_mutex);
    for (const Pending &row : rows) {
        m_writtenKeys.append(char(quint8(row.key.size())));
        m_writtenKeys.append(row.key);
    }
}

Result<void> SqliteAnalysisCache::flush()
{
    QList<Pending> rows = takePending();
    if (rows.isEmpty())
        return {};
    QSqlDatabase db = m_store.database();
    if (!db.transaction()) {
        const QSqlError error = db.lastError();
        putBack(std::move(rows));
        return sqlError(QStringLiteral("cannot write the analysis cache"), error);
    }
    if (auto written = write(rows); !written) {
        db.rollback();
        putBack(std::move(rows));
        return written;
    }
    if (!db.commit()) {
        const QSqlError error = db.lastError();
        db.rollback();
        putBack(std::move(rows));
        return sqlError(QStringLiteral("cannot write the analysis cache"), error);
    }
    m_nothingStored = false; // written: found in the database from now on
    return {};
}

Result<void> SqliteAnalysisCache::writeIntoTransaction()
{
    QList<Pending> rows = takePending();
    if (rows.isEmpty())
        return {};
    if (auto written = write(rows); !written) {
        putBack(std::move(rows)); // for flush(), after the transaction is rolled back
        return written;
    }
    rememberWritten(rows);
    return {};
}

void SqliteAnalysisCache::takeBackWritten()
{
    QByteArray keys;
    {
        const QMutexLocker lock(&m_mutex);
        keys = std::exchange(m_writtenKeys, {});
    }
    // The store's own connection sees the open transaction.
    QSqlQuery q(m_store.database());
    q.setForwardOnly(true);
    q.prepare(
        QStringLiteral("SELECT data FROM analysis_cache WHERE sha256 = ? AND format = %1").arg(codecFormat));
    QHash<QByteArray, QByteArray> rows;
    for (qsizetype at = 0; at < keys.size();) {
        const qsizetype size = quint8(keys.at(at));
        const QByteArray key = keys.mid(at + 1, size);
        at += 1 + size;
        q.bindValue(0, key);
        if (q.exec() && q.next())
            rows.insert(key, q.value(0).toByteArray());
        q.finish();
    }
    QList<Pending> back;
    back.reserve(rows.size());
    for (auto it = rows.cbegin(); it != rows.cend(); ++it) {
        auto block = std::make_shared<const QByteArray>(it.key() + it.value());
        back.append(Pending { block, QByteArrayView(*block).first(it.key().size()),
                              QByteArrayView(*block).sliced(it.key().size()) });
    }
    putBack(std::move(back));
}

void SqliteAnalysisCache::transactionEnded(bool committed)
{
    const QMutexLocker lock(&m_mutex);
    if (committed && !m_writtenKeys.isEmpty())
        m_nothingStored = false; // found in the database from now on
    m_writtenKeys.clear(); // rolled back: takeBackWritten() made them pending again, or they are lost
}

} // namespace certsync::store
