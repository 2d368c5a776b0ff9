#include "cli/InventoryCommand.h"

#include "cli/CommandLine.h"
#include "directory/DirectoryReadJob.h"
#include "directory/StoredDirectory.h"
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
    ConnectionProfile profile;
    QString passwordEnv;
    certs::TrustSettings trust;
    certs::JudgePolicy policy;
    QString csvPath;
    QString stateDir;
    bool full = false;
};

// Parses the connection options of DESIGN.md's command-line contract (and the few the directory
// reader adds). Returns an error sentence, empty when everything is usable.
QString parse(const QStringList &arguments, QCommandLineParser &parser, Options &o)
{
    const QCommandLineOption csv(QStringLiteral("csv"),
                                 QStringLiteral("Write the inventory to FILE (required)."),
                                 QStringLiteral("FILE"));
    const QCommandLineOption profile(
        QStringLiteral("profile"),
        QStringLiteral("Directory kind: ad (Active Directory) or ldap (OpenLDAP)."),
        QStringLiteral("ad|ldap"), QStringLiteral("ad"));
    const QCommandLineOption url(
        QStringLiteral("ldap-url"),
        QStringLiteral("ldaps://host[:port], or ldap://host[:port] (StartTLS is then used)."),
        QStringLiteral("URL"));
    const QCommandLineOption baseDn(QStringLiteral("base-dn"), QStringLiteral("Where to search."),
                                    QStringLiteral("DN"));
    const QCommandLineOption bindDn(
        QStringLiteral("bind-dn"),
        QStringLiteral("Bind as this DN or UPN (simple bind over TLS); without it: "
                       "Kerberos with --kerberos, else anonymous."),
        QStringLiteral("DN"));
    const QCommandLineOption passwordEnv(
        QStringLiteral("password-env"),
        QStringLiteral("Name of the environment variable holding the bind password."), QStringLiteral("VAR"));
    const QCommandLineOption kerberos(
        QStringLiteral("kerberos"),
        QStringLiteral("Bind with SASL GSSAPI using the current Kerberos ticket."));
    const QCommandLineOption caFile(
        QStringLiteral("ca-file"),
        QStringLiteral("PEM file of the CA that issued the LDAP server's certificate."),
        QStringLiteral("FILE"));
    const QCommandLineOption pin(QStringLiteral("server-sha256"),
                                 QStringLiteral("Trust exactly the server certificate with this SHA-256 "
                                                "fingerprint (instead of a CA)."),
                                 QStringLiteral("HEX"));
    const QCommandLineOption noTls(
        QStringLiteral("no-tls"),
        QStringLiteral("Plain, unencrypted LDAP on ldap:// (test servers on loopback only)."));
    const QCommandLineOption filter(QStringLiteral("filter"),
                                    QStringLiteral("LDAP filter for the users to read."),
                                    QStringLiteral("FILTER"));
    const QCommandLineOption pageSize(QStringLiteral("page-size"),
                                      QStringLiteral("Entries per page (default 500)."), QStringLiteral("N"),
                                      QStringLiteral("500"));
    const QCommandLineOption timeout(
        QStringLiteral("timeout"),
        QStringLiteral("Seconds to wait for the server before giving up (default 60)."),
        QStringLiteral("SECONDS"), QStringLiteral("60"));
    const QCommandLineOption trust(
        QStringLiteral("trust"),
        QStringLiteral("PEM bundle of S/MIME trust anchors and intermediates (repeatable)."),
        QStringLiteral("FILE"));
    const QCommandLineOption crl(QStringLiteral("crl"), QStringLiteral("CRL file, PEM or DER (repeatable)."),
                                 QStringLiteral("FILE"));
    const QCommandLineOption warningDays(QStringLiteral("warning-days"),
                                         QStringLiteral("Expiry warning window in days (default 30)."),
                                         QStringLiteral("DAYS"), QStringLiteral("30"));
    const QCommandLineOption stateDir(
        QStringLiteral("state-dir"),
        QStringLiteral("Folder of the state database (remembers analysed certificates)."),
        QStringLiteral("DIR"));
    const QCommandLineOption full(
        QStringLiteral("full"),
        QStringLiteral("Read every user, even when the state database could continue from the last read "
                       "(only a full read finds deleted users)."));
    parser.setApplicationDescription(
        QStringLiteral("Reads the directory, judges every certificate and writes the "
                       "inventory CSV."));
    parser.addHelpOption();
    parser.addOptions({ csv, profile, url, baseDn, bindDn, passwordEnv, kerberos, caFile, pin, noTls, filter,
                        pageSize, timeout, trust, crl, warningDays, stateDir, full });
    if (!parser.parse(QStringList { QStringLiteral("certsync inventory") } + arguments))
        return parser.errorText();
    if (parser.isSet(QStringLiteral("help")))
        return {};
    if (!parser.positionalArguments().isEmpty())
        return QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().first());
    if (!parser.isSet(csv))
        return QStringLiteral("--csv FILE is required");
    if (!parser.isSet(url) || !parser.isSet(baseDn))
        return QStringLiteral("--ldap-url and --base-dn are required");
    const QString kind = parser.value(profile);
    if (kind != QLatin1String("ad") && kind != QLatin1String("ldap"))
        return QStringLiteral("--profile takes ad or ldap");
    o.profile.kind = kind == QLatin1String("ad") ? SourceKind::ActiveDirectory : SourceKind::GenericLdap;
    o.profile.mapping = AttributeMapping::defaults(o.profile.kind);
    o.profile.url = parser.value(url);
    o.profile.baseDn = parser.value(baseDn);
    o.profile.filter = parser.value(filter);
    o.profile.caFile = parser.value(caFile);
    o.profile.serverCertificateSha256 = parser.value(pin);
    o.profile.startTls = !parser.isSet(noTls);
    if (parser.isSet(noTls) && o.profile.url.startsWith(QLatin1String("ldaps://"), Qt::CaseInsensitive))
        return QStringLiteral("--no-tls contradicts an ldaps:// URL");
    if (parser.isSet(bindDn)) {
        o.profile.bind = BindMethod::Simple;
        o.profile.bindDn = parser.value(bindDn);
        if (!parser.isSet(passwordEnv))
            return QStringLiteral(
                "--bind-dn needs --password-env VAR (passwords are never taken on the command line)");
        o.passwordEnv = parser.value(passwordEnv);
    } else {
        o.profile.bind = parser.isSet(kerberos) ? BindMethod::Gssapi : BindMethod::Anonymous;
    }
    bool ok = false;
    o.profile.pageSize = parser.value(pageSize).toInt(&ok);
    if (!ok || o.profile.pageSize < 1 || o.profile.pageSize > 100000)
        return QStringLiteral("--page-size takes a number from 1 to 100000");
    const int seconds = parser.value(timeout).toInt(&ok);
    if (!ok || seconds < 1)
        return QStringLiteral("--timeout takes a number of seconds");
    o.profile.operationTimeoutMs = seconds * 1000;
    o.profile.connectTimeoutMs = qMin(seconds, 10) * 1000;
    o.policy.warningDays = parser.value(warningDays).toInt(&ok);
    if (!ok || o.policy.warningDays < 0)
        return QStringLiteral("--warning-days takes a whole number of days");
    o.trust.bundleFiles = parser.values(trust);
    o.trust.crlFiles = parser.values(crl);
    o.csvPath = parser.value(csv);
    o.stateDir = parser.value(stateDir);
    o.full = parser.isSet(full);
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
    QString password;
    if (!o.passwordEnv.isEmpty()) {
        password = qEnvironmentVariable(o.passwordEnv.toLocal8Bit().constData());
        if (password.isEmpty()) {
            err << "certsync inventory: the environment variable " << o.passwordEnv
                << " is not set or empty\n";
            return Usage;
        }
    }
    auto trust = certs::TrustStore::load(o.trust);
    if (!trust) {
        err << "certsync inventory: " << trust.error().message << '\n';
        return Failure;
    }
    if (o.trust.bundleFiles.isEmpty())
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

    DirectoryReadSettings settings;
    settings.profile = o.profile;
    settings.password = password;
    password.fill(QLatin1Char('\0'));
    settings.trust = std::make_shared<const certs::TrustStore>(std::move(*trust));
    settings.policy = o.policy;
    settings.cache = cache;
    settings.keepUsers = false;
    const std::shared_ptr<const certs::TrustStore> trustStore = settings.trust;

    // With a state database the last snapshot is kept, and the next run reads only what changed.
    std::optional<StoredDirectory> stored;
    QStringList notes; // for stdout: how the directory was read
    if (state) {
        stored.emplace(*state, o.profile);
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
            keep(stored->begin(!changesOnly));
    });
    QObject::connect(job, &DirectoryReadJob::usersRead, &loop, [&](const QList<DirectoryUser> &users) {
        if (stored && !storeFailed)
            keep(stored->store(users));
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
        if (record.level == jobs::LogRecord::Level::Warning && terminal)
            err << "\ncertsync inventory: warning: " << record.message << '\n';
        // Why a read is full or incremental (another DC, changes only: deleted users need --full).
        if (isReadPlanNote(record))
            notes << record.message;
    });
    QObject::connect(job, &jobs::Job::finished, &loop, &QEventLoop::quit);
    runner.run(job);
    loop.exec();
    if (terminal)
        err << '\r' << QString(60, QLatin1Char(' ')) << '\r' << Qt::flush;

    if (!snapshot || !snapshot->complete) {
        if (stored)
            stored->rollback(); // a part of the directory is never kept as the snapshot
        if (stateCache)
            (void)stateCache->flush(); // what was analysed stays useful
        file.cancelWriting();
        err << "certsync inventory: "
            << (snapshot ? snapshot->error.message : QStringLiteral("the read did not finish")) << '\n';
        return Failure;
    }
    qint64 users = snapshot->entries;
    qint64 values = snapshot->values;
    if (stored && !storeFailed) {
        if (incremental) {
            // The changes are stored over the last snapshot; the inventory is the merged whole.
            const certs::ValueAnalyzer analyzer(*trustStore, certs::CertificateJudge(o.policy), cache.get());
            const QDateTime now = QDateTime::currentDateTimeUtc();
            users = values = 0;
            auto merged = stored->forEachUser(analyzer, now, [&](DirectoryUser &&user) {
                ++users;
                values += user.valueCount();
                if (csv.writeUser(user))
                    return true;
                writeFailed = true;
                return false;
            });
            if (!merged)
                keep(merged.error());
            notes << QStringLiteral("%1 changed users merged into the stored snapshot of %2 users")
                         .arg(snapshot->entries)
                         .arg(users);
        }
        if (!storeFailed)
            keep(stored->commit(snapshot->mark));
    }
    if (stateCache) {
        if (auto flushed = stateCache->flush(); !flushed)
            err << "certsync inventory: warning: " << flushed.error().message << '\n';
    }
    if (storeFailed) {
        file.cancelWriting();
        err << "certsync inventory: the state database: " << storeError.message << '\n';
        return Failure;
    }
    if (writeFailed || !file.commit()) {
        err << "certsync inventory: cannot write " << o.csvPath << ": " << file.errorString() << '\n';
        return Failure;
    }
    for (const QString &note : std::as_const(notes))
        out << "certsync inventory: " << note << '\n';
    out << "certsync inventory: " << users << " users, " << values << " values, " << csv.rows() - 1
        << " rows written to " << o.csvPath << " in " << QString::number(clock.elapsed() / 1000.0, 'f', 2)
        << " s\n";
    return Success;
}

} // namespace certsync::cli
