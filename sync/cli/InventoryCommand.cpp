#include "cli/InventoryCommand.h"

#include "cli/CommandLine.h"
#include "cli/ConnectionOptions.h"
#include "directory/DirectoryReadJob.h"
#include "report/InventoryCsv.h"
#include "store/StateStore.h"

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
};

// Parses the connection options of DESIGN.md's command-line contract over the settings file.
// Returns an error sentence, empty when everything is usable.
QString parse(const QStringList &arguments, QCommandLineParser &parser, Options &o)
{
    const QCommandLineOption csv(QStringLiteral("csv"),
                                 QStringLiteral("Write the inventory to FILE (required)."),
                                 QStringLiteral("FILE"));
    parser.setApplicationDescription(
        QStringLiteral("Reads the directory, judges every certificate and writes the "
                       "inventory CSV."));
    parser.addHelpOption();
    parser.addOption(csv);
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
    return {};
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
        out << parser.helpText();
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

    // Written to a temporary file and renamed at the end: a failed or partial read leaves no CSV
    // that could pass for a whole inventory.
    QSaveFile file(o.csvPath);
    if (!file.open(QIODevice::WriteOnly)) {
        err << "certsync inventory: cannot write " << o.csvPath << ": " << file.errorString() << '\n';
        return Failure;
    }
    report::InventoryCsv csv(&file);
    bool writeFailed = !csv.writeHeader();

    DirectoryReadSettings settings = std::move(o.settings);
    settings.cache = cache;
    settings.keepUsers = false;

    const bool terminal = isatty(STDERR_FILENO);
    QElapsedTimer clock;
    clock.start();
    qint64 lastProgress = -1000;
    std::shared_ptr<DirectorySnapshot> snapshot;
    QEventLoop loop;
    jobs::JobRunner runner;
    auto *job = new DirectoryReadJob(std::move(settings));
    QObject::connect(job, &DirectoryReadJob::usersRead, &loop, [&](const QList<DirectoryUser> &users) {
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
        if (record.level == jobs::LogRecord::Level::Warning && terminal)
            err << "\ncertsync inventory: warning: " << record.message << '\n';
    });
    QObject::connect(job, &jobs::Job::finished, &loop, &QEventLoop::quit);
    runner.run(job);
    loop.exec();
    if (terminal)
        err << '\r' << QString(60, QLatin1Char(' ')) << '\r' << Qt::flush;

    if (stateCache) {
        if (auto flushed = stateCache->flush(); !flushed)
            err << "certsync inventory: warning: " << flushed.error().message << '\n';
    }
    if (!snapshot || !snapshot->complete) {
        file.cancelWriting();
        err << "certsync inventory: "
            << (snapshot ? snapshot->error.message : QStringLiteral("the read did not finish")) << '\n';
        return Failure;
    }
    if (writeFailed || !file.commit()) {
        err << "certsync inventory: cannot write " << o.csvPath << ": " << file.errorString() << '\n';
        return Failure;
    }
    out << "certsync inventory: " << snapshot->entries << " users, " << snapshot->values << " values, "
        << csv.rows() - 1 << " rows written to " << o.csvPath << " in "
        << QString::number(clock.elapsed() / 1000.0, 'f', 2) << " s\n";
    return Success;
}

} // namespace certsync::cli
