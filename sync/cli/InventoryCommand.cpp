#include "cli/InventoryCommand.h"

#include "cli/CommandLine.h"
#include "cli/ConnectionOptions.h"
#include "cli/SyncCommands.h"
#include "directory/DirectoryReadJob.h"
#include "directory/StoredDirectory.h"
#include "report/InventoryCsv.h"
#include "store/RunHistory.h"
#include "store/StateStore.h"

#include "store/FileModes.h"
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>

#include <QSaveFile>

#include <unistd.h>

namespace certsync::cli {

using namespace directory;

namespace {

struct Options
{
    ConnectionOptions connection;
    DirectoryReadSettings settings; // the settings file with the options on top, password included
    QString csvPath;
    QString stateDir;
    bool full = false;
    int retentionDays = store::RunHistory::defaultRetentionDays;
};

// Parses the connection options of DESIGN.md's command-line contract over the settings file.
// Returns an error sentence, empty when everything is usable.
QString parse(const QStringList &arguments, QCommandLineParser &parser, Options &o)
{
    const QCommandLineOption csv(QStringLiteral("csv"),
                                 QStringLiteral("Write the inventory to FILE (required)."),
                                 QStringLiteral("FILE"));
    const QCommandLineOption full(
        QStringLiteral("full"),
        QStringLiteral("Read every user, even when the state database could continue from the last read "
                       "(only a full read finds deleted users)."));
    parser.setApplicationDescription(
        QStringLiteral("Reads the directory, judges every certificate and writes the "
                       "inventory CSV."));
    parser.addHelpOption();
    parser.addOption(csv);
    parser.addOption(full);
    parser.addOptions(o.connection.all());
    if (!parser.parse(QStringList { QStringLiteral("certsync inventory") } + arguments))
        return parser.errorText();
    if (parser.isSet(QStringLiteral("help")))
        return {};
    if (!parser.positionalArguments().isEmpty())
        return QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().first());
    if (!parser.isSet(csv))
        return QStringLiteral("--csv FILE is required");
    auto configuration = effectiveConfiguration(parser, o.connection);
    if (!configuration)
        return configuration.error().message;
    if (!configuration->directory)
        return QStringLiteral("--ldap-url and --base-dn are required (or a directory in the settings file)");
    auto settings = directoryReadSettings(*configuration, parser, o.connection, true);
    if (!settings)
        return settings.error().message;
    o.settings = std::move(**settings);
    o.csvPath = parser.value(csv);
    o.stateDir = parser.value(o.connection.stateDir);
    o.full = parser.isSet(full);
    o.retentionDays = configuration->policy.runRetentionDays;
    return {};
}

// The read, the CSV and storing the snapshot; `run` (with a state database) keeps what is said.
int inventory(Options &o, store::StateStore *state,
              const std::shared_ptr<store::SqliteAnalysisCache> &stateCache,
              const std::shared_ptr<certs::AnalysisCache> &cache, store::RunRecorder *run, QTextStream &out,
              QTextStream &err)
{
    constexpr qsizetype cacheBatch = 5000; // new analyses written at a time during the read
    auto fail = [&](const QString &problem) {
        err << "certsync inventory: " << problem << '\n';
        if (run)
            run->add(jobs::LogRecord::Level::Error, problem);
        return Failure;
    };
    // Written to a temporary file and renamed at the end: a failed or partial read leaves no CSV
    // that could pass for a whole inventory.
    QSaveFile file(o.csvPath);
    if (!file.open(QIODevice::WriteOnly)) {
        return fail(QStringLiteral("cannot write %1: %2").arg(o.csvPath, file.errorString()));
    }
    report::InventoryCsv csv(&file);
    bool writeFailed = !csv.writeHeader();

    DirectoryReadSettings settings = std::move(o.settings);
    settings.cache = cache;
    settings.keepUsers = false;
    const std::shared_ptr<const certs::TrustStore> trustStore = settings.trust;
    const certs::JudgePolicy policy = settings.policy;

    // With a state database the last snapshot is kept, and the next run reads only what changed.
    std::optional<StoredDirectory> stored;
    QStringList notes; // for stdout: how the directory was read
    std::shared_ptr<ReportSettings> reports;
    if (state && trustStore) {
        // Each user's rows are kept with the snapshot; a later full read that meets an unchanged
        // entry writes them again without analysing it, while its verdicts hold.
        reports = std::make_shared<ReportSettings>();
        reports->context = report::InventoryCsv::reportContext(*trustStore, policy);
        reports->rowsOf = &report::InventoryCsv::userRows;
        // (Unreadable: the read's begin() below fails with the reason.)
        if (const auto last = state->lastRowSeq(storedDirectoryKey(settings.profile)); last && *last > 0)
            reports->stored = std::make_shared<StoredUserReader>(*state, settings.profile);
        settings.reports = reports;
    }
    if (state) {
        stored.emplace(*state, settings.profile);
        QString why;
        if (!o.full)
            settings.previous = stored->mark(&why);
        if (o.full)
            notes << QStringLiteral("full read (--full)");
        else if (!settings.previous)
            notes << QStringLiteral("full read: ") + why;
    }
    bool incremental = false;
    bool storeFailed = false;
    Error storeError;
    auto keep = [&](Result<void> result) {
        if (!result && !storeFailed) {
            storeFailed = true;
            storeError = result.error();
        }
    };

    const bool terminal = isatty(STDERR_FILENO);
    QElapsedTimer clock;
    clock.start();
    qint64 lastProgress = -1000;
    std::shared_ptr<DirectorySnapshot> snapshot;
    QEventLoop loop;
    jobs::JobRunner runner;
    auto *job = new DirectoryReadJob(std::move(settings));
    QObject::connect(job, &DirectoryReadJob::readPlanned, &loop, [&](bool changesOnly) {
        incremental = changesOnly;
        if (stored)
            keep(stored->begin(!changesOnly, StoredDirectory::FirstFill::WriteAlone));
    });
    QObject::connect(job, &DirectoryReadJob::usersRead, &loop, [&](const QList<DirectoryUser> &users) {
        if (stored && !storeFailed) {
            keep(stored->store(users));
            // New analyses go into the snapshot's transaction as the read goes on, in batches: written
            // at the end they were seconds of work on one core after the analysis had finished.
            if (stateCache && !storeFailed && stateCache->pending() >= cacheBatch)
                keep(stateCache->writeIntoTransaction());
        }
        if (incremental)
            return; // the CSV is written from the merged snapshot at the end
        for (const DirectoryUser &user : users)
            if (!writeFailed && !csv.writeUser(user))
                writeFailed = true;
    });
    QObject::connect(job, &DirectoryReadJob::snapshotReady, &loop,
                     [&](const std::shared_ptr<DirectorySnapshot> &s) { snapshot = s; });
    if (terminal)
        QObject::connect(job, &jobs::Job::progress, &loop, [&](qint64 done, qint64, const QString &) {
            if (clock.elapsed() - lastProgress < 200)
                return;
            lastProgress = clock.elapsed();
            err << "\rcertsync inventory: " << done << " users read" << Qt::flush;
        });
    QObject::connect(job, &jobs::Job::logRecord, &loop, [&](const jobs::LogRecord &record) {
        if (run)
            run->add(record);
        if (record.level == jobs::LogRecord::Level::Warning && terminal)
            err << "\ncertsync inventory: warning: " << record.message << '\n';
        // Why a read is full or incremental (another DC, changes only: deleted users need --full).
        if (isReadPlanNote(record))
            notes << record.message;
    });
    runner.runToEnd(job, loop);
    if (terminal)
        err << '\r' << QString(60, QLatin1Char(' ')) << '\r' << Qt::flush;

    if (!snapshot || !snapshot->complete) {
        if (stateCache && stored)
            stateCache->takeBackWritten(); // before the rollback drops them
        if (stored)
            stored->rollback(); // a part of the directory is never kept as the snapshot
        if (stateCache) {
            stateCache->transactionEnded(false);
            (void)stateCache->flush(); // what was analysed stays useful
        }
        file.cancelWriting();
        return fail(snapshot ? snapshot->error.message : QStringLiteral("the read did not finish"));
    }
    qint64 users = snapshot->entries;
    qint64 values = snapshot->values;
    if (stored && !storeFailed) {
        if (incremental) {
            // The changes are stored over the last snapshot; the inventory is the merged whole.
            const certs::ValueAnalyzer analyzer(*trustStore, certs::CertificateJudge(policy), cache.get());
            const QDateTime now = QDateTime::currentDateTimeUtc();
            users = values = 0;
            qint64 reused = 0;
            auto merged = stored->forEachUser(
                analyzer, now,
                [&](DirectoryUser &&user) {
                    ++users;
                    values += user.valueCount();
                    if (user.storedSeq >= 0)
                        ++reused;
                    if (csv.writeUser(user))
                        return true;
                    writeFailed = true;
                    return false;
                },
                reports.get());
            if (!merged)
                keep(merged.error());
            notes << QStringLiteral(
                         "%1 changed users merged into the stored snapshot of %2 users; the rows of %3 "
                         "reused as stored")
                         .arg(snapshot->entries)
                         .arg(users)
                         .arg(reused);
        } else if (reports && reports->stored) {
            // What a full read found unchanged since the stored snapshot, and still judged the same.
            notes << QStringLiteral(
                         "%1 of %2 users unchanged since the stored snapshot: their rows reused as stored")
                         .arg(snapshot->reused)
                         .arg(users);
        }
        if (stateCache && !storeFailed)
            keep(stateCache->writeIntoTransaction());
        if (!storeFailed) // a failed cache write may have ended the transaction: never commit after it
            keep(stored->commit(snapshot->mark));
    }
    if (stored && storeFailed) {
        if (stateCache)
            stateCache->takeBackWritten();
        stored->rollback(); // before the cache's own transaction below
    }
    if (stateCache) {
        stateCache->transactionEnded(stored && !storeFailed); // rolled back when storing failed
        if (auto flushed = stateCache->flush(); !flushed)
            err << "certsync inventory: warning: " << flushed.error().message << '\n';
    }
    if (storeFailed) {
        file.cancelWriting();
        return fail(QStringLiteral("the state database: ") + storeError.message);
    }
    if (writeFailed || !file.commit()) {
        return fail(QStringLiteral("cannot write %1: %2").arg(o.csvPath, file.errorString()));
    }
    if (auto mode = store::applyFolderMode(o.csvPath); !mode)
        return fail(mode.error().message);
    for (const QString &note : std::as_const(notes))
        out << "certsync inventory: " << note << '\n';
    const QString summary = QStringLiteral("%1 users, %2 values, %3 rows written to %4 in %5 s")
                                .arg(users)
                                .arg(values)
                                .arg(csv.rows() - 1)
                                .arg(o.csvPath, QString::number(clock.elapsed() / 1000.0, 'f', 2));
    out << "certsync inventory: " << summary << '\n';
    if (run) {
        for (const QString &note : std::as_const(notes))
            run->add(jobs::LogRecord::Level::Info, note);
        run->setFigure(QStringLiteral("users"), users);
        run->setFigure(QStringLiteral("values"), values);
        run->setFigure(QStringLiteral("rows"), csv.rows() - 1);
        run->add(jobs::LogRecord::Level::Info, summary);
    }
    return Success;
}

} // namespace

int runInventory(const QStringList &arguments, QTextStream &out, QTextStream &err)
{
    QCommandLineParser parser;
    Options o;
    if (const QString problem = parse(arguments, parser, o); !problem.isEmpty()) {
        err << "certsync inventory: " << problem << "; run 'certsync inventory --help'\n";
        return Usage;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        out << commandHelp(parser, QStringLiteral("inventory"));
        return Success;
    }
    if (!o.settings.trust || o.settings.trust->anchorCount() == 0)
        err << "certsync inventory: warning: no --trust bundle, so every chain is reported as incomplete\n";

    std::shared_ptr<certs::AnalysisCache> cache;
    std::unique_ptr<store::StateStore> state;
    std::shared_ptr<store::SqliteAnalysisCache> stateCache;
    if (!o.stateDir.isEmpty()) {
        auto opened = store::StateStore::open(QDir(o.stateDir).filePath(QStringLiteral("certsync.db")));
        if (!opened) {
            err << "certsync inventory: " << opened.error().message << '\n';
            return Failure;
        }
        state = std::move(*opened);
        auto loaded = store::SqliteAnalysisCache::load(*state);
        if (!loaded) {
            err << "certsync inventory: " << loaded.error().message << '\n';
            return Failure;
        }
        stateCache = std::move(*loaded);
        cache = stateCache;
    }
    // Without a state database there is no cache: a run-long memory cache would hold every analysis
    // of the directory at once, for the rare value that appears twice.

    std::optional<store::RunRecorder> run;
    if (state) {
        run.emplace(store::RunHistory::commandLineOrigin(), QStringLiteral("inventory"));
        for (const QString &secret : secretsFromEnvironment(parser, o.connection))
            run->addSecret(secret);
    }
    const int code = inventory(o, state.get(), stateCache, cache, run ? &*run : nullptr, out, err);
    if (run)
        recordRun(state->path(), *run, code, o.retentionDays, err);
    return code;
}

} // namespace certsync::cli
