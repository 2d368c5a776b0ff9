#include "jobs/Job.h"

#include <QEventLoop>
#include <QMetaObject>

#include <openssl/crypto.h>

#include <memory>

namespace certsync::jobs {

QString levelName(LogRecord::Level level)
{
    switch (level) {
    case LogRecord::Level::Debug:
        return QStringLiteral("debug");
    case LogRecord::Level::Info:
        return QStringLiteral("info");
    case LogRecord::Level::Warning:
        return QStringLiteral("warning");
    case LogRecord::Level::Error:
        return QStringLiteral("error");
    }
    return {};
}

Job::Job(const QString &name, QObject *parent)
    : QObject(parent)
    , m_name(name)
{
    qRegisterMetaType<LogRecord>();
}

Job::~Job() = default;

void Job::start()
{
    QMetaObject::invokeMethod(
        this,
        [this] {
            if (isCanceled()) {
                finish(false, tr("canceled"));
                return;
            }
            doStart();
        },
        Qt::QueuedConnection);
}

void Job::cancel()
{
    if (m_canceled.exchange(true))
        return;
    QMetaObject::invokeMethod(
        this, [this] { doCancel(); }, Qt::QueuedConnection);
}

void Job::reportProgress(qint64 done, qint64 total, const QString &what)
{
    emit progress(done, total, what);
}

void Job::log(LogRecord::Level level, const QString &message, const QString &user, const QString &channel)
{
    LogRecord record;
    record.level = level;
    record.message = message;
    record.user = user;
    record.channel = channel;
    log(std::move(record));
}

void Job::log(LogRecord record)
{
    if (!record.time.isValid())
        record.time = QDateTime::currentDateTimeUtc();
    if (record.job.isEmpty())
        record.job = m_name;
    emit logRecord(record);
}

void Job::finish(bool success, const QString &summary)
{
    if (m_finished.exchange(true))
        return;
    emit finished(success, summary);
}

JobRunner::JobRunner(QObject *parent)
    : QObject(parent)
{
    m_thread.setObjectName(QStringLiteral("certsync worker"));
    // OpenSSL keeps per-thread state (error queue, DRBG); free it on the worker itself as it ends,
    // or it outlives OpenSSL's own cleanup at exit.
    connect(
        &m_thread, &QThread::finished, &m_thread, [] { OPENSSL_thread_stop(); }, Qt::DirectConnection);
    m_thread.start();
}

JobRunner::~JobRunner()
{
    cancelAll();
    // Jobs still here (their finished() was never seen by this thread, e.g. the command line quit on
    // it) are deleted on the worker as its thread finishes: their network and database connections
    // belong to that thread and must not be torn down from this one.
    for (const QPointer<Job> &job : std::as_const(m_jobs))
        if (job)
            job->deleteLater();
    m_thread.quit();
    m_thread.wait();
}

void JobRunner::run(Job *job)
{
    m_jobs.removeAll(nullptr);
    m_jobs.append(job);
    job->setParent(nullptr);
    job->moveToThread(&m_thread);
    // The job is forgotten and deleted only once this (the owner's) thread has seen finished():
    // until then cancelAll() may still reach it, so it must not vanish under the owner.
    connect(job, &Job::finished, this, [this, job] {
        m_jobs.removeAll(job);
        job->deleteLater();
    });
    job->start();
}

QString JobRunner::runToEnd(Job *job, QEventLoop &loop)
{
    // Shared, not a reference to this frame: a caller's own connection may end the loop first, and
    // the job finishes later.
    auto failure = std::make_shared<QString>();
    connect(job, &Job::finished, &loop, [failure, &loop](bool success, const QString &summary) {
        if (!success)
            *failure = summary;
        loop.quit();
    });
    run(job);
    loop.exec();
    return *failure;
}

void JobRunner::cancelAll()
{
    for (const QPointer<Job> &job : std::as_const(m_jobs))
        if (job)
            job->cancel();
}

bool JobRunner::isBusy() const
{
    return std::any_of(m_jobs.cbegin(), m_jobs.cend(),
                       [](const QPointer<Job> &job) { return !job.isNull(); });
}

} // namespace certsync::jobs
