// Jobs run on the worker thread, report through queued signals, cancel between items and finish once.
#include "jobs/Job.h"

#include <QSignalSpy>
#include <QTest>

using namespace certsync::jobs;

namespace {

// Counts to `total` one item per event-loop turn, as a paged reader does, checking for cancellation
// between items.
class CountingJob : public Job
{
    Q_OBJECT
public:
    CountingJob(int total, int cancelAt = -1)
        : Job(QStringLiteral("counting"))
        , m_total(total)
        , m_cancelAt(cancelAt)
    { }
    static inline std::atomic<QThread *> lastThread { nullptr };

protected:
    void doStart() override
    {
        lastThread = QThread::currentThread();
        log(LogRecord::Level::Info, QStringLiteral("started"), QStringLiteral("someone"),
            QStringLiteral("test"));
        step();
    }

private:
    void step()
    {
        if (isCanceled()) {
            finish(false, QStringLiteral("canceled after %1 of %2").arg(m_done).arg(m_total));
            finish(true, QStringLiteral("a second finish is ignored"));
            return;
        }
        if (m_done == m_total) {
            finish(true, QStringLiteral("counted %1").arg(m_total));
            return;
        }
        ++m_done;
        reportProgress(m_done, m_total, QStringLiteral("item %1").arg(m_done));
        if (m_done == m_cancelAt)
            cancel(); // as if a person pressed Cancel right now
        QMetaObject::invokeMethod(this, &CountingJob::step, Qt::QueuedConnection);
    }
    int m_total;
    int m_cancelAt;
    int m_done = 0;
};

} // namespace

class TestJobs : public QObject
{
    Q_OBJECT
private slots:
    void runsOnTheWorkerAndReports();
    void cancelStopsBetweenItems();
    void cancelBeforeStart();
    void runnerCancelsOnDestruction();
};

void TestJobs::runsOnTheWorkerAndReports()
{
    JobRunner runner;
    auto *job = new CountingJob(5);
    QSignalSpy progress(job, &Job::progress);
    QSignalSpy records(job, &Job::logRecord);
    QSignalSpy finished(job, &Job::finished);
    QPointer<CountingJob> alive(job);
    runner.run(job);
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(finished.first().at(0).toBool(), true);
    QCOMPARE(finished.first().at(1).toString(), QStringLiteral("counted 5"));
    QCOMPARE(progress.count(), 5);
    QCOMPARE(progress.last().at(0).toLongLong(), 5);
    QCOMPARE(progress.last().at(1).toLongLong(), 5);
    QCOMPARE(progress.last().at(2).toString(), QStringLiteral("item 5"));
    QCOMPARE(records.count(), 1);
    const auto record = records.first().at(0).value<LogRecord>();
    QCOMPARE(record.job, QStringLiteral("counting"));
    QCOMPARE(record.user, QStringLiteral("someone"));
    QCOMPARE(record.level, LogRecord::Level::Info);
    QVERIFY(record.time.isValid());
    QCOMPARE(record.time.timeSpec(), Qt::UTC);
    QTRY_VERIFY(alive.isNull()); // the runner deletes a finished job
    QVERIFY(CountingJob::lastThread.load() != nullptr);
    QVERIFY(CountingJob::lastThread.load() != QThread::currentThread()); // the work ran on the worker
}

void TestJobs::cancelStopsBetweenItems()
{
    JobRunner runner;
    auto *job = new CountingJob(1000, 3);
    QSignalSpy progress(job, &Job::progress);
    QSignalSpy finished(job, &Job::finished);
    runner.run(job);
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(finished.first().at(0).toBool(), false);
    QCOMPARE(finished.first().at(1).toString(), QStringLiteral("canceled after 3 of 1000"));
    QCOMPARE(progress.count(), 3);
    QTest::qWait(20); // a second finished() would arrive queued; none does
    QCOMPARE(finished.count(), 1);
}

void TestJobs::cancelBeforeStart()
{
    JobRunner runner;
    auto *job = new CountingJob(10);
    QSignalSpy progress(job, &Job::progress);
    QSignalSpy finished(job, &Job::finished);
    job->cancel();
    runner.run(job);
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(finished.first().at(0).toBool(), false);
    QCOMPARE(progress.count(), 0);
}

void TestJobs::runnerCancelsOnDestruction()
{
    auto runner = std::make_unique<JobRunner>();
    auto *job = new CountingJob(100000000);
    QSignalSpy progress(job, &Job::progress);
    QPointer<CountingJob> alive(job);
    runner->run(job);
    QTRY_VERIFY(progress.count() > 0);
    runner.reset(); // cancels, stops the thread, frees what was left
    QVERIFY(alive.isNull());
}

QTEST_GUILESS_MAIN(TestJobs)
#include "tst_jobs.moc"
