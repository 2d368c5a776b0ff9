#include "store/RunHistory.h"
#include "core/Operator.h"

#include "engine/PlanStore.h"
#include "jobs/Job.h"
#include "report/CsvWriter.h"
#include "store/StateStore.h"

#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>

namespace certsync::store {

using jobs::LogRecord;

namespace {

Error sqlError(const QString &what, const QSqlError &error)
{
    return Error { QStringLiteral("state_db"), QStringLiteral("%1: %2").arg(what, error.text()) };
}

// Times as UTC milliseconds: sortable, and read back without parsing text.
QDateTime fromMs(const QVariant &value)
{
    return value.isNull() ? QDateTime() : QDateTime::fromMSecsSinceEpoch(value.toLongLong(), Qt::UTC);
}

const QString runColumns = QStringLiteral(
    "r.id, r.started, r.finished, r.who, r.origin, r.command, r.outcome, r.summary, r.figures, "
    "(SELECT count(*) FROM run_log l WHERE l.run_id = r.id)");

RunRow runFrom(const QSqlQuery &q)
{
    RunRow run;
    run.id = q.value(0).toLongLong();
    run.started = fromMs(q.value(1));
    run.finished = fromMs(q.value(2));
    run.who = q.value(3).toString();
    run.origin = q.value(4).toString();
    run.command = q.value(5).toString();
    run.outcome = q.value(6).toString();
    run.summary = q.value(7).toString();
    run.figures = QJsonDocument::fromJson(q.value(8).toByteArray()).object();
    run.records = q.value(9).toLongLong();
    return run;
}

} // namespace

RunHistory::RunHistory(StateStore &store)
    : m_store(store)
{ }

QString RunHistory::commandLineOrigin()
{
    return qEnvironmentVariableIsSet("INVOCATION_ID") ? QStringLiteral("timer") : QStringLiteral("cli");
}

Result<qint64> RunHistory::record(RunRow run, const QList<LogRecord> &records, int retentionDays)
{
    QSqlDatabase db = m_store.database();
    if (!db.transaction())
        return sqlError(QStringLiteral("cannot begin storing the run"), db.lastError());
    auto fail = [&db](const QString &what, const QSqlQuery &q) {
        Error error = sqlError(what, q.lastError());
        db.rollback();
        return error;
    };
    QSqlQuery q(db);
    q.prepare(QStringLiteral("INSERT INTO runs (started, finished, who, origin, command, outcome, summary, "
                             "figures) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    q.addBindValue(run.started.toMSecsSinceEpoch());
    q.addBindValue(run.finished.isValid() ? QVariant(run.finished.toMSecsSinceEpoch()) : QVariant());
    q.addBindValue(run.who);
    q.addBindValue(run.origin);
    q.addBindValue(run.command);
    q.addBindValue(run.outcome);
    q.addBindValue(run.summary);
    q.addBindValue(QJsonDocument(run.figures).toJson(QJsonDocument::Compact));
    if (!q.exec())
        return fail(QStringLiteral("cannot store the run"), q);
    const qint64 id = q.lastInsertId().toLongLong();
    q.prepare(QStringLiteral("INSERT INTO run_log (run_id, seq, at, level, job, user, channel, message, "
                             "http_status, request_id, client_request_id) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    qint64 seq = 0;
    for (const LogRecord &r : records) {
        q.bindValue(0, id);
        q.bindValue(1, ++seq);
        q.bindValue(2, r.time.isValid() ? r.time.toMSecsSinceEpoch() : run.started.toMSecsSinceEpoch());
        q.bindValue(3, int(r.level));
        q.bindValue(4, r.job);
        q.bindValue(5, r.user);
        q.bindValue(6, r.channel);
        q.bindValue(7, r.message);
        q.bindValue(8, r.httpStatus ? QVariant(r.httpStatus) : QVariant());
        q.bindValue(9, r.requestId);
        q.bindValue(10, r.clientRequestId);
        if (!q.exec())
            return fail(QStringLiteral("cannot store the run's log"), q);
    }
    if (!db.commit())
        return sqlError(QStringLiteral("cannot store the run"), db.lastError());
    if (retentionDays > 0) {
        if (auto pruned = prune(QDateTime::currentDateTimeUtc().addDays(-retentionDays)); !pruned)
            return pruned.error();
    }
    return id;
}

Result<qint64> RunHistory::prune(const QDateTime &before)
{
    QSqlDatabase db = m_store.database();
    if (!db.transaction())
        return sqlError(QStringLiteral("cannot begin pruning the run history"), db.lastError());
    QSqlQuery q(db);
    // run_log's foreign key cascades; deleting the records first keeps that true without it too.
    for (const char *statement :
         { "DELETE FROM run_log WHERE run_id IN (SELECT id FROM runs WHERE started < ?)",
           "DELETE FROM runs WHERE started < ?" }) {
        q.prepare(QString::fromLatin1(statement));
        q.addBindValue(before.toMSecsSinceEpoch());
        if (!q.exec()) {
            const Error error = sqlError(QStringLiteral("cannot prune the run history"), q.lastError());
            db.rollback();
            return error;
        }
    }
    const qint64 dropped = q.numRowsAffected();
    if (!db.commit())
        return sqlError(QStringLiteral("cannot prune the run history"), db.lastError());
    return dropped;
}

Result<QList<RunRow>> RunHistory::runs(int limit) const
{
    QSqlQuery q(m_store.database());
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT %1 FROM runs r ORDER BY r.id DESC%2")
                    .arg(runColumns, limit > 0 ? QStringLiteral(" LIMIT %1").arg(limit) : QString())))
        return sqlError(QStringLiteral("cannot read the run history"), q.lastError());
    QList<RunRow> list;
    while (q.next())
        list.append(runFrom(q));
    return list;
}

Result<RunRow> RunHistory::run(qint64 id) const
{
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("SELECT %1 FROM runs r WHERE r.id = ?").arg(runColumns));
    q.addBindValue(id);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot read the run history"), q.lastError());
    if (!q.next())
        return Error { QStringLiteral("not_found"),
                       QStringLiteral("no run %1 in the run history (it may have been pruned)").arg(id) };
    return runFrom(q);
}

Result<QList<LogRecord>> RunHistory::records(qint64 runId) const
{
    QSqlQuery q(m_store.database());
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT at, level, job, user, channel, message, http_status, request_id, "
                             "client_request_id FROM run_log WHERE run_id = ? ORDER BY seq"));
    q.addBindValue(runId);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot read the run's log"), q.lastError());
    QList<LogRecord> list;
    while (q.next()) {
        LogRecord r;
        r.time = fromMs(q.value(0));
        r.level = LogRecord::Level(
            std::clamp(q.value(1).toInt(), int(LogRecord::Level::Debug), int(LogRecord::Level::Error)));
        r.job = q.value(2).toString();
        r.user = q.value(3).toString();
        r.channel = q.value(4).toString();
        r.message = q.value(5).toString();
        r.httpStatus = q.value(6).toInt();
        r.requestId = q.value(7).toString();
        r.clientRequestId = q.value(8).toString();
        list.append(std::move(r));
    }
    return list;
}

RunRecorder::RunRecorder(QString origin, QString command)
{
    m_run.started = QDateTime::currentDateTimeUtc();
    m_run.who = currentOperator().recorded();
    m_run.origin = std::move(origin);
    m_run.command = std::move(command);
}

void RunRecorder::addSecret(const QString &secret)
{
    // A very short "secret" would blank ordinary words; such a value protects nothing anyway.
    if (secret.size() >= 4 && !m_secrets.contains(secret))
        m_secrets.append(secret);
}

QString RunRecorder::blank(QString text) const
{
    for (const QString &secret : m_secrets)
        text.replace(secret, QStringLiteral("***"));
    return text;
}

void RunRecorder::add(LogRecord record)
{
    if (!record.time.isValid())
        record.time = QDateTime::currentDateTimeUtc();
    record.message = blank(std::move(record.message));
    record.user = blank(std::move(record.user));
    m_records.append(std::move(record));
}

void RunRecorder::add(LogRecord::Level level, const QString &message)
{
    LogRecord record;
    record.level = level;
    record.job = m_run.command;
    record.message = message;
    add(std::move(record));
}

void RunRecorder::follow(jobs::Job *job, QObject *context)
{
    QObject::connect(job, &jobs::Job::logRecord, context, [this](const LogRecord &r) { add(r); });
}

RunRow RunRecorder::finish(const QString &outcome, const QString &summary) const
{
    RunRow run = m_run;
    run.finished = QDateTime::currentDateTimeUtc();
    run.outcome = outcome;
    run.summary = blank(summary);
    return run;
}

bool writeLogCsv(QIODevice *device, const QList<LogRecord> &records)
{
    report::CsvWriter csv(device);
    bool ok = csv.writeRow({ QStringLiteral("time"), QStringLiteral("level"), QStringLiteral("job"),
                             QStringLiteral("user"), QStringLiteral("channel"), QStringLiteral("message"),
                             QStringLiteral("http_status"), QStringLiteral("request_id"),
                             QStringLiteral("client_request_id") });
    for (const LogRecord &r : records)
        ok = ok
            && csv.writeRow({ r.time.toUTC().toString(Qt::ISODate), jobs::levelName(r.level), r.job, r.user,
                              r.channel, r.message, r.httpStatus ? QString::number(r.httpStatus) : QString(),
                              r.requestId, r.clientRequestId });
    return ok;
}

} // namespace certsync::store
