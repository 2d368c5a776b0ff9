// The run history: runs and their log records in the state database, pruning, and no secrets.
#include "store/RunHistory.h"
#include "store/StateStore.h"

#include <QBuffer>
#include <QDir>
#include <QFile>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace certsync;
using namespace certsync::store;
using jobs::LogRecord;

namespace {

LogRecord record(LogRecord::Level level, const QString &message, const QString &user = {})
{
    LogRecord r;
    r.time = QDateTime(QDate(2026, 11, 30), QTime(22, 0, 1, 250), Qt::UTC);
    r.level = level;
    r.job = QStringLiteral("tenant read");
    r.user = user;
    r.channel = QStringLiteral("graph");
    r.message = message;
    r.httpStatus = 429;
    r.requestId = QStringLiteral("req-1");
    r.clientRequestId = QStringLiteral("client-1");
    return r;
}

RunRow runAt(const QDateTime &started, const QString &command)
{
    RunRow run;
    run.started = started;
    run.finished = started.addSecs(3);
    run.who = QStringLiteral("helpdesk");
    run.origin = QStringLiteral("cli");
    run.command = command;
    run.outcome = QStringLiteral("success");
    run.summary = QStringLiteral("done");
    return run;
}

qint64 count(StateStore &store, const QString &table)
{
    QSqlQuery q(store.database());
    return q.exec(QStringLiteral("SELECT count(*) FROM ") + table) && q.next() ? q.value(0).toLongLong() : -1;
}

} // namespace

class TestRunHistory : public QObject
{
    Q_OBJECT
private slots:
    void recordsAndReadsBack();
    void unknownRunIsAnError();
    void prunesOldRunsWithTheirRecords();
    void secretsNeverReachTheRows();
    void logCsv();
};

void TestRunHistory::recordsAndReadsBack()
{
    QTemporaryDir dir;
    auto store = StateStore::open(dir.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    RunHistory history(**store);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    RunRow first = runAt(now.addSecs(-60), QStringLiteral("diff"));
    first.figures.insert(QStringLiteral("items"), 12);
    auto one = history.record(first,
                              { record(LogRecord::Level::Info, QStringLiteral("read")),
                                record(LogRecord::Level::Warning, QStringLiteral("throttled"),
                                       QStringLiteral("alice@example.org")) });
    QVERIFY(one.ok());
    RunRow second = runAt(now, QStringLiteral("publish"));
    second.outcome = QStringLiteral("partial");
    auto two = history.record(second, {});
    QVERIFY(two.ok());
    QVERIFY(*two > *one);

    auto runs = history.runs();
    QVERIFY(runs.ok());
    QCOMPARE(runs->size(), 2);
    QCOMPARE(runs->at(0).id, *two); // latest first
    QCOMPARE(runs->at(0).outcome, QStringLiteral("partial"));
    QCOMPARE(runs->at(0).records, 0);
    const RunRow &back = runs->at(1);
    QCOMPARE(back.command, QStringLiteral("diff"));
    QCOMPARE(back.who, QStringLiteral("helpdesk"));
    QCOMPARE(back.origin, QStringLiteral("cli"));
    QCOMPARE(back.started, first.started);
    QCOMPARE(back.finished, first.finished);
    QCOMPARE(back.figures.value(QStringLiteral("items")).toInt(), 12);
    QCOMPARE(back.records, 2);
    QCOMPARE(history.runs(1)->size(), 1);

    auto records = history.records(*one);
    QVERIFY(records.ok());
    QCOMPARE(records->size(), 2);
    const LogRecord &r = records->at(1);
    QCOMPARE(r.level, LogRecord::Level::Warning);
    QCOMPARE(r.message, QStringLiteral("throttled"));
    QCOMPARE(r.user, QStringLiteral("alice@example.org"));
    QCOMPARE(r.job, QStringLiteral("tenant read"));
    QCOMPARE(r.channel, QStringLiteral("graph"));
    QCOMPARE(r.httpStatus, 429);
    QCOMPARE(r.requestId, QStringLiteral("req-1"));
    QCOMPARE(r.clientRequestId, QStringLiteral("client-1"));
    QCOMPARE(r.time, record(LogRecord::Level::Info, {}).time);
    QCOMPARE(records->at(0).message, QStringLiteral("read"));
}

void TestRunHistory::unknownRunIsAnError()
{
    QTemporaryDir dir;
    auto store = StateStore::open(dir.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    auto run = RunHistory(**store).run(42);
    QVERIFY(!run.ok());
    QCOMPARE(run.error().message, QStringLiteral("no run 42 in the run history (it may have been pruned)"));
}

void TestRunHistory::prunesOldRunsWithTheirRecords()
{
    QTemporaryDir dir;
    auto store = StateStore::open(dir.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    RunHistory history(**store);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const LogRecord line = record(LogRecord::Level::Info, QStringLiteral("line"));
    QVERIFY(history.record(runAt(now.addDays(-89), QStringLiteral("kept")), { line }).ok());
    QVERIFY(history.record(runAt(now.addDays(-100), QStringLiteral("old")), { line, line }).ok());
    // The default retention (90 days) dropped the old run and its records as soon as it was stored.
    QCOMPARE(count(**store, QStringLiteral("runs")), 1);
    QCOMPARE(count(**store, QStringLiteral("run_log")), 1);
    QCOMPARE(history.runs()->first().command, QStringLiteral("kept"));
    // A shorter retention drops the 89-day-old run when the next run is stored.
    QVERIFY(history.record(runAt(now, QStringLiteral("new")), { line }, 30).ok());
    auto runs = history.runs();
    QVERIFY(runs.ok());
    QCOMPARE(runs->size(), 1);
    QCOMPARE(runs->first().command, QStringLiteral("new"));
    QCOMPARE(count(**store, QStringLiteral("run_log")), 1);
    QCOMPARE(*history.prune(now.addSecs(1)), 1);
    QCOMPARE(count(**store, QStringLiteral("runs")), 0);
    QCOMPARE(count(**store, QStringLiteral("run_log")), 0);
}

void TestRunHistory::secretsNeverReachTheRows()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("certsync.db"));
    const QString password = QStringLiteral("Bind-Pa55word!");
    const QString clientSecret = QStringLiteral("client~Secret.value");
    {
        auto store = StateStore::open(path);
        QVERIFY(store.ok());
        RunRecorder recorder(QStringLiteral("cli"), QStringLiteral("diff"));
        recorder.addSecret(password);
        recorder.addSecret(clientSecret);
        recorder.addSecret(QStringLiteral("ab")); // too short to blank anything
        // A server that echoes what it was sent must not put it in the history.
        recorder.add(record(LogRecord::Level::Error,
                            QStringLiteral("bind refused for password %1 (ab)").arg(password), password));
        recorder.add(LogRecord::Level::Error, QStringLiteral("token: client_secret=") + clientSecret);
        auto id = RunHistory(**store).record(
            recorder.finish(QStringLiteral("failure"), QStringLiteral("failed: ") + clientSecret),
            recorder.records());
        QVERIFY(id.ok());
        auto records = RunHistory(**store).records(*id);
        QVERIFY(records.ok());
        QCOMPARE(records->size(), 2);
        QCOMPARE(records->at(0).message, QStringLiteral("bind refused for password *** (ab)"));
        QCOMPARE(records->at(0).user, QStringLiteral("***"));
        QCOMPARE(records->at(1).message, QStringLiteral("token: client_secret=***"));
        QCOMPARE(records->at(1).job, QStringLiteral("diff"));
        QCOMPARE(RunHistory(**store).run(*id)->summary, QStringLiteral("failed: ***"));
    }
    // Nowhere in the files either (the database, and its WAL should one be left).
    for (const QString &name : QDir(dir.path()).entryList(QDir::Files)) {
        QFile file(dir.filePath(name));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray bytes = file.readAll();
        QVERIFY2(!bytes.contains(password.toUtf8()), qPrintable(name));
        QVERIFY2(!bytes.contains(clientSecret.toUtf8()), qPrintable(name));
    }
}

void TestRunHistory::logCsv()
{
    QBuffer buffer;
    QVERIFY(buffer.open(QIODevice::WriteOnly));
    LogRecord r = record(LogRecord::Level::Warning, QStringLiteral("=cmd|' /C calc'!A0"));
    QVERIFY(writeLogCsv(&buffer, { r }));
    QCOMPARE(buffer.data(),
             QByteArray("time,level,job,user,channel,message,http_status,request_id,client_request_id\r\n"
                        "2026-11-30T22:00:01Z,warning,tenant read,,graph,'=cmd|' /C calc'!A0,429,req-1,"
                        "client-1\r\n"));
}

QTEST_GUILESS_MAIN(TestRunHistory)
#include "tst_runhistory.moc"
