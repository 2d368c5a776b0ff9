#pragma once

#include "core/Result.h"
#include "jobs/LogRecord.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

class QIODevice;

namespace certsync::jobs {
class Job;
}

namespace certsync::store {

class StateStore;

// One run of a command (inventory, diff, approve, reject, publish; from the command line, a timer or
// the console): who, when, what, how it ended and its figures. Its log records are kept with it.
struct RunRow
{
    qint64 id = 0;
    QDateTime started; // UTC
    QDateTime finished; // UTC
    QString who;
    QString origin; // "cli", "timer" (a systemd service) or "console"
    QString command; // "diff", "publish", ..., or the console job's name
    QString outcome; // "success", "failure", "partial", "refused", "canceled"
    QString summary;
    QJsonObject figures; // counts the command reported (items, users, applied, ...)
    qint64 records = 0; // log records kept with it (when read back)
};

// The run history in the state database. Nothing here holds a secret: log records never carry one,
// and RunRecorder blanks the secrets it knows of before they are stored, should a server echo one back.
class RunHistory
{
public:
    static constexpr int defaultRetentionDays = 90;

    explicit RunHistory(StateStore &store);

    // Stores a finished run and its records in one transaction, then drops the runs (and their
    // records) started more than `retentionDays` ago. Returns the new run's id.
    Result<qint64> record(RunRow run, const QList<jobs::LogRecord> &records,
                          int retentionDays = defaultRetentionDays);
    [[nodiscard]] Result<QList<RunRow>> runs(int limit = 0) const; // latest first; 0: all
    [[nodiscard]] Result<RunRow> run(qint64 id) const; // an error naming the id when there is none
    [[nodiscard]] Result<QList<jobs::LogRecord>> records(qint64 runId) const; // in the order logged
    // Drops the runs started before `before`, with their records; returns how many runs went.
    Result<qint64> prune(const QDateTime &before);

    // "origin" of a command-line run: "timer" under systemd (it sets INVOCATION_ID), else "cli".
    static QString commandLineOrigin();

private:
    StateStore &m_store;
};

// Collects a run's log records as they arrive (on the owner's thread), blanking known secrets.
class RunRecorder
{
public:
    RunRecorder(QString origin, QString command);

    // Values that must never be stored (a bind password, a client secret): replaced by "***".
    void addSecret(const QString &secret);
    void add(jobs::LogRecord record);
    void add(jobs::LogRecord::Level level, const QString &message);
    // Keeps the job's log records; they arrive queued in `context`'s thread.
    void follow(jobs::Job *job, QObject *context);
    void setFigure(const QString &name, const QJsonValue &value) { m_run.figures.insert(name, value); }
    [[nodiscard]] const QList<jobs::LogRecord> &records() const { return m_records; }

    // The run as it ended: `outcome` and `summary` (secrets blanked too).
    [[nodiscard]] RunRow finish(const QString &outcome, const QString &summary) const;

private:
    [[nodiscard]] QString blank(QString text) const;

    RunRow m_run;
    QStringList m_secrets;
    QList<jobs::LogRecord> m_records;
};

// The log CSV (the log pane's export and `certsync log RUN --csv`): one row per record.
// Returns false when writing failed.
bool writeLogCsv(QIODevice *device, const QList<jobs::LogRecord> &records);

} // namespace certsync::store
