#pragma once

#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;

namespace certsync::jobs {
class Job;
class JobRunner;
} // namespace certsync::jobs

namespace certsync::ui {

// The status bar's view of the running job: what it does, how far it is, and a Cancel button.
class JobStatus : public QWidget
{
    Q_OBJECT
public:
    JobStatus(jobs::JobRunner *runner, QWidget *parent = nullptr);
    // Follows `job` (connect before JobRunner::run); hides itself when it finishes, unless another
    // job was followed since (one queued behind it on the runner).
    void follow(jobs::Job *job);

private:
    jobs::JobRunner *m_runner;
    QLabel *m_label;
    QProgressBar *m_progress;
    QPushButton *m_cancel;
    const jobs::Job *m_current = nullptr; // the job followed last; an earlier one ending keeps it shown
};

} // namespace certsync::ui
