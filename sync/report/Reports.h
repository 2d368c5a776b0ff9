#pragma once

// The reports of `certsync export` (and of the console's File → Export report), written by one piece
// of code for both: inventory, expiring and problems from a directory snapshot, plan and audit from
// the state database. Each is written to a temporary file and renamed when complete.

#include "core/Result.h"
#include "directory/DirectorySnapshot.h"
#include "jobs/Job.h"

#include <QDateTime>
#include <QList>
#include <QString>

#include <memory>
#include <optional>

namespace certsync::engine {
class PlanStore;
}

namespace certsync::report {

enum class Report { Inventory, Expiring, Problems, Plan, Audit };
QString reportName(Report report); // "inventory", "expiring", "problems", "plan", "audit"
std::optional<Report> reportFromName(const QString &name);

// Inventory rows of `users`: all of them (Inventory), the certificates expiring within `days` of
// `now` (Expiring) or the values with a warning or error (Problems). Returns the rows written,
// header excluded. Error code "io".
Result<qint64> writeDirectoryReport(Report report, const QList<directory::DirectoryUser> &users,
                                    const QString &path, int days, const QDateTime &now);
Result<qint64> writePlanReport(const engine::PlanStore &plans, qint64 planId, const QString &path);
Result<qint64> writeAuditReport(const engine::PlanStore &plans, const QString &path);

struct ExportRequest
{
    Report report = Report::Inventory;
    QString path;
    std::shared_ptr<const directory::DirectorySnapshot> snapshot; // Inventory, Expiring, Problems
    QString statePath; // Plan, Audit: the job opens the database on its own thread
    qint64 planId = 0; // Plan
    int days = 30; // Expiring
};

// One report as a job on the worker thread (the console's File → Export report).
class ExportJob : public jobs::Job
{
    Q_OBJECT
public:
    explicit ExportJob(ExportRequest request, QObject *parent = nullptr);

signals:
    void exported(const QString &path, qint64 rows);

protected:
    void doStart() override;

private:
    Result<qint64> write();
    ExportRequest m_request;
};

} // namespace certsync::report
