#pragma once

#include "jobs/LogRecord.h"

#include <QObject>
#include <QPointer>
#include <QThread>

#include <atomic>

QT_FORWARD_DECLARE_CLASS(QEventLoop)

namespace certsync::jobs {

// A unit of work run on a worker thread: a directory read, a tenant read, a diff, a publish.
// start() and cancel() may be called from any thread; the work itself (doStart) runs on the thread
// the job lives on, on the next turn of its event loop. A job either works asynchronously (network
// replies on its thread's event loop) or in a loop that checks isCanceled() between pages, batches
// and items. It emits finished() exactly once, also after a cancel.
class Job : public QObject
{
    Q_OBJECT
public:
    explicit Job(const QString &name, QObject *parent = nullptr);
    ~Job() override;

    [[nodiscard]] QString name() const { return m_name; }
    void start();
    void cancel();
    [[nodiscard]] bool isCanceled() const { return m_canceled.load(std::memory_order_relaxed); }
    [[nodiscard]] bool isFinished() const { return m_finished.load(); }

signals:
    void progress(qint64 done, qint64 total, const QString &what);
    void logRecord(const certsync::jobs::LogRecord &record);
    void finished(bool success, const QString &summary);

protected:
    virtual void doStart() = 0;
    virtual void doCancel() { } // on the job's thread; abort pending network replies here

    void reportProgress(qint64 done, qint64 total, const QString &what = {});
    void log(LogRecord::Level level, const QString &message, const QString &user = {},
             const QString &channel = {});
    void log(LogRecord record); // fills time and job when empty
    void finish(bool success, const QString &summary); // the first call wins

private:
    QString m_name;
    std::atomic_bool m_canceled { false };
    std::atomic_bool m_finished { false };
};

// Owns one worker thread and runs jobs on it, one after another in the order given. Deleting the
// runner cancels what runs, and waits for the thread to end.
class JobRunner : public QObject
{
    Q_OBJECT
public:
    explicit JobRunner(QObject *parent = nullptr);
    ~JobRunner() override;

    // Takes ownership: moves the job to the worker thread, starts it, deletes it after finished().
    // Connect to the job's signals before calling run(); they arrive queued on the caller's thread.
    void run(Job *job);
    // run(), then waits inside `loop` (which the caller's own connections may use) until the job has
    // finished: the summary of a failure, empty on success. For the command line.
    QString runToEnd(Job *job, QEventLoop &loop);
    void cancelAll();
    [[nodiscard]] bool isBusy() const; // a job runs or waits

private:
    QThread m_thread;
    QList<QPointer<Job>> m_jobs;
};

} // namespace certsync::jobs
