#include "cli/SyncCommands.h"

#include "cli/CommandLine.h"
#include "cli/ConnectionOptions.h"
#include "cli/InventoryCommand.h"
#include "config/Configuration.h"
#include "directory/DirectoryReadJob.h"
#include "directory/StoredDirectory.h"
#include "engine/Diff.h"
#include "engine/DiffJob.h"
#include "engine/PlanStore.h"
#include "engine/PublishJob.h"
#include "engine/StagePlan.h"
#include "report/CsvWriter.h"
#include "report/InventoryCsv.h"
#include "report/Reports.h"
#include "store/StateStore.h"
#include "tenant/StoredTenantRead.h"
#include "tenant/TenantSnapshot.h"

#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QStandardPaths>

namespace certsync::cli {

using namespace engine;

namespace {

const QStringList commands = { QStringLiteral("diff"),    QStringLiteral("plans"),  QStringLiteral("show"),
                               QStringLiteral("approve"), QStringLiteral("reject"), QStringLiteral("publish"),
                               QStringLiteral("export") };

// Every option of the sync commands. One parser for all of them keeps the words identical across
// commands; each command reads what it needs and ignores the rest.
struct Options
{
    QCommandLineOption json { QStringLiteral("json"), QStringLiteral("Machine-readable output (JSON).") };
    ConnectionOptions connection; // shared with `certsync inventory`
    // policy
    QCommandLineOption keepExpired { QStringLiteral("keep-expired"),
                                     QStringLiteral("Publish expired certificates too.") };
    QCommandLineOption smimeOnly { QStringLiteral("smime-only"),
                                   QStringLiteral(
                                       "Drop certificates unsuitable for S/MIME (EKU, key usage).") };
    QCommandLineOption certificateUserIds {
        QStringLiteral("certificate-user-ids"),
        QStringLiteral("Manage certificateUserIds: issuer-serial, ski or both."), QStringLiteral("FORMS")
    };
    QCommandLineOption consistencyGuid { QStringLiteral("consistency-guid-anchor"),
                                         QStringLiteral(
                                             "Match by ms-DS-ConsistencyGuid instead of objectGUID.") };
    // decisions and publishing
    QCommandLineOption item { QStringLiteral("item"), QStringLiteral("Item number (repeatable)."),
                              QStringLiteral("N") };
    QCommandLineOption all { QStringLiteral("all"), QStringLiteral("Every item of the plan.") };
    QCommandLineOption comment { QStringLiteral("comment"), QStringLiteral("Why (kept in the audit trail)."),
                                 QStringLiteral("TEXT") };
    QCommandLineOption threshold { QStringLiteral("deletion-threshold"),
                                   QStringLiteral("Refuse to remove more values than this (default 500)."),
                                   QStringLiteral("N") };
    QCommandLineOption allowDeletions { QStringLiteral("allow-deletions"),
                                        QStringLiteral("Override the deletion threshold (audited).") };
    QCommandLineOption staging { QStringLiteral("staging"),
                                 QStringLiteral("Staging mode: compute, never publish.") };
    QCommandLineOption full { QStringLiteral("full"),
                              QStringLiteral("Read every directory user, not only the changes since the "
                                             "last read (only a full read finds deleted users).") };
    // export
    QCommandLineOption csv { QStringLiteral("csv"), QStringLiteral("Write the report to FILE."),
                             QStringLiteral("FILE") };
    QCommandLineOption days { QStringLiteral("days"),
                              QStringLiteral("Window of the expiring report (default 30)."),
                              QStringLiteral("DAYS"), QStringLiteral("30") };

    void addTo(QCommandLineParser &p) const
    {
        p.addOptions(connection.all());
        p.addOptions({ json, keepExpired, smimeOnly, certificateUserIds, consistencyGuid, item, all, comment,
                       threshold, allowDeletions, staging, full, csv, days });
    }
};

struct Context
{
    QString command;
    QTextStream &out;
    QTextStream &err;
    QCommandLineParser parser;
    Options o;
    config::Configuration config; // the settings file with the options on top

    int usage(const QString &problem)
    {
        err << "certsync " << command << ": " << problem << "; run 'certsync " << command << " --help'\n";
        return Usage;
    }
    int fail(const QString &problem)
    {
        err << "certsync " << command << ": " << problem << '\n';
        return Failure;
    }
    QString statePath() const
    {
        QString dir = parser.value(o.connection.stateDir);
        if (dir.isEmpty())
            dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
        return QDir(dir).filePath(QStringLiteral("certsync.db"));
    }
};

Result<std::unique_ptr<store::StateStore>> openState(const Context &c)
{
    return store::StateStore::open(c.statePath());
}

// Directory settings from the settings file and the options; empty optional with no error when no
// directory is configured.
Result<std::optional<directory::DirectoryReadSettings>> directorySettings(const Context &c, bool needTrust)
{
    auto s = directoryReadSettings(c.config, c.parser, c.o.connection, needTrust);
    if (s && *s && needTrust)
        (*s)->cache = std::make_shared<certs::MemoryAnalysisCache>();
    return s;
}

Result<std::optional<tenant::TenantSettings>> tenantSettings(const Context &c)
{
    return cli::tenantSettings(c.config, c.parser, c.o.connection);
}

// `setup` connects to the job's other signals (in `loop`) before it starts.
Result<std::shared_ptr<directory::DirectorySnapshot>>
readDirectory(directory::DirectoryReadSettings settings,
              const std::function<void(directory::DirectoryReadJob *, QEventLoop &)> &setup = {})
{
    std::shared_ptr<directory::DirectorySnapshot> snapshot;
    QEventLoop loop;
    jobs::JobRunner runner;
    auto *job = new directory::DirectoryReadJob(std::move(settings));
    if (setup)
        setup(job, loop);
    QObject::connect(job, &directory::DirectoryReadJob::snapshotReady, &loop,
                     [&](const std::shared_ptr<directory::DirectorySnapshot> &s) { snapshot = s; });
    QObject::connect(job, &jobs::Job::finished, &loop, &QEventLoop::quit);
    runner.run(job);
    loop.exec();
    if (!snapshot)
        return Error { QStringLiteral("directory"), QStringLiteral("the directory read did not finish") };
    // An incomplete read is never taken for the whole directory: no plan is derived from it.
    if (!snapshot->complete)
        return snapshot->error;
    return snapshot;
}

// Reads the tenant, by Graph's delta from the link the state database keeps when there is one, and
// stores the new link. Why a read is full, and delta rounds, are told on stderr.
// The directory read of `diff`: only the changes since the snapshot the state database keeps
// (unless --full), merged into it; the merged whole is stored for the next run.
Result<std::shared_ptr<directory::DirectorySnapshot>>
readDirectoryIncrementally(directory::DirectoryReadSettings settings, store::StateStore &state, Context &c)
{
    using namespace directory;
    StoredDirectory stored(state, settings.profile);
    QString why;
    if (!c.parser.isSet(c.o.full))
        settings.previous = stored.mark(&why);
    if (!settings.previous)
        c.err << "certsync " << c.command
              << ": directory: full read: " << (c.parser.isSet(c.o.full) ? QStringLiteral("--full") : why)
              << '\n';
    // Kept here: the job, which owns the settings, is gone when the merge analyses stored users.
    const std::shared_ptr<const certs::TrustStore> trust = settings.trust;
    const std::shared_ptr<certs::AnalysisCache> cache = settings.cache;
    const certs::ValueAnalyzer analyzer(*trust, certs::CertificateJudge(settings.policy), cache.get());
    bool incremental = false;
    Result<void> begun;
    auto read = readDirectory(std::move(settings), [&](DirectoryReadJob *job, QEventLoop &loop) {
        QObject::connect(job, &DirectoryReadJob::readPlanned, &loop, [&](bool changesOnly) {
            incremental = changesOnly;
            begun = stored.begin(!changesOnly);
        });
        QObject::connect(job, &jobs::Job::logRecord, &loop, [&](const jobs::LogRecord &r) {
            if (isReadPlanNote(r))
                c.err << "certsync " << c.command << ": directory: " << r.message << '\n';
        });
    });
    if (!read)
        return read.error(); // the transaction is rolled back: the stored snapshot stays as it was
    if (!begun)
        return begun.error();
    std::shared_ptr<DirectorySnapshot> snapshot = *read;
    if (auto saved = stored.store(snapshot->users); !saved)
        return saved.error();
    if (incremental) {
        const qint64 changed = snapshot->users.size();
        QList<DirectoryUser> merged;
        auto visited = stored.forEachUser(analyzer, snapshot->readAt, [&merged](DirectoryUser &&u) {
            merged.append(std::move(u));
            return true;
        });
        if (!visited)
            return visited.error();
        snapshot->users = std::move(merged);
        c.err << "certsync " << c.command << ": directory: " << changed
              << " changed users merged into the stored snapshot of " << snapshot->users.size() << " users\n";
    }
    if (auto committed = stored.commit(snapshot->mark); !committed)
        return committed.error();
    return snapshot;
}

Result<tenant::TenantSnapshot> readTenant(const tenant::TenantSettings &settings, store::StateStore &state,
                                          Context &c)
{
    std::optional<tenant::TenantSnapshot> snapshot;
    QString failure;
    QEventLoop loop;
    jobs::JobRunner runner;
    tenant::StoredTenantRead stored = tenant::loadTenantRead(state, settings);
    if (!stored.previous)
        c.err << "certsync " << c.command << ": tenant: " << stored.why << '\n';
    tenant::TenantSnapshotJob::Options options;
    options.previous = std::move(stored.previous);
    auto *job = new tenant::TenantSnapshotJob(settings, std::move(options));
    QObject::connect(job, &tenant::TenantSnapshotJob::snapshotReady, &loop,
                     [&](const tenant::TenantSnapshot &s) { snapshot = s; });
    QObject::connect(job, &jobs::Job::logRecord, &loop, [&](const jobs::LogRecord &r) {
        if (r.level == jobs::LogRecord::Level::Warning
            || (r.level == jobs::LogRecord::Level::Info && r.channel == QLatin1String("graph")))
            c.err << "certsync " << c.command << ": tenant: " << jobs::levelName(r.level) << ": " << r.message
                  << '\n';
    });
    QObject::connect(job, &jobs::Job::finished, &loop, [&](bool success, const QString &summary) {
        if (!success)
            failure = summary;
        loop.quit();
    });
    runner.run(job);
    loop.exec();
    if (!snapshot)
        return Error { QStringLiteral("tenant"),
                       failure.isEmpty() ? QStringLiteral("the tenant read did not finish") : failure };
    if (auto saved = tenant::saveTenantRead(state, settings, *snapshot); !saved)
        c.err << "certsync " << c.command
              << ": warning: the delta link was not stored: " << saved.error().message << '\n';
    return *snapshot;
}

QString tenantReadKind(const tenant::TenantSnapshot &s)
{
    return s.incremental       ? QStringLiteral("delta")
        : s.fellBackToFullRead ? QStringLiteral("full_after_expired_delta")
                               : QStringLiteral("full");
}

QJsonObject summaryJson(const PlanSummary &s)
{
    return QJsonObject { { QStringLiteral("plan"), s.id },
                         { QStringLiteral("created"), s.created.toString(Qt::ISODate) },
                         { QStringLiteral("status"), s.status },
                         { QStringLiteral("items"), s.items },
                         { QStringLiteral("approved"), s.approved },
                         { QStringLiteral("rejected"), s.rejected },
                         { QStringLiteral("applied"), s.applied },
                         { QStringLiteral("failed"), s.failed },
                         { QStringLiteral("conflicts"), s.conflicts },
                         { QStringLiteral("removed_values"), s.removedValues },
                         { QStringLiteral("added_values"), s.addedValues },
                         { QStringLiteral("matched"), s.matched },
                         { QStringLiteral("warnings"), s.warnings },
                         { QStringLiteral("unmatched_directory"), s.unmatchedDirectory },
                         { QStringLiteral("unmatched_tenant"), s.unmatchedTenant },
                         { QStringLiteral("awaiting_entra_connect"), s.awaiting },
                         { QStringLiteral("directory"), s.source.directoryServer },
                         { QStringLiteral("tenant"), s.source.tenantId } };
}

QJsonArray digestArray(const QList<Value> &values)
{
    QJsonArray a;
    for (const Value &v : values)
        a.append(v.sha256Hex());
    return a;
}

QJsonObject itemJson(const StoredItem &s)
{
    const PlanItem &i = s.item;
    QJsonObject o { { QStringLiteral("item"), i.number },
                    { QStringLiteral("user"), i.userKey },
                    { QStringLiteral("label"), i.userLabel },
                    { QStringLiteral("tenant_object_id"), i.tenantObjectId },
                    { QStringLiteral("matched_by"), matchMethodName(i.matchedBy) },
                    { QStringLiteral("channel"), channelName(i.channel) },
                    { QStringLiteral("attribute"), itemAttributeName(i.attribute) },
                    { QStringLiteral("operation"), operationName(i.operation) },
                    { QStringLiteral("target"), i.target },
                    { QStringLiteral("old"), digestArray(i.oldValues) },
                    { QStringLiteral("new"), digestArray(i.newValues) },
                    { QStringLiteral("removed"), digestArray(i.removed) },
                    { QStringLiteral("added"), digestArray(i.added) },
                    { QStringLiteral("reasons"), QJsonArray::fromStringList(i.reasons) },
                    { QStringLiteral("decision"), decisionName(s.decision) },
                    { QStringLiteral("state"), journalStateName(s.state) },
                    { QStringLiteral("attempts"), s.attempts } };
    if (i.channel == Channel::Directory)
        o.insert(QStringLiteral("awaiting_entra_connect"), s.state == JournalState::Applied);
    if (s.httpStatus)
        o.insert(QStringLiteral("http_status"), s.httpStatus);
    if (!s.requestId.isEmpty())
        o.insert(QStringLiteral("request_id"), s.requestId);
    if (!s.error.isEmpty())
        o.insert(QStringLiteral("error"), s.error);
    if (s.state == JournalState::Conflict) // both sets: what the plan saw, what the target held instead
        o.insert(QStringLiteral("seen"), QJsonArray::fromStringList(s.seenValues));
    return o;
}

QString itemLine(const StoredItem &s)
{
    const PlanItem &i = s.item;
    return QStringLiteral("%1 [%2/%3] %4 %5 %6 (%7): -%8 +%9%10%11")
        .arg(i.number, 4)
        .arg(decisionName(s.decision), journalStateName(s.state), channelName(i.channel),
             itemAttributeName(i.attribute), i.userLabel, matchMethodName(i.matchedBy))
        .arg(i.removed.size())
        .arg(i.added.size())
        .arg(i.reasons.isEmpty()
                 ? QString()
                 : QStringLiteral(" (") + i.reasons.join(QStringLiteral(", ")) + QLatin1Char(')'))
        .arg(i.channel == Channel::Directory && s.state == JournalState::Applied
                 ? QStringLiteral(", awaiting Entra Connect")
                 : QString());
}

Result<qint64> planArgument(Context &c, int index = 0)
{
    const QStringList pos = c.parser.positionalArguments();
    if (pos.size() <= index)
        return Error { QStringLiteral("usage"), QStringLiteral("PLAN is required") };
    bool ok = false;
    const qint64 id = pos.at(index).toLongLong(&ok);
    if (!ok || id < 1)
        return Error { QStringLiteral("usage"),
                       QStringLiteral("PLAN is a plan number, not '%1'").arg(pos.at(index)) };
    return id;
}

int runDiff(Context &c)
{
    auto dir = directorySettings(c, true);
    if (!dir)
        return c.usage(dir.error().message);
    auto ten = tenantSettings(c);
    if (!ten)
        return c.usage(ten.error().message);
    if (!*dir || !*ten)
        return c.usage(QStringLiteral(
            "diff needs the directory (--ldap-url, --base-dn) and the tenant (--tenant-id, ...)"));
    PolicySettings policy = c.config.policy.engine;
    if (c.parser.isSet(c.o.keepExpired))
        policy.dropExpired = false;
    if (c.parser.isSet(c.o.smimeOnly))
        policy.requireSmimeSuitable = true;
    if (c.parser.isSet(c.o.consistencyGuid))
        policy.consistencyGuidAnchor = true;
    if (c.parser.isSet(c.o.certificateUserIds)
        && (c.parser.value(c.o.certificateUserIds) == QLatin1String("none")
            || !config::setCertificateUserIdForms(policy, c.parser.value(c.o.certificateUserIds))))
        return c.usage(QStringLiteral("--certificate-user-ids takes issuer-serial, ski or both"));
    auto state = openState(c);
    if (!state)
        return c.fail(state.error().message);

    QElapsedTimer clock;
    clock.start();
    const QString server = (*dir)->profile.describe();
    auto directory = readDirectoryIncrementally(std::move(**dir), **state, c);
    if (!directory)
        return c.fail(QStringLiteral("directory: ") + directory.error().message);
    auto tenantSnapshot = readTenant(**ten, **state, c);
    if (!tenantSnapshot)
        return c.fail(QStringLiteral("tenant: ") + tenantSnapshot.error().message);
    auto tenantShared = std::make_shared<const tenant::TenantSnapshot>(std::move(*tenantSnapshot));
    std::shared_ptr<const DiffResult> computed;
    {
        QEventLoop loop;
        jobs::JobRunner runner;
        auto *job = new DiffJob(*directory, tenantShared, policy);
        QObject::connect(job, &DiffJob::diffReady, &loop,
                         [&](const std::shared_ptr<const DiffResult> &r) { computed = r; });
        QObject::connect(job, &jobs::Job::finished, &loop, &QEventLoop::quit);
        runner.run(job);
        loop.exec();
    }
    if (!computed)
        return c.fail(QStringLiteral("the diff did not finish"));
    const DiffResult &diff = *computed;

    auto staged = stagePlan(
        **state, diff, PlanSource { server, (*directory)->readAt, (**ten).tenantId, tenantShared->takenAt },
        PlanStore::currentOperator());
    if (!staged)
        return c.fail(staged.error().message);
    const PlanSummary *summary = &staged->summary;
    const qint64 *id = &summary->id;
    const int exchange = staged->exchangeItems, graph = staged->graphItems,
              directoryItems = staged->directoryItems;
    if (c.parser.isSet(c.o.json)) {
        QJsonObject o = summaryJson(*summary);
        o.insert(QStringLiteral("exchange_items"), exchange);
        o.insert(QStringLiteral("graph_items"), graph);
        o.insert(QStringLiteral("directory_items"), directoryItems);
        o.insert(QStringLiteral("matched_by_fallback"), diff.matchedByFallback);
        o.insert(QStringLiteral("directory_users"), int((*directory)->users.size()));
        o.insert(QStringLiteral("directory_read"),
                 (*directory)->incremental ? QStringLiteral("incremental") : QStringLiteral("full"));
        o.insert(QStringLiteral("tenant_users"), int(tenantShared->users.size()));
        o.insert(QStringLiteral("tenant_read"), tenantReadKind(*tenantShared));
        if (tenantShared->incremental) {
            o.insert(QStringLiteral("tenant_changed_users"), tenantShared->changedUsers);
            o.insert(QStringLiteral("tenant_removed_users"), tenantShared->removedUsers);
        }
        c.out << QJsonDocument(o).toJson(QJsonDocument::Indented);
    } else {
        c.out << "plan " << *id << ": " << diff.items.size() << " items (" << exchange << " exchange, "
              << graph << " graph, " << directoryItems << " directory), " << diff.removedValues
              << " values removed, " << diff.addedValues << " added\n"
              << "  " << diff.matched << " users matched (" << diff.matchedByFallback << " by UPN or mail), "
              << diff.unmatchedDirectory.size() << " directory and " << diff.unmatchedTenant.size()
              << " tenant users unmatched, " << diff.warnings.size() << " warnings, " << diff.awaiting.size()
              << " awaiting Entra Connect\n"
              << "  read and compared in " << QString::number(clock.elapsed() / 1000.0, 'f', 2)
              << " s; review with 'certsync show " << *id << "', then 'certsync approve " << *id << "'\n";
    }
    return Success;
}

int runPlans(Context &c)
{
    auto state = openState(c);
    if (!state)
        return c.fail(state.error().message);
    PlanStore plans(**state);
    auto list = plans.plans();
    if (!list)
        return c.fail(list.error().message);
    if (c.parser.isSet(c.o.json)) {
        QJsonArray a;
        for (const PlanSummary &s : std::as_const(*list))
            a.append(summaryJson(s));
        c.out << QJsonDocument(a).toJson(QJsonDocument::Indented);
        return Success;
    }
    for (const PlanSummary &s : std::as_const(*list))
        c.out << "plan " << s.id << "  " << s.created.toString(Qt::ISODate) << "  " << s.status << "  "
              << s.items << " items, " << s.approved << " approved, " << s.rejected << " rejected, "
              << s.applied << " applied, " << s.failed << " failed, " << s.conflicts << " conflicts, -"
              << s.removedValues << " +" << s.addedValues << " values\n";
    if (list->isEmpty())
        c.out << "no plans yet: run 'certsync diff'\n";
    return Success;
}

int runShow(Context &c)
{
    auto id = planArgument(c);
    if (!id)
        return c.usage(id.error().message);
    auto state = openState(c);
    if (!state)
        return c.fail(state.error().message);
    PlanStore plans(**state);
    auto summary = plans.plan(*id);
    if (!summary)
        return c.fail(summary.error().message);
    auto items = plans.items(*id);
    auto findings = plans.findings(*id);
    if (!items || !findings)
        return c.fail((!items ? items.error() : findings.error()).message);
    if (c.parser.isSet(c.o.json)) {
        QJsonObject o = summaryJson(*summary);
        QJsonArray a;
        for (const StoredItem &s : std::as_const(*items))
            a.append(itemJson(s));
        o.insert(QStringLiteral("item_list"), a);
        QJsonArray f;
        for (const Finding &x : std::as_const(*findings))
            f.append(QJsonObject { { QStringLiteral("kind"), x.kind },
                                   { QStringLiteral("user"), x.userKey },
                                   { QStringLiteral("label"), x.userLabel },
                                   { QStringLiteral("code"), x.code },
                                   { QStringLiteral("detail"), x.detail } });
        o.insert(QStringLiteral("findings"), f);
        c.out << QJsonDocument(o).toJson(QJsonDocument::Indented);
        return Success;
    }
    c.out << "plan " << summary->id << " (" << summary->status << "), created "
          << summary->created.toString(Qt::ISODate) << " from " << summary->source.directoryServer
          << " and tenant " << summary->source.tenantId << "\n";
    for (const StoredItem &s : std::as_const(*items)) {
        c.out << itemLine(s) << '\n';
        if (s.state == JournalState::Conflict)
            c.out << "       conflict: " << s.error << '\n';
        else if (!s.error.isEmpty())
            c.out << "       error: " << s.error << '\n';
    }
    for (const Finding &f : std::as_const(*findings))
        c.out << "  " << f.kind << ' ' << f.code << ' ' << f.userLabel
              << (f.detail.isEmpty() ? QString() : QStringLiteral(": ") + f.detail) << '\n';
    return Success;
}

// approve/reject --json: the plan's summary as `diff --json` and `show --json` print it (counts after
// the decision), plus what this run decided.
int printDecisionJson(Context &c, const PlanStore &plans, qint64 id, Decision decision,
                      const QList<int> &numbers, int changed, const QString &who)
{
    auto summary = plans.plan(id);
    if (!summary)
        return c.fail(summary.error().message);
    QJsonObject o = summaryJson(*summary);
    o.insert(QStringLiteral("decision"), decisionName(decision));
    o.insert(QStringLiteral("changed"), changed);
    o.insert(QStringLiteral("who"), who);
    o.insert(QStringLiteral("comment"), c.parser.value(c.o.comment));
    if (numbers.isEmpty()) {
        o.insert(QStringLiteral("requested"), QStringLiteral("all"));
    } else {
        QJsonArray requested;
        for (int n : numbers)
            requested.append(n);
        o.insert(QStringLiteral("requested"), requested);
    }
    c.out << QJsonDocument(o).toJson(QJsonDocument::Indented);
    return Success;
}

int runDecide(Context &c, Decision decision)
{
    auto id = planArgument(c);
    if (!id)
        return c.usage(id.error().message);
    QList<int> numbers;
    for (const QString &v : c.parser.values(c.o.item)) {
        bool ok = false;
        const int n = v.toInt(&ok);
        if (!ok || n < 1)
            return c.usage(QStringLiteral("--item takes an item number, not '%1'").arg(v));
        numbers.append(n);
    }
    if (numbers.isEmpty() == !c.parser.isSet(c.o.all))
        return c.usage(QStringLiteral("give --item N (repeatable) or --all"));
    auto state = openState(c);
    if (!state)
        return c.fail(state.error().message);
    PlanStore plans(**state);
    const QString who = PlanStore::currentOperator();
    auto changed = plans.decide(*id, numbers, decision, who, c.parser.value(c.o.comment));
    if (!changed)
        return c.fail(changed.error().message);
    if (c.parser.isSet(c.o.json))
        return printDecisionJson(c, plans, *id, decision, numbers, *changed, who);
    c.out << "plan " << *id << ": " << *changed << " item(s) " << decisionName(decision) << " by " << who
          << '\n';
    return Success;
}

int runPublish(Context &c)
{
    auto id = planArgument(c);
    if (!id)
        return c.usage(id.error().message);
    auto dir = directorySettings(c, false);
    if (!dir)
        return c.usage(dir.error().message);
    auto ten = tenantSettings(c);
    if (!ten)
        return c.usage(ten.error().message);
    PublishSettings s;
    s.statePath = c.statePath();
    s.planId = *id;
    s.who = PlanStore::currentOperator();
    s.deletionThreshold = c.config.policy.deletionThreshold;
    s.planLifetimeHours = c.config.policy.planLifetimeHours;
    s.tenant = *ten;
    if (*dir) {
        s.directory = (*dir)->profile;
        s.directoryPassword = (*dir)->password;
    }
    if (c.parser.isSet(c.o.threshold)) {
        bool ok = false;
        s.deletionThreshold = c.parser.value(c.o.threshold).toInt(&ok);
        if (!ok || s.deletionThreshold < 0)
            return c.usage(QStringLiteral("--deletion-threshold takes a whole number"));
    }
    s.allowDeletions = c.parser.isSet(c.o.allowDeletions);
    s.staging = c.parser.isSet(c.o.staging) || engine::stagingMode(c.config.policy.staging);
    if (!QFileInfo::exists(s.statePath))
        return c.fail(QStringLiteral("no state database at %1").arg(s.statePath));

    PublishOutcome outcome;
    QString summary;
    bool success = false;
    QEventLoop loop;
    jobs::JobRunner runner;
    auto *job = new PublishJob(s);
    QObject::connect(job, &PublishJob::outcomeReady, &loop, [&](const PublishOutcome &o) { outcome = o; });
    QObject::connect(job, &jobs::Job::logRecord, &loop, [&](const jobs::LogRecord &r) {
        if (r.level == jobs::LogRecord::Level::Error && r.channel.isEmpty())
            return; // the job's own failure line comes once, below
        if (r.level >= jobs::LogRecord::Level::Info && !c.parser.isSet(c.o.json))
            c.err << "certsync publish: " << jobs::levelName(r.level) << ": " << r.message
                  << (r.requestId.isEmpty()
                          ? QString()
                          : QStringLiteral(" (request-id ") + r.requestId + QLatin1Char(')'))
                  << '\n'
                  << Qt::flush; // a person (or a test) watching follows each item as it happens
    });
    QObject::connect(job, &jobs::Job::finished, &loop, [&](bool ok, const QString &text) {
        success = ok;
        summary = text;
        loop.quit();
    });
    runner.run(job);
    loop.exec();

    if (c.parser.isSet(c.o.json)) {
        c.out << QJsonDocument(
                     QJsonObject { { QStringLiteral("plan"), *id },
                                   { QStringLiteral("refused"), outcome.refused },
                                   { QStringLiteral("staging"), outcome.staging },
                                   { QStringLiteral("considered"), outcome.considered },
                                   { QStringLiteral("applied"), outcome.applied },
                                   { QStringLiteral("confirmed_by_read"), outcome.confirmedByRead },
                                   { QStringLiteral("failed"), outcome.failed },
                                   { QStringLiteral("conflicts"), outcome.conflicts },
                                   { QStringLiteral("skipped_applied"), outcome.skippedApplied },
                                   { QStringLiteral("skipped_conflicts"), outcome.skippedConflicts },
                                   { QStringLiteral("unapproved"), outcome.unapproved },
                                   { QStringLiteral("removed_values"), outcome.removedValues },
                                   { QStringLiteral("summary"), summary } })
                     .toJson(QJsonDocument::Indented);
    }
    if (outcome.claimed) { // another publisher holds the plan: nothing was done
        c.err << "certsync publish: refused: " << outcome.error.message << '\n';
        return Refused;
    }
    if (outcome.refused) {
        c.err << "certsync publish: refused: " << outcome.error.message
              << (outcome.error.code == QLatin1String("deletion_threshold")
                      ? QStringLiteral("; review the plan, then publish with --allow-deletions to override")
                      : QString())
              << '\n';
        return Refused;
    }
    if (!outcome.error.code.isEmpty())
        return c.fail(outcome.error.message);
    if (!c.parser.isSet(c.o.json))
        c.out << "plan " << *id << ": " << summary << '\n';
    if (outcome.failed > 0 || outcome.conflicts > 0)
        return Partial;
    return success ? Success : Failure;
}

int runExport(Context &c, const QStringList &arguments)
{
    const QStringList pos = c.parser.positionalArguments();
    if (pos.isEmpty())
        return c.usage(
            QStringLiteral("REPORT is required: inventory, expiring, problems, plan PLAN or audit"));
    const auto report = report::reportFromName(pos.first());
    if (!report)
        return c.usage(
            QStringLiteral("unknown report '%1': inventory, expiring, problems, plan PLAN or audit")
                .arg(pos.first()));
    if (!c.parser.isSet(c.o.csv))
        return c.usage(QStringLiteral("--csv FILE is required"));
    const QString path = c.parser.value(c.o.csv);
    if (*report == report::Report::Inventory) {
        QStringList rest = arguments;
        rest.removeOne(QStringLiteral("inventory"));
        return runInventory(rest, c.out, c.err);
    }
    Result<qint64> rows = qint64(0);
    if (*report == report::Report::Expiring || *report == report::Report::Problems) {
        bool ok = false;
        const int days = c.parser.value(c.o.days).toInt(&ok);
        if (!ok || days < 0)
            return c.usage(QStringLiteral("--days takes a whole number of days"));
        auto dir = directorySettings(c, true);
        if (!dir)
            return c.usage(dir.error().message);
        if (!*dir)
            return c.usage(QStringLiteral("%1 reads the directory: --ldap-url and --base-dn are required")
                               .arg(pos.first()));
        auto snapshot = readDirectory(std::move(**dir));
        if (!snapshot)
            return c.fail(snapshot.error().message);
        rows = report::writeDirectoryReport(*report, (*snapshot)->users, path, days,
                                            QDateTime::currentDateTimeUtc());
    } else {
        auto state = openState(c);
        if (!state)
            return c.fail(state.error().message);
        PlanStore plans(**state);
        if (*report == report::Report::Plan) {
            auto id = planArgument(c, 1);
            if (!id)
                return c.usage(id.error().message);
            rows = report::writePlanReport(plans, *id, path);
        } else {
            rows = report::writeAuditReport(plans, path);
        }
    }
    if (!rows)
        return c.fail(rows.error().message);
    c.out << "certsync export: " << *rows << " rows written to " << path << '\n';
    return Success;
}

} // namespace

bool isSyncCommand(const QString &command)
{
    return commands.contains(command);
}

int runSyncCommand(const QString &command, const QStringList &arguments, QTextStream &out, QTextStream &err)
{
    Context c { command, out, err, {}, {}, {} };
    c.parser.addHelpOption();
    c.o.addTo(c.parser);
    c.parser.addPositionalArgument(QStringLiteral("ARGS"),
                                   QStringLiteral("PLAN, or REPORT [PLAN] for export"));
    if (!c.parser.parse(QStringList { QStringLiteral("certsync ") + command } + arguments))
        return c.usage(c.parser.errorText());
    if (c.parser.isSet(QStringLiteral("help"))) {
        out << commandHelp(c.parser, command);
        return Success;
    }
    auto configuration = effectiveConfiguration(c.parser, c.o.connection);
    if (!configuration)
        return c.usage(configuration.error().message);
    c.config = std::move(*configuration);
    if (command == QLatin1String("diff"))
        return runDiff(c);
    if (command == QLatin1String("plans"))
        return runPlans(c);
    if (command == QLatin1String("show"))
        return runShow(c);
    if (command == QLatin1String("approve"))
        return runDecide(c, Decision::Approved);
    if (command == QLatin1String("reject"))
        return runDecide(c, Decision::Rejected);
    if (command == QLatin1String("publish"))
        return runPublish(c);
    if (command == QLatin1String("export"))
        return runExport(c, arguments);
    return c.usage(QStringLiteral("unknown command"));
}

} // namespace certsync::cli
