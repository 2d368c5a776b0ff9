#pragma once

#include "jobs/LogRecord.h"
#include "store/RunHistory.h"

#include <QWidget>

class QComboBox;
class QLineEdit;
class QPlainTextEdit;
class QTableView;

namespace certsync::models {
class LogModel;
class LogFilterProxy;
} // namespace certsync::models

namespace certsync::ui {

// Every job's log records, live, with level toggles, a job filter, free text, details, copy and CSV;
// a run picker shows this session's records or those of a stored run (the run history), through the
// same filters.
class LogPane : public QWidget
{
    Q_OBJECT
public:
    LogPane(models::LogModel *model, QWidget *parent = nullptr);
    [[nodiscard]] models::LogFilterProxy *proxy() const { return m_proxy; }
    [[nodiscard]] QTableView *table() const { return m_table; }
    [[nodiscard]] QComboBox *runPicker() const { return m_run; }
    // Writes the shown records (after filtering) as CSV; returns an error text, empty on success.
    QString exportCsv(const QString &path) const;

    // The stored runs, latest first, for the picker (which keeps its choice when it is still there).
    void setRuns(const QList<store::RunRow> &runs);
    // Shows a stored run's records (the answer to runChosen()); ignored when another run was chosen since.
    void showRun(qint64 runId, const QList<jobs::LogRecord> &records);
    [[nodiscard]] qint64 shownRun() const { return m_shownRun; } // 0: this session

signals:
    void runChosen(qint64 runId); // a stored run was picked: its records are wanted

private:
    void showDetails();
    void updateJobs();
    void pickRun(int index);
    void showModel(models::LogModel *model);

    models::LogModel *m_model; // this session's
    models::LogModel *m_stored; // the stored run's
    models::LogModel *m_shown; // one of the two
    qint64 m_shownRun = 0;
    models::LogFilterProxy *m_proxy;
    QComboBox *m_run;
    QComboBox *m_job;
    QLineEdit *m_text;
    QTableView *m_table;
    QPlainTextEdit *m_details;
};

} // namespace certsync::ui
