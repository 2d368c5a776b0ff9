#include "cli/SyncCommands.h"
#include "core/Operator.h"

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
#include "engine/UserCheck.h"
#include "report/CsvWriter.h"
#include "report/InventoryCsv.h"
#include "report/Reports.h"
#include "store/FileModes.h"
#include "store/RunHistory.h"
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
                               QStringLiteral("export"),  QStringLiteral("runs"),   QStringLiteral("log"),
                               QStringLiteral("audit") };

// The commands whose runs the run history keeps (the others only read it).
const QStringList recordedCommands = { QStringLiteral("diff"), QStringLiteral("approve"),
                                       QStringLiteral("reject"), QStringLiteral("publish") };

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
    QCommandLineOption limit { QStringLiteral("limit"), QStringLiteral("Show at most N runs (default 50)."),
                               QStringLiteral("N"), QStringLiteral("50") };
    QCommandLineOption journal { QStringLiteral("journal"),
                                 QStringLiteral(
                                     "audit verify: also compare with the heads certsync sent to the "
                                     "system log, in an export of it (journalctl -t certsync, "
                                     "or a syslog file)."),
                                 QStringLiteral("FILE") };
    QCommandLineOption days { QStringLiteral("days"),
                              QStringLiteral("Window of the expiring report (default 30)."),
                              QStringLiteral("DAYS"), QStringLiteral("30") };

    void addTo(QCommandLineParser &p) const
    {
        p.addOptions(connection.all());
        p.addOptions({ json, keepExpired, smimeOnly, certificateUserIds, consistencyGuid, item, all, comment,
                       threshold, allowDeletions, staging, full, csv, limit, days, journal });
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
    std::optional<store::RunRecorder> run; // for the commands the run history keeps

    int usage(const QString &problem)
    {
        err << "certsync " << command << ": " << problem << "; run 'certsync " << command << " --help'\n";
        return Usage;
    }
    // The approval rules said no: one line, its own exit code, kept in the run's log.
    int refuse(const QString &problem)
    {
        err << "certsync " << command << ": not allowed: " << problem << '\n';
        if (run)
            run->add(jobs::LogRecord::Level::Error, QStringLiteral("not allowed: ") + problem);
        return NotAllowed;
    }
    int fail(const QString &problem)
    {
        err << "certsync " << command << ": " << problem << '\n';
        if (run)
            run->add(jobs::LogRecord::Level::Error, problem);
        return Failure;
    }
    // A line for stderr that the run's log keeps too.
    void note(const QString &text)
    {
        err << "certsync " << command << ": " << text << '\n';
        if (run)
            run->add(jobs::LogRecord::Level::Info, text);
    }
    void follow(jobs::Job *job, QObject *context)
    {
        if (run)
            run->follow(job, context);
    }
    QString statePath() const { return cli::statePath(config, parser, o.connection); }
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
    runner.runToEnd(job, loop);
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
        c.note(QStringLiteral("directory: full read: ")
               + (c.parser.isSet(c.o.full) ? QStringLiteral("--full") : why));
    // Kept here: the job, which owns the settings, is gone when the merge analyses stored users.
    const std::shared_ptr<const certs::TrustStore> trust = settings.trust;
    const std::shared_ptr<certs::AnalysisCache> cache = settings.cache;
    const certs::ValueAnalyzer analyzer(*trust, certs::CertificateJudge(settings.policy), cache.get());
    bool incremental = false;
    Result<void> begun;
    auto read = readDirectory(std::move(settings), [&](DirectoryReadJob *job, QEventLoop &loop) {
        c.follow(job, &loop);
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
        c.note(QStringLiteral("directory: %1 changed users merged into the stored snapshot of %2 users")
                   .arg(changed)
                   .arg(snapshot->users.size()));
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
        c.note(QStringLiteral("tenant: ") + stored.why);
    tenant::TenantSnapshotJob::Options options;
    options.previous = std::move(stored.previous);
    auto *job = new tenant::TenantSnapshotJob(settings, std::move(options));
    c.follow(job, &loop);
    QObject::connect(job, &tenant::TenantSnapshotJob::snapshotReady, &loop,
                     [&](const tenant::TenantSnapshot &s) { snapshot = s; });
    QObject::connect(job, &jobs::Job::logRecord, &loop, [&](const jobs::LogRecord &r) {
        if (r.level == jobs::LogRecord::Level::Warning
            || (r.level == jobs::LogRecord::Level::Info && r.channel == QLatin1String("graph")))
            c.err << "certsync " << c.command << ": tenant: " << jobs::levelName(r.level) << ": " << r.message
                  << '\n';
    });
    failure = runner.runToEnd(job, loop);
    if (!snapshot)
        return Error { QStringLiteral("tenant"),
                       failure.isEmpty() ? QStringLiteral("the tenant read did not finish") : failure };
    if (auto saved = tenant::saveTenantRead(state, settings, *snapshot); !saved)
        c.err << "certsync " << c.command
              << ": warning: the delta link was not stored: " << saved.error().message << '\n';
    return *snapshot;
}

// Exchange Online's S/MIME CA collection for the diff's collection item; nullopt (with a warning)
// when it cannot be read: the diff then stages no such item, the users' items are unaffected.
std::optional<QList<certs::Certificate>> readSmimeCollection(const tenant::TenantSettings &settings,
                                                             Context &c)
{
    QEventLoop loop;
    jobs::JobRunner runner;
    auto *job = new SmimeCollectionJob(settings);
    c.follow(job, &loop);
    std::optional<QList<certs::Certificate>> collection;
    QObject::connect(job, &SmimeCollectionJob::collectionRead, &loop,
                     [&](const QList<certs::Certificate> &read) { collection = read; });
    const QString failure = runner.runToEnd(job, loop);
    if (!collection)
        c.err << "certsync " << c.command
              << ": warning: Exchange Online's S/MIME CA collection was not read (" << failure
              << "): no item for it is staged\n";
    return collection;
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
                    { QStringLiteral("matched_by"),
                      i.attribute == ItemAttribute::SmimeIssuingCa ? QStringLiteral("tenant")
                                                                   : matchMethodName(i.matchedBy) },
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
             itemAttributeName(i.attribute), i.userLabel,
             i.attribute == ItemAttribute::SmimeIssuingCa ? QStringLiteral("tenant")
                                                          : matchMethodName(i.matchedBy))
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
    const std::shared_ptr<const certs::TrustStore> trust = (*dir)->trust;
    auto directory = readDirectoryIncrementally(std::move(**dir), **state, c);
    if (!directory)
        return c.fail(QStringLiteral("directory: ") + directory.error().message);
    auto tenantSnapshot = readTenant(**ten, **state, c);
    if (!tenantSnapshot)
        return c.fail(QStringLiteral("tenant: ") + tenantSnapshot.error().message);
    auto tenantShared = std::make_shared<const tenant::TenantSnapshot>(std::move(*tenantSnapshot));
    const std::optional<QList<certs::Certificate>> smimeCollection =
        trust ? readSmimeCollection(**ten, c) : std::nullopt;
    std::shared_ptr<const DiffResult> computed;
    {
        QEventLoop loop;
        jobs::JobRunner runner;
        auto *job = new DiffJob(*directory, tenantShared, policy);
        if (smimeCollection)
            job->setSmimeCollection(*smimeCollection, trustBundleCertificates(*trust));
        c.follow(job, &loop);
        QObject::connect(job, &DiffJob::diffReady, &loop,
                         [&](const std::shared_ptr<const DiffResult> &r) { computed = r; });
        runner.runToEnd(job, loop);
    }
    if (!computed)
        return c.fail(QStringLiteral("the diff did not finish"));
    const DiffResult &diff = *computed;

    auto staged = stagePlan(
        **state, diff, PlanSource { server, (*directory)->readAt, (**ten).tenantId, tenantShared->takenAt },
        currentOperator().recorded());
    if (!staged)
        return c.fail(staged.error().message);
    const PlanSummary *summary = &staged->summary;
    const qint64 *id = &summary->id;
    const int exchange = staged->exchangeItems, graph = staged->graphItems,
              directoryItems = staged->directoryItems;
    if (c.run) {
        c.run->setFigure(QStringLiteral("plan"), *id);
        c.run->setFigure(QStringLiteral("items"), int(diff.items.size()));
        c.run->setFigure(QStringLiteral("removed_values"), diff.removedValues);
        c.run->setFigure(QStringLiteral("added_values"), diff.addedValues);
        c.run->setFigure(QStringLiteral("matched"), diff.matched);
        c.run->setFigure(QStringLiteral("directory_users"), int((*directory)->users.size()));
        c.run->setFigure(QStringLiteral("tenant_users"), int(tenantShared->users.size()));
        c.run->add(jobs::LogRecord::Level::Info,
                   QStringLiteral("plan %1 staged: %2 items, %3 values removed, %4 added")
                       .arg(*id)
                       .arg(diff.items.size())
                       .arg(diff.removedValues)
                       .arg(diff.addedValues));
    }
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
    auto people = plans.people(*id);
    if (!items || !findings || !people)
        return c.fail((!items ? items.error() : !findings ? findings.error() : people.error()).message);
    auto names = [](const QStringList &list) {
        return list.isEmpty() ? QStringLiteral("nobody yet") : list.join(QStringLiteral(", "));
    };
    if (c.parser.isSet(c.o.json)) {
        QJsonObject o = summaryJson(*summary);
        o.insert(QStringLiteral("author"), people->author);
        o.insert(QStringLiteral("approvers"), QJsonArray::fromStringList(people->approvers));
        o.insert(QStringLiteral("rejecters"), QJsonArray::fromStringList(people->rejecters));
        o.insert(QStringLiteral("publishers"), QJsonArray::fromStringList(people->publishers));
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
    c.out << "staged by " << (people->author.isEmpty() ? QStringLiteral("(not recorded)") : people->author)
          << "; approved by " << names(people->approvers) << "; published by " << names(people->publishers)
          << '\n';
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
    const QString who = currentOperator().recorded();
    auto changed = plans.decide(*id, numbers, decision, who, c.parser.value(c.o.comment),
                                config::approvalPolicy(c.config));
    if (!changed && changed.error().code == QLatin1String("not_allowed"))
        return c.refuse(changed.error().message);
    if (!changed)
        return c.fail(changed.error().message);
    if (c.run) {
        c.run->setFigure(QStringLiteral("plan"), *id);
        c.run->setFigure(QStringLiteral("changed"), *changed);
        c.run->add(
            jobs::LogRecord::Level::Info,
            QStringLiteral("plan %1: %2 item(s) %3").arg(*id).arg(*changed).arg(decisionName(decision)));
    }
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
    // With CRLs configured, the trust is loaded: each value a tenant item would publish is judged
    // again under today's CRLs (revoked since the plan: not published).
    auto dir = directorySettings(c, !c.config.trust.crlFiles.isEmpty());
    if (!dir)
        return c.usage(dir.error().message);
    auto ten = tenantSettings(c);
    if (!ten)
        return c.usage(ten.error().message);
    PublishSettings s;
    s.statePath = c.statePath();
    s.planId = *id;
    s.who = currentOperator().recorded();
    s.deletionThreshold = c.config.policy.deletionThreshold;
    s.configuredDeletionThreshold = c.config.policy.deletionThreshold;
    s.approval = config::approvalPolicy(c.config);
    s.planLifetimeHours = c.config.policy.planLifetimeHours;
    s.tenant = *ten;
    if (*dir) {
        s.directory = (*dir)->profile;
        s.directoryPassword = (*dir)->password;
        s.trust = (*dir)->trust;
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
    c.follow(job, &loop);
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

    if (c.run) {
        c.run->setFigure(QStringLiteral("plan"), *id);
        c.run->setFigure(QStringLiteral("applied"), outcome.applied);
        c.run->setFigure(QStringLiteral("failed"), outcome.failed);
        c.run->setFigure(QStringLiteral("removed_values"), outcome.removedValues);
        if (outcome.refused)
            c.run->add(jobs::LogRecord::Level::Error, QStringLiteral("refused: ") + outcome.error.message);
        else if (!summary.isEmpty())
            c.run->add(success ? jobs::LogRecord::Level::Info : jobs::LogRecord::Level::Error, summary);
    }

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
    if (outcome.refused && outcome.error.code == QLatin1String("not_allowed"))
        return c.refuse(outcome.error.message);
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

QJsonObject runJson(const store::RunRow &r)
{
    return QJsonObject { { QStringLiteral("run"), r.id },
                         { QStringLiteral("started"), r.started.toString(Qt::ISODateWithMs) },
                         { QStringLiteral("finished"), r.finished.toString(Qt::ISODateWithMs) },
                         { QStringLiteral("who"), r.who },
                         { QStringLiteral("origin"), r.origin },
                         { QStringLiteral("command"), r.command },
                         { QStringLiteral("outcome"), r.outcome },
                         { QStringLiteral("summary"), r.summary },
                         { QStringLiteral("figures"), r.figures },
                         { QStringLiteral("records"), r.records } };
}

// certsync audit verify [--journal FILE] [--json]: the audit trail's hash chain, row by row.
int runAudit(Context &c, const QStringList &arguments)
{
    const QStringList positional = c.parser.positionalArguments();
    if (positional.value(0) != QLatin1String("verify"))
        return c.usage(QStringLiteral("give the audit action: verify"));
    Q_UNUSED(arguments);
    if (!QFileInfo::exists(c.statePath()))
        return c.fail(QStringLiteral("no state database at %1").arg(c.statePath()));
    QList<AuditHead> heads;
    if (c.parser.isSet(c.o.journal)) {
        QFile f(c.parser.value(c.o.journal));
        if (!f.open(QIODevice::ReadOnly))
            return c.fail(QStringLiteral("cannot read %1: %2").arg(f.fileName(), f.errorString()));
        heads = PlanStore::parseAuditHeads(f.readAll());
        if (heads.isEmpty())
            return c.fail(
                QStringLiteral("%1 holds no certsync audit heads (lines \"audit head: trail T row N "
                               "sha256 ...\")")
                    .arg(f.fileName()));
    }
    auto state = openState(c);
    if (!state)
        return c.fail(state.error().message);
    auto check = PlanStore(**state).verifyAudit(heads);
    if (!check)
        return c.fail(check.error().message);
    if (!heads.isEmpty() && check->externalHeads == 0)
        return c.fail(
            QStringLiteral("%1 holds no heads of this trail (%2); %3 belong to other state databases")
                .arg(c.parser.value(c.o.journal), check->trail)
                .arg(check->otherTrails));
    if (c.parser.isSet(c.o.json)) {
        c.out << QJsonDocument(QJsonObject { { QStringLiteral("intact"), check->intact },
                                             { QStringLiteral("rows"), check->rows },
                                             { QStringLiteral("unchained"), check->unchained },
                                             { QStringLiteral("broken_at"), check->brokenAt },
                                             { QStringLiteral("problem"), check->problem },
                                             { QStringLiteral("head_row"), check->headId },
                                             { QStringLiteral("head_sha256"), check->headHash },
                                             { QStringLiteral("trail"), check->trail },
                                             { QStringLiteral("journal_heads"), check->externalHeads } })
                     .toJson(QJsonDocument::Indented);
    } else if (check->intact) {
        c.out << "audit trail intact: " << check->rows << " rows, head row " << check->headId << " sha256 "
              << check->headHash << '\n';
        if (check->unchained > 0)
            c.out << "  " << check->unchained << " rows from before the chain began are not protected\n";
        if (!heads.isEmpty())
            c.out << "  " << check->externalHeads << " heads from the system log match\n";
    } else {
        c.err << "certsync audit: audit trail broken at row " << check->brokenAt << ": " << check->problem
              << '\n';
    }
    return check->intact ? Success : AuditBroken;
}

int runRuns(Context &c)
{
    bool ok = false;
    const int limit = c.parser.value(c.o.limit).toInt(&ok);
    if (!ok || limit < 0)
        return c.usage(QStringLiteral("--limit takes a whole number (0: every run)"));
    auto state = openState(c);
    if (!state)
        return c.fail(state.error().message);
    auto runs = store::RunHistory(**state).runs(limit);
    if (!runs)
        return c.fail(runs.error().message);
    if (c.parser.isSet(c.o.json)) {
        QJsonArray a;
        for (const store::RunRow &r : std::as_const(*runs))
            a.append(runJson(r));
        c.out << QJsonDocument(a).toJson(QJsonDocument::Indented);
        return Success;
    }
    for (const store::RunRow &r : std::as_const(*runs))
        c.out << "run " << r.id << "  " << r.started.toString(Qt::ISODate) << "  " << r.command << "  "
              << r.outcome << "  " << r.who << " (" << r.origin << "), "
              << QString::number(r.started.msecsTo(r.finished) / 1000.0, 'f', 1) << " s, " << r.records
              << " log records" << (r.summary.isEmpty() ? QString() : QStringLiteral(": ") + r.summary)
              << '\n';
    if (runs->isEmpty())
        c.out << "no runs recorded yet\n";
    return Success;
}

int runLog(Context &c)
{
    const QStringList pos = c.parser.positionalArguments();
    bool ok = false;
    const qint64 id = pos.isEmpty() ? 0 : pos.first().toLongLong(&ok);
    if (pos.isEmpty())
        return c.usage(QStringLiteral("RUN is required (see 'certsync runs')"));
    if (!ok || id < 1)
        return c.usage(QStringLiteral("RUN is a run number, not '%1'").arg(pos.first()));
    auto state = openState(c);
    if (!state)
        return c.fail(state.error().message);
    const store::RunHistory history(**state);
    auto run = history.run(id);
    if (!run)
        return c.fail(run.error().message);
    auto records = history.records(id);
    if (!records)
        return c.fail(records.error().message);
    if (c.parser.isSet(c.o.csv)) {
        const QString path = c.parser.value(c.o.csv);
        QSaveFile file(path);
        if (!file.open(QIODevice::WriteOnly) || !store::writeLogCsv(&file, *records) || !file.commit())
            return c.fail(QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
        if (auto mode = store::applyFolderMode(path); !mode)
            return c.fail(mode.error().message);
        c.out << "certsync log: " << records->size() << " records of run " << id << " written to " << path
              << '\n';
        return Success;
    }
    if (c.parser.isSet(c.o.json)) {
        QJsonObject o = runJson(*run);
        QJsonArray a;
        for (const jobs::LogRecord &r : std::as_const(*records)) {
            QJsonObject record { { QStringLiteral("time"), r.time.toString(Qt::ISODateWithMs) },
                                 { QStringLiteral("level"), jobs::levelName(r.level) },
                                 { QStringLiteral("job"), r.job },
                                 { QStringLiteral("message"), r.message } };
            for (const auto &[name, value] :
                 { std::pair { "user", r.user }, std::pair { "channel", r.channel },
                   std::pair { "request_id", r.requestId },
                   std::pair { "client_request_id", r.clientRequestId } })
                if (!value.isEmpty())
                    record.insert(QLatin1String(name), value);
            if (r.httpStatus)
                record.insert(QStringLiteral("http_status"), r.httpStatus);
            a.append(record);
        }
        o.insert(QStringLiteral("log"), a);
        c.out << QJsonDocument(o).toJson(QJsonDocument::Indented);
        return Success;
    }
    c.out << "run " << run->id << ": " << run->command << ", " << run->outcome << ", by " << run->who << " ("
          << run->origin << ") from " << run->started.toString(Qt::ISODate) << " to "
          << run->finished.toString(Qt::ISODate) << '\n';
    for (const jobs::LogRecord &r : std::as_const(*records))
        c.out << r.time.toString(Qt::ISODate) << ' ' << jobs::levelName(r.level) << ' ' << r.job << ": "
              << r.message
              << (r.user.isEmpty() ? QString() : QStringLiteral(" [") + r.user + QLatin1Char(']'))
              << (r.requestId.isEmpty() ? QString()
                                        : QStringLiteral(" (request-id ") + r.requestId + QLatin1Char(')'))
              << '\n';
    return Success;
}

int dispatch(Context &c, const QStringList &arguments)
{
    const QString &command = c.command;
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
    if (command == QLatin1String("runs"))
        return runRuns(c);
    if (command == QLatin1String("audit"))
        return runAudit(c, arguments);
    if (command == QLatin1String("log"))
        return runLog(c);
    return c.usage(QStringLiteral("unknown command"));
}

} // namespace

QString outcomeName(int exitCode)
{
    switch (exitCode) {
    case Success:
        return QStringLiteral("success");
    case Partial:
        return QStringLiteral("partial");
    case Refused:
        return QStringLiteral("refused");
    case NotAllowed:
        return QStringLiteral("not allowed");
    case Usage:
        return QStringLiteral("usage");
    default:
        return QStringLiteral("failure");
    }
}

void recordRun(const QString &statePath, const store::RunRecorder &run, int exitCode, int retentionDays,
               QTextStream &err)
{
    const QList<jobs::LogRecord> &records = run.records();
    QString summary;
    for (auto it = records.crbegin(); it != records.crend() && summary.isEmpty(); ++it)
        if (it->level >= jobs::LogRecord::Level::Info)
            summary = it->message; // the last thing said: the outcome's sentence
    auto state = store::StateStore::open(statePath);
    Result<qint64> stored = state ? store::RunHistory(**state).record(
                                run.finish(outcomeName(exitCode), summary), records, retentionDays)
                                  : Result<qint64>(state.error());
    if (!stored)
        err << "certsync: warning: the run was not recorded in the run history: " << stored.error().message
            << '\n';
}

bool isSyncCommand(const QString &command)
{
    return commands.contains(command);
}

int runSyncCommand(const QString &command, const QStringList &arguments, QTextStream &out, QTextStream &err)
{
    Context c { command, out, err, {}, {}, {}, {} };
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
    if (!recordedCommands.contains(command))
        return dispatch(c, arguments);
    c.run.emplace(store::RunHistory::commandLineOrigin(), command);
    for (const QString &secret : secretsFromEnvironment(c.parser, c.o.connection))
        c.run->addSecret(secret);
    // The settings the guards depend on (four-eyes, staging, threshold, trust) go into the audit
    // trail when they differ from the last ones recorded there: turning a guard off leaves a trace.
    if (command == QLatin1String("diff") || QFileInfo::exists(c.statePath())) {
        auto state = openState(c);
        if (!state)
            return c.fail(state.error().message);
        // approve and reject load no trust: their settings say nothing about it.
        const bool usesTrust = command == QLatin1String("diff") || command == QLatin1String("publish");
        if (auto recorded = PlanStore(**state).recordSettings(currentOperator().recorded(),
                                                              config::guardSettings(c.config, usesTrust));
            !recorded)
            return c.fail(recorded.error().message);
    }
    const int code = dispatch(c, arguments);
    // A usage error ran nothing; a run whose state database cannot be opened has nowhere to go.
    if (code != Usage && QFileInfo::exists(c.statePath()))
        recordRun(c.statePath(), *c.run, code, c.config.policy.runRetentionDays, err);
    return code;
}

} // namespace certsync::cli
