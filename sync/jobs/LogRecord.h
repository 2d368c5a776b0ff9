#pragma once

#include <QDateTime>
#include <QMetaType>
#include <QString>

namespace certsync::jobs {

// One line of a job's log: what the log pane, the CLI and the audit show. Never holds a secret.
struct LogRecord
{
    enum class Level { Debug, Info, Warning, Error };

    QDateTime time; // UTC
    Level level = Level::Info;
    QString job; // the job's name, e.g. "directory read"
    QString user; // the directory user or tenant object concerned, if any
    QString channel; // "ldap", "graph", "exchange", ...
    QString message;
    int httpStatus = 0;
    QString requestId; // the service's request-id
    QString clientRequestId; // the client-request-id we sent
};

QString levelName(LogRecord::Level level);

} // namespace certsync::jobs

Q_DECLARE_METATYPE(certsync::jobs::LogRecord)
