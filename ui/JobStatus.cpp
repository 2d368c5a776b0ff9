#include "ui/JobStatus.h"

#include "jobs/Job.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>

namespace certsync::ui {

JobStatus::JobStatus(jobs::JobRunner *runner, QWidget *parent)
    : QWidget(parent)
    , m_runner(runner)
    , m_label(new QLabel(this))
    , m_progress(new QProgressBar(this))
    , m_cancel(new QPushButton(tr("Cancel"), this))
{
    setObjectName(QStringLiteral("jobStatus"));
    m_label->setObjectName(QStringLiteral("jobLabel"));
    m_progress->setObjectName(QStringLiteral("jobProgress"));
    m_progress->setMaximumWidth(240);
    m_progress->setTextVisible(true);
    m_cancel->setObjectName(QStringLiteral("cancelJob"));
    m_cancel->setAccessibleName(tr("Cancel the running job"));
    m_cancel->setShortcut(Qt::Key_Escape);
    // Cancelling goes through the runner, which owns the jobs and knows which still live.
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        m_cancel->setEnabled(false);
        m_label->setText(tr("Cancelling…"));
        m_runner->cancelAll();
    });
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_label);
    layout->addWidget(m_progress);
    layout->addWidget(m_cancel);
    hide();
}

void JobStatus::follow(jobs::Job *job)
{
    const QString name = job->name();
    m_label->setText(tr("%1…").arg(name));
    m_progress->setRange(0, 0); // busy until the first figures arrive
    m_cancel->setEnabled(true);
    show();
    connect(job, &jobs::Job::progress, this,
            [this, job, name](qint64 done, qint64 total, const QString &what) {
                if (job != m_current)
                    return;
                if (total > 0) {
                    m_progress->setRange(0, 1000);
                    m_progress->setValue(int(1000 * std::min(done, total) / total));
                    // Counts of items fit the bar; large totals (bytes) show as a share.
                    m_progress->setFormat(total < 100000 ? tr("%1 of %2").arg(done).arg(total) : tr("%p%"));
                } else {
                    m_progress->setRange(0, 0);
                }
                m_label->setText(what.isEmpty() ? tr("%1: %2").arg(name).arg(done)
                                                : tr("%1: %2").arg(name, what));
            });
    m_current = job;
    connect(job, &jobs::Job::finished, this, [this, job] {
        if (job == m_current) {
            m_current = nullptr;
            hide();
        }
    });
}

} // namespace certsync::ui
