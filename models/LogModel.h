#pragma once

#include "jobs/LogRecord.h"

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

#include <deque>

namespace certsync::models {

// Every job's log records, live: the log pane. Keeps the newest `capacity` records.
class LogModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Time, Level, Job, User, Channel, Message, HttpStatus, RequestId, ColumnCount };
    enum Role { LevelRole = Qt::UserRole + 1, JobRole, SearchTextRole };

    explicit LogModel(QObject *parent = nullptr, int capacity = 200000);

    void append(const jobs::LogRecord &record);
    void clear();
    [[nodiscard]] const jobs::LogRecord &record(int row) const { return m_records.at(size_t(row)); }
    [[nodiscard]] QStringList jobNames() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // All of a record's fields as "name: value" lines, for the details view and "copy".
    static QString describe(const jobs::LogRecord &record);

signals:
    void jobNamesChanged();

private:
    std::deque<jobs::LogRecord> m_records;
    QStringList m_jobs;
    int m_capacity;
};

// Level toggles, one job or all, and free text over message, user and request ids.
class LogFilterProxy : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit LogFilterProxy(QObject *parent = nullptr);
    void setLevelShown(jobs::LogRecord::Level level, bool shown);
    [[nodiscard]] bool isLevelShown(jobs::LogRecord::Level level) const
    {
        return m_levels & (1u << int(level));
    }
    void setJob(const QString &job); // empty: every job
    void setText(const QString &text);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    quint8 m_levels = 0b1110; // debug hidden by default
    QString m_job;
    QString m_text;
};

} // namespace certsync::models
