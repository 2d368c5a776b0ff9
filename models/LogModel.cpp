#include "models/LogModel.h"

#include "models/StatusPresentation.h"

#include <QLocale>

namespace certsync::models {

using jobs::LogRecord;

LogModel::LogModel(QObject *parent, int capacity)
    : QAbstractTableModel(parent)
    , m_capacity(std::max(1, capacity))
{ }

void LogModel::append(const LogRecord &record)
{
    if (int(m_records.size()) >= m_capacity) {
        beginRemoveRows({}, 0, 0);
        m_records.pop_front();
        endRemoveRows();
    }
    const int row = int(m_records.size());
    beginInsertRows({}, row, row);
    m_records.push_back(record);
    endInsertRows();
    if (!record.job.isEmpty() && !m_jobs.contains(record.job)) {
        m_jobs.append(record.job);
        emit jobNamesChanged();
    }
}

void LogModel::clear()
{
    beginResetModel();
    m_records.clear();
    endResetModel();
}

QStringList LogModel::jobNames() const
{
    return m_jobs;
}

int LogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_records.size());
}

int LogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

namespace {

certs::Status statusOf(LogRecord::Level level)
{
    switch (level) {
    case LogRecord::Level::Error:
        return certs::Status::Error;
    case LogRecord::Level::Warning:
        return certs::Status::Warning;
    default:
        return certs::Status::Ok;
    }
}

} // namespace

QVariant LogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const LogRecord &r = m_records.at(size_t(index.row()));
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Time:
            return QLocale().toString(r.time.toLocalTime(), QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        case Level:
            return logLevelText(r.level);
        case Job:
            return r.job;
        case User:
            return r.user;
        case Channel:
            return r.channel;
        case Message:
            return r.message;
        case HttpStatus:
            return r.httpStatus ? QVariant(r.httpStatus) : QVariant();
        case RequestId:
            return r.requestId;
        }
        break;
    case Qt::DecorationRole:
        if (index.column() == Level && r.level != LogRecord::Level::Debug
            && r.level != LogRecord::Level::Info)
            return statusIcon(statusOf(r.level));
        break;
    case Qt::ToolTipRole:
        if (index.column() == Message)
            return r.message;
        if (index.column() == Time)
            return r.time.toUTC().toString(Qt::ISODateWithMs);
        break;
    case LevelRole:
        return int(r.level);
    case JobRole:
        return r.job;
    case SearchTextRole:
        return (r.message + QLatin1Char('\n') + r.user + QLatin1Char('\n') + r.requestId + QLatin1Char('\n')
                + r.clientRequestId + QLatin1Char('\n') + r.channel)
            .toLower();
    default:
        break;
    }
    return {};
}

QVariant LogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Time:
        return tr("Time");
    case Level:
        return tr("Level");
    case Job:
        return tr("Job");
    case User:
        return tr("User");
    case Channel:
        return tr("Channel");
    case Message:
        return tr("Message");
    case HttpStatus:
        return tr("HTTP");
    case RequestId:
        return tr("Request id");
    }
    return {};
}

QString LogModel::describe(const LogRecord &r)
{
    QStringList lines;
    lines << tr("Time: %1").arg(r.time.toUTC().toString(Qt::ISODateWithMs));
    lines << tr("Level: %1").arg(logLevelText(r.level));
    lines << tr("Job: %1").arg(r.job);
    if (!r.user.isEmpty())
        lines << tr("User: %1").arg(r.user);
    if (!r.channel.isEmpty())
        lines << tr("Channel: %1").arg(r.channel);
    lines << tr("Message: %1").arg(r.message);
    if (r.httpStatus)
        lines << tr("HTTP status: %1").arg(r.httpStatus);
    if (!r.requestId.isEmpty())
        lines << tr("Request id: %1").arg(r.requestId);
    if (!r.clientRequestId.isEmpty())
        lines << tr("Client request id: %1").arg(r.clientRequestId);
    return lines.join(QLatin1Char('\n'));
}

LogFilterProxy::LogFilterProxy(QObject *parent)
    : QSortFilterProxyModel(parent)
{ }

void LogFilterProxy::setLevelShown(LogRecord::Level level, bool shown)
{
    const quint8 bit = quint8(1u << int(level));
    const quint8 next = shown ? quint8(m_levels | bit) : quint8(m_levels & ~bit);
    if (next == m_levels)
        return;
    m_levels = next;
    invalidateFilter();
}

void LogFilterProxy::setJob(const QString &job)
{
    if (job == m_job)
        return;
    m_job = job;
    invalidateFilter();
}

void LogFilterProxy::setText(const QString &text)
{
    const QString lower = text.trimmed().toLower();
    if (lower == m_text)
        return;
    m_text = lower;
    invalidateFilter();
}

bool LogFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QModelIndex index = sourceModel()->index(sourceRow, 0, sourceParent);
    if (!(m_levels & (1u << index.data(LogModel::LevelRole).toInt())))
        return false;
    if (!m_job.isEmpty() && index.data(LogModel::JobRole).toString() != m_job)
        return false;
    return m_text.isEmpty() || index.data(LogModel::SearchTextRole).toString().contains(m_text);
}

} // namespace certsync::models
