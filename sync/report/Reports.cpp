#include "report/Reports.h"

#include "engine/PlanStore.h"
#include "report/CsvWriter.h"
#include "report/InventoryCsv.h"
#include "store/StateStore.h"

#include "store/FileModes.h"

#include <QSaveFile>

#include <functional>

namespace certsync::report {

using namespace engine;

namespace {

const Report allReports[] = { Report::Inventory, Report::Expiring, Report::Problems, Report::Plan,
                              Report::Audit };

Error cannotWrite(const QString &path, const QString &why)
{
    return Error { QStringLiteral("io"), QStringLiteral("cannot write %1: %2").arg(path, why) };
}

// Opens `path` through a QSaveFile, lets `rows` write, commits. Nothing is left behind on failure.
template<typename Writer>
Result<qint64> writeFile(const QString &path, const std::function<bool(Writer &)> &rows)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return cannotWrite(path, file.errorString());
    Writer csv(&file);
    if (!rows(csv) || !file.commit())
        return cannotWrite(path, file.errorString());
    if (auto mode = store::applyFolderMode(path); !mode) // group-shared only in a group's folder
        return mode.error();
    return csv.rows() - 1;
}

} // namespace

QString reportName(Report report)
{
    switch (report) {
    case Report::Inventory:
        return QStringLiteral("inventory");
    case Report::Expiring:
        return QStringLiteral("expiring");
    case Report::Problems:
        return QStringLiteral("problems");
    case Report::Plan:
        return QStringLiteral("plan");
    case Report::Audit:
        return QStringLiteral("audit");
    }
    return {};
}

std::optional<Report> reportFromName(const QString &name)
{
    for (Report r : allReports)
        if (reportName(r) == name)
            return r;
    return std::nullopt;
}

Result<qint64> writeDirectoryReport(Report report, const QList<directory::DirectoryUser> &users,
                                    const QString &path, int days, const QDateTime &now)
{
    const QDateTime until = now.addDays(days);
    return writeFile<InventoryCsv>(path, [&](InventoryCsv &csv) {
        bool good = csv.writeHeader();
        for (directory::DirectoryUser user : users) {
            if (report != Report::Inventory) {
                // The inventory's rows, restricted to the values the report is about.
                QList<certs::AnalyzedValue> chosen;
                for (const certs::AnalyzedValue &v : std::as_const(user.values)) {
                    const certs::JudgedCertificate *j = v.usersCertificate();
                    const bool take = report == Report::Expiring
                        ? j && j->certificate.notAfter >= now && j->certificate.notAfter <= until
                        : v.problemsOf(j ? int(j - v.certificates.constData()) : -1).status()
                            != certs::Status::Ok;
                    if (take)
                        chosen.append(v);
                }
                user.values = chosen;
            }
            good = good && csv.writeUser(user);
        }
        return good;
    });
}

Result<qint64> writePlanReport(const PlanStore &plans, qint64 planId, const QString &path)
{
    auto items = plans.items(planId);
    if (!items)
        return items.error();
    return writeFile<CsvWriter>(path, [&](CsvWriter &csv) {
        bool ok = csv.writeRow(
            { QStringLiteral("plan"), QStringLiteral("item"), QStringLiteral("user_dn"),
              QStringLiteral("user"), QStringLiteral("matched_by"), QStringLiteral("channel"),
              QStringLiteral("attribute"), QStringLiteral("operation"), QStringLiteral("target"),
              QStringLiteral("decision"), QStringLiteral("state"), QStringLiteral("attempts"),
              QStringLiteral("http_status"), QStringLiteral("request_id"), QStringLiteral("removed_sha256"),
              QStringLiteral("added_sha256"), QStringLiteral("reasons"), QStringLiteral("error") });
        for (const StoredItem &s : std::as_const(*items)) {
            QStringList removed, added;
            for (const Value &v : s.item.removed)
                removed.append(v.sha256Hex());
            for (const Value &v : s.item.added)
                added.append(v.sha256Hex());
            ok = ok
                && csv.writeRow({ QString::number(planId), QString::number(s.item.number), s.item.userKey,
                                  s.item.userLabel, matchMethodName(s.item.matchedBy),
                                  channelName(s.item.channel), itemAttributeName(s.item.attribute),
                                  operationName(s.item.operation), s.item.target, decisionName(s.decision),
                                  journalStateName(s.state), QString::number(s.attempts),
                                  s.httpStatus ? QString::number(s.httpStatus) : QString(), s.requestId,
                                  removed.join(QLatin1Char(';')), added.join(QLatin1Char(';')),
                                  s.item.reasons.join(QLatin1Char(';')), s.error });
        }
        return ok;
    });
}

Result<qint64> writeAuditReport(const PlanStore &plans, const QString &path)
{
    auto rows = plans.auditRows();
    if (!rows)
        return rows.error();
    return writeFile<CsvWriter>(path, [&](CsvWriter &csv) {
        bool ok = csv.writeRow({ QStringLiteral("id"), QStringLiteral("at"), QStringLiteral("who"),
                                 QStringLiteral("action"), QStringLiteral("plan"), QStringLiteral("item"),
                                 QStringLiteral("detail"), QStringLiteral("sha256") });
        for (const AuditRow &a : std::as_const(*rows))
            ok = ok
                && csv.writeRow({ QString::number(a.id), InventoryCsv::utcTime(a.at), a.who, a.action,
                                  QString::number(a.planId), QString::number(a.itemNumber), a.detail,
                                  a.hash });
        return ok;
    });
}

ExportJob::ExportJob(ExportRequest request, QObject *parent)
    : Job(QStringLiteral("export"), parent)
    , m_request(std::move(request))
{ }

Result<qint64> ExportJob::write()
{
    const ExportRequest &r = m_request;
    if (r.report == Report::Plan || r.report == Report::Audit) {
        auto state = store::StateStore::open(r.statePath);
        if (!state)
            return state.error();
        PlanStore plans(**state);
        return r.report == Report::Plan ? writePlanReport(plans, r.planId, r.path)
                                        : writeAuditReport(plans, r.path);
    }
    if (!r.snapshot || !r.snapshot->complete)
        return Error {
            QStringLiteral("no_snapshot"),
            QStringLiteral("the %1 report needs a complete directory read first").arg(reportName(r.report))
        };
    return writeDirectoryReport(r.report, r.snapshot->users, r.path, r.days, QDateTime::currentDateTimeUtc());
}

void ExportJob::doStart()
{
    const auto rows = write();
    if (!rows) {
        log(jobs::LogRecord::Level::Error, rows.error().message);
        finish(false, rows.error().message);
        return;
    }
    emit exported(m_request.path, *rows);
    const QString summary = QStringLiteral("%1 report: %2 rows written to %3")
                                .arg(reportName(m_request.report))
                                .arg(*rows)
                                .arg(m_request.path);
    log(jobs::LogRecord::Level::Info, summary);
    finish(true, summary);
}

} // namespace certsync::report
