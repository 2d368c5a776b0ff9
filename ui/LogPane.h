#pragma once

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

// Every job's log records, live, with level toggles, a job filter, free text, details, copy and CSV.
class LogPane : public QWidget
{
    Q_OBJECT
public:
    LogPane(models::LogModel *model, QWidget *parent = nullptr);
    [[nodiscard]] models::LogFilterProxy *proxy() const { return m_proxy; }
    [[nodiscard]] QTableView *table() const { return m_table; }
    // Writes the shown records (after filtering) as CSV; returns an error text, empty on success.
    QString exportCsv(const QString &path) const;

private:
    void showDetails();
    void updateJobs();

    models::LogModel *m_model;
    models::LogFilterProxy *m_proxy;
    QComboBox *m_job;
    QLineEdit *m_text;
    QTableView *m_table;
    QPlainTextEdit *m_details;
};

} // namespace certsync::ui
