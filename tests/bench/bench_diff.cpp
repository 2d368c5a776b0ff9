// Diff benchmark: computeDiff over N directory users and their tenant counterparts, as plain data
// (no certificate is parsed: the diff's inputs are analysed snapshots). Prints the median of runs.
//   build/release/tests/bench/bench_diff --users 100000
#include "../unit/EngineTestData.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTextStream>

#include <algorithm>
#include <cstdio>
#include <ctime>

using namespace certsync;
using namespace certsync::engine;
using namespace certsync::testing;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    int users = 100000;
    int runs = 5;
    const QStringList args = app.arguments();
    for (int i = 1; i + 1 < args.size(); ++i) {
        if (args.at(i) == QLatin1String("--users"))
            users = args.at(i + 1).toInt();
        else if (args.at(i) == QLatin1String("--runs"))
            runs = args.at(i + 1).toInt();
    }
    // A realistic mix: 70 % synced, 25 % cloud-mastered, 5 % without a recipient; about 2.5 values a
    // user; one user in ten differs from the tenant (an expired value, a renewal not yet published).
    QList<directory::DirectoryUser> dir;
    QList<PublishedUser> ten;
    dir.reserve(users);
    ten.reserve(users);
    for (int i = 0; i < users; ++i) {
        const QString name = QStringLiteral("user%1").arg(i, 6, 10, QLatin1Char('0'));
        const QString a = QStringLiteral("a%1").arg(i), b = QStringLiteral("b%1").arg(i),
                      c = QStringLiteral("c%1").arg(i);
        QList<CertSpec> certs = { CertSpec(a, 100 + i % 300), CertSpec(b, i % 10 == 0 ? -5 : 400) };
        QList<CertSpec> smime;
        if (i % 2 == 0)
            smime.append(CertSpec(c, 500));
        dir.append(directoryUser(name, certs, smime));
        const TenantKind kind = i % 20 == 0 ? TenantKind::CloudWithoutRecipient
            : i % 4 == 1                    ? TenantKind::CloudMastered
                                            : TenantKind::Synced;
        QStringList published = { a, b };
        if (i % 10 == 3)
            published.removeLast(); // the tenant lags behind
        ten.append(
            publishedUser(dir.last(), kind, published, i % 2 == 0 ? QStringList { c } : QStringList {}));
    }
    std::reverse(ten.begin(), ten.end()); // the tenant's order is not the directory's

    DiffInput in;
    in.directory = &dir;
    in.tenant = &ten;
    // Wall time, and the thread's CPU time: on the shared 2-core machine other builds take the cores
    // away, and the CPU time says what the diff itself costs.
    auto cpuMs = [] {
        timespec ts {};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
    };
    QList<double> times, cpu;
    DiffResult last;
    for (int r = 0; r < runs; ++r) {
        QElapsedTimer t;
        t.start();
        const double c0 = cpuMs();
        last = computeDiff(in);
        cpu.append(cpuMs() - c0);
        times.append(double(t.nsecsElapsed()) / 1e6);
    }
    std::sort(times.begin(), times.end());
    std::sort(cpu.begin(), cpu.end());
    QTextStream out(stdout);
    out << "diff of " << users << " users: median " << QString::number(times.at(times.size() / 2), 'f', 1)
        << " ms, best " << QString::number(times.first(), 'f', 1) << " ms wall over " << runs
        << " runs (CPU median " << QString::number(cpu.at(cpu.size() / 2), 'f', 1) << " ms); " << last.matched
        << " matched, " << last.items.size() << " items, " << last.awaiting.size()
        << " awaiting Entra Connect, " << last.warnings.size() << " warnings, " << last.removedValues
        << " values removed\n";
    return last.matched == users ? 0 : 1;
}
