// Console start benchmark (issue 16): the console opened on a state database that holds a directory
// of N users (made by the benchmark, in a child process: the stored rows and their cached analyses,
// as a previous read leaves them). Measures, from the window being shown:
//   - time to first shown rows: the stored snapshot is in the users table;
//   - time to filterable: the same plus one search keystroke through the users pane's filter;
//   - peak memory (resident set) of the console process.
// The directory itself is never reached (its address refuses connections): only the stored path
// is measured. Budget (issue 16): listing and filtering all users within 1 s at 100,000 users.
//   QT_QPA_PLATFORM=offscreen build/release/tests/bench/bench_console_start --users 100000
// --distinct D: distinct certificates among the values (default: one per user, as a real directory).
// --keep DIR: the state database is made in DIR once and reused by later runs with the same DIR.
// --without-summaries: the database as one made before the users' summaries (schema 10) leaves it:
// the console judges every stored user from the cached analyses (the path before issue 16's summaries).
#include "TestPki.h"
#include "certs/TrustStore.h"
#include "directory/StoredDirectory.h"
#include "models/UserFilterProxy.h"
#include "models/UsersModel.h"
#include "store/StateStore.h"
#include "ui/MainWindow.h"
#include "ui/UsersPane.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QLineEdit>
#include <QProcess>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <sys/resource.h>

#include <cstdio>

using namespace certsync;
using namespace certsync::testing;

namespace {

directory::ConnectionProfile benchProfile()
{
    directory::ConnectionProfile profile;
    profile.kind = directory::SourceKind::GenericLdap;
    profile.mapping = directory::AttributeMapping::defaults(profile.kind);
    profile.url = QStringLiteral("ldap://127.0.0.1:9"); // discard: refused, never read
    profile.baseDn = QStringLiteral("dc=bench,dc=test");
    return profile;
}

std::shared_ptr<const certs::TrustStore> trustFrom(const QString &dir)
{
    certs::TrustSettings settings;
    settings.bundleFiles = { QDir(dir).filePath(QStringLiteral("trust.pem")) };
    auto trust = certs::TrustStore::load(settings);
    if (!trust) {
        std::fprintf(stderr, "bench_console_start: %s\n", qPrintable(trust.error().message));
        return nullptr;
    }
    return std::make_shared<const certs::TrustStore>(std::move(trust).value());
}

// The child process: the state database of a directory that was read once.
int prepare(const QString &dir, int users, int distinct, bool withoutSummaries)
{
    const StandardPki &pki = StandardPki::instance();
    if (!TestPki::writeFile(QDir(dir).filePath(QStringLiteral("trust.pem")),
                            TestPki::pemOf({ &pki.root, &pki.intermediate, &pki.ecIntermediate })))
        return 1;
    QList<QByteArray> leaves;
    for (int i = 0; i < distinct; ++i)
        leaves.append(
            TestPki::issue(goodLeafSpec(QStringLiteral("user%1@bench.test").arg(i)), pki.ecIntermediate).der);
    auto state = store::StateStore::open(QDir(dir).filePath(QStringLiteral("certsync.db")));
    if (!state)
        return 1;
    const directory::ConnectionProfile profile = benchProfile();
    {
        // The analyses a read leaves in the cache, and the users analysed as a read stores them.
        const auto trust = trustFrom(dir);
        auto cache = store::SqliteAnalysisCache::load(**state);
        if (!trust || !cache)
            return 1;
        const certs::ValueAnalyzer analyzer(*trust, certs::CertificateJudge(certs::JudgePolicy {}),
                                            cache->get());
        const QDateTime now = QDateTime::currentDateTimeUtc();
        directory::StoredDirectory stored(**state, profile);
        if (!stored.begin(true))
            return 1;
        QList<directory::DirectoryUser> batch;
        for (int i = 0; i < users; ++i) {
            directory::DirectoryUser u;
            u.dn = QStringLiteral("uid=user%1,ou=people,dc=bench,dc=test").arg(i);
            u.displayName = QStringLiteral("Bench User %1").arg(i);
            u.mail = QStringLiteral("user%1@bench.test").arg(i);
            u.userPrincipalName = u.mail;
            u.userCertificate = { leaves.at(i % distinct) };
            if (i % 2 == 0) // half of them have a second value
                u.userSmimeCertificate = { TestPki::pkcs7CertsOnly({ &pki.ecIntermediate }) };
            u.values = analyzer.analyzeUser(u.userCertificate, u.userSmimeCertificate, u.context(), now);
            batch.append(std::move(u));
            if (batch.size() == 1000 || i + 1 == users) {
                if (!stored.store(std::exchange(batch, {})))
                    return 1;
            }
        }
        directory::ReadMark mark;
        mark.kind = profile.kind;
        mark.server = profile.describe();
        mark.csn = QStringLiteral("20261128093000.000000Z#000000#000#000000");
        if (!stored.commit(mark))
            return 1;
        if (!(*cache)->flush())
            return 1;
    }
    if (withoutSummaries) { // as a database of schema version 10 left it, read once more
        QSqlQuery q((*state)->database());
        if (!q.exec(QStringLiteral("DELETE FROM user_summaries")))
            return 1;
    }
    return 0;
}

double cpuMs()
{
    rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3
        + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
}

double peakMb()
{
    rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_maxrss) / 1024.0;
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true);
    const QStringList args = QCoreApplication::arguments();
    int users = 100000;
    int distinct = 0;
    QString prepareDir;
    QString keepDir; // the state database made there once and reused (for repeated measurements)
    // The start on a database without the users' summaries (made before them): every stored user judged.
    const bool withoutSummaries = args.contains(QStringLiteral("--without-summaries"));
    for (int i = 1; i + 1 < args.size(); ++i) {
        if (args.at(i) == QLatin1String("--users"))
            users = args.at(i + 1).toInt();
        else if (args.at(i) == QLatin1String("--distinct"))
            distinct = args.at(i + 1).toInt();
        else if (args.at(i) == QLatin1String("--prepare"))
            prepareDir = args.at(i + 1);
        else if (args.at(i) == QLatin1String("--keep"))
            keepDir = args.at(i + 1);
    }
    if (users < 1) {
        std::fprintf(
            stderr,
            "usage: bench_console_start [--users N] [--distinct D] [--without-summaries] [--keep DIR]\n");
        return 2;
    }
    if (distinct < 1 || distinct > users)
        distinct = users;
    if (!prepareDir.isEmpty())
        return prepare(prepareDir, users, distinct, withoutSummaries);

    QTemporaryDir temporary;
    const QString dirPath = keepDir.isEmpty() ? temporary.path() : keepDir;
    QElapsedTimer clock;
    clock.start();
    if (!keepDir.isEmpty() && QFileInfo::exists(QDir(keepDir).filePath(QStringLiteral("certsync.db")))) {
        std::printf("state database reused from %s\n", qPrintable(keepDir));
    } else {
        if (!keepDir.isEmpty() && !QDir().mkpath(keepDir))
            return 1;
        QProcess child;
        child.setProcessChannelMode(QProcess::ForwardedChannels);
        QStringList childArguments { QStringLiteral("--prepare"),  dirPath,
                                     QStringLiteral("--users"),    QString::number(users),
                                     QStringLiteral("--distinct"), QString::number(distinct) };
        if (withoutSummaries)
            childArguments.append(QStringLiteral("--without-summaries"));
        child.start(QCoreApplication::applicationFilePath(), childArguments);
        if (!child.waitForFinished(-1) || child.exitCode() != 0) {
            std::fprintf(stderr, "bench_console_start: preparing the state database failed\n");
            return 1;
        }
        std::printf("state database of %d users (%d distinct certificates) made in %.1f s\n", users, distinct,
                    double(clock.elapsed()) / 1000.0);
    }

    directory::DirectoryReadSettings settings;
    settings.profile = benchProfile();
    settings.trust = trustFrom(dirPath);
    if (!settings.trust)
        return 1;
    ui::MainWindow window;
    window.setStatePath(QDir(dirPath).filePath(QStringLiteral("certsync.db")));
    window.setDirectorySettings(settings);
    window.resize(1280, 800);
    window.show();
    if (!QTest::qWaitForWindowExposed(&window))
        return 1;
    clock.restart();
    const double cpuBefore = cpuMs();
    int shown = -1;
    QEventLoop loop;
    QObject::connect(&window, &ui::MainWindow::storedDirectoryShown, &loop, [&](int count) {
        shown = count;
        loop.quit();
    });
    QString notShown;
    QObject::connect(&window, &ui::MainWindow::storedDirectoryNotShown, &loop, [&](const QString &reason) {
        notShown = reason;
        loop.quit();
    });
    window.showStoredDirectory();
    loop.exec();
    if (!notShown.isEmpty()) {
        std::fprintf(stderr, "bench_console_start: the stored snapshot was not shown: %s\n",
                     qPrintable(notShown));
        return 1;
    }
    QTableView *table = window.usersPane()->table();
    table->viewport()->repaint(); // the first rows painted
    const double firstRows = double(clock.nsecsElapsed()) / 1e6;
    const double firstRowsCpu = cpuMs() - cpuBefore;
    auto *search = window.findChild<QLineEdit *>(QStringLiteral("userSearch"));
    const QString wanted = QStringLiteral("user%1@").arg(users / 2 + 1);
    search->setText(wanted);
    table->viewport()->repaint();
    const double filterable = double(clock.nsecsElapsed()) / 1e6;
    const int matched = window.usersPane()->proxy()->rowCount();
    std::printf("users shown: %d (filter '%s' leaves %d)\n", shown, qPrintable(wanted), matched);
    std::printf("time to first shown rows: %.0f ms (CPU of the console process meanwhile: %.0f ms)\n",
                firstRows, firstRowsCpu);
    std::printf("time to filterable (first rows + one keystroke): %.0f ms\n", filterable);
    std::printf("peak memory (console process): %.0f MB\n", peakMb());
    return shown == users && matched == 1 ? 0 : 1;
}
