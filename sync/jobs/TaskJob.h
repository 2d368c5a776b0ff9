#pragma once

#include "jobs/Job.h"

#include <functional>

namespace certsync::jobs {

// A job that runs one function on the worker thread: short work that must still stay off the GUI
// thread (a few state-database queries, one user's re-analysis, storing a plan). The function
// returns an error text, empty on success; long work checks isCanceled() and reports progress.
// Results travel through what the function captures (e.g. a shared_ptr the caller reads once
// finished() has arrived on its own thread).
class TaskJob : public Job
{
public:
    using Work = std::function<QString(TaskJob &job)>;

    TaskJob(const QString &name, Work work, QObject *parent = nullptr)
        : Job(name, parent)
        , m_work(std::move(work))
    { }

    using Job::log;
    using Job::reportProgress;

protected:
    void doStart() override
    {
        const QString error = m_work(*this);
        finish(error.isEmpty(), error);
    }

private:
    Work m_work;
};

} // namespace certsync::jobs
