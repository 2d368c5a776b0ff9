// Tenant publish benchmark: N certificate changes (Exchange Set-MailUser / Set-Mailbox with
// UserSMimeCertificate) against certsync-tenantsim's request-rate ceiling, with 429s injected on
// top. Reports how much of the ceiling the client uses and proves nothing was lost or applied
// twice. Not a timed test: run it by hand, see docs/BENCHMARKS.md ("Tenant publish").
#include "SimHarness.h"
#include "TestPki.h"
#include "engine/PlanStore.h"
#include "engine/PublishJob.h"
#include "jobs/Job.h"
#include "store/StateStore.h"
#include "tenant/ExchangeClient.h"
#include "tenant/TenantHttp.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>

using namespace certsync;
using namespace certsync::tenant;
using namespace certsync::testing;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption changesOpt(QStringLiteral("changes"),
                                        QStringLiteral("Certificate changes to publish."),
                                        QStringLiteral("n"), QStringLiteral("2600"));
    const QCommandLineOption limitOpt(QStringLiteral("rate-limit"),
                                      QStringLiteral("Simulator ceiling: requests per window."),
                                      QStringLiteral("n"), QStringLiteral("500"));
    const QCommandLineOption windowOpt(QStringLiteral("rate-window-ms"), QStringLiteral("Simulator window."),
                                       QStringLiteral("ms"), QStringLiteral("10000"));
    const QCommandLineOption throttleOpt(
        QStringLiteral("throttle-rate"),
        QStringLiteral("Share of requests answered 429 on top of the ceiling."), QStringLiteral("p"),
        QStringLiteral("0.05"));
    const QCommandLineOption retryAfterOpt(QStringLiteral("retry-after"),
                                           QStringLiteral("Retry-After of the injected 429s."),
                                           QStringLiteral("s"), QStringLiteral("1"));
    const QCommandLineOption concurrencyOpt(QStringLiteral("concurrency"),
                                            QStringLiteral("Client requests in flight."), QStringLiteral("n"),
                                            QStringLiteral("8"));
    const QCommandLineOption jobOpt(
        QStringLiteral("job"),
        QStringLiteral(
            "Publish through the product's PublishJob (a staged, approved plan in a state database: "
            "journal, compare-and-set reads, claim) instead of ExchangeClient alone."));
    const QCommandLineOption smokeOpt(
        QStringLiteral("smoke"),
        QStringLiteral("Check exactly-once only (inputs too small for a throughput figure)."));
    parser.addOptions(
        { changesOpt, limitOpt, windowOpt, throttleOpt, retryAfterOpt, concurrencyOpt, jobOpt, smokeOpt });
    parser.process(app);
    const int changes = parser.value(changesOpt).toInt();
    const int limit = parser.value(limitOpt).toInt();
    const int windowMs = parser.value(windowOpt).toInt();

    const QString tenantId = QStringLiteral("0b6d6a4c-3f0e-4a8e-9d55-7d2c1f6e2a10");
    const QString clientId = QStringLiteral("bench-app");
    const QString secret = QStringLiteral("bench-secret");
    const StandardPki &pki = StandardPki::instance();
    const Issued certA = TestPki::issue(goodLeafSpec(QStringLiteral("bench@contoso.test")), pki.intermediate);
    const Issued certB =
        TestPki::issue(goodLeafSpec(QStringLiteral("bench@contoso.test")), pki.ecIntermediate);
    const QByteArray smime = TestPki::pkcs7Signed(certA, { &pki.intermediate });

    QList<QJsonObject> users;
    for (int i = 0; i < changes; ++i) {
        const QString upn = QStringLiteral("bench%1@contoso.test").arg(i, 5, 10, QLatin1Char('0'));
        users.append(QJsonObject { { QStringLiteral("userPrincipalName"), upn },
                                   { QStringLiteral("mail"), upn },
                                   { QStringLiteral("recipientTypeDetails"),
                                     i % 2 ? QStringLiteral("MailUser") : QStringLiteral("UserMailbox") },
                                   { QStringLiteral("userSMimeCertificate"),
                                     QJsonArray { QString::fromLatin1(certB.der.toBase64()) } } });
    }
    SimHarness sim;
    if (!sim.start(SimHarness::seed(tenantId, SimHarness::app(clientId, secret, {}), users),
                   { QStringLiteral("--rate-limit"), QString::number(limit),
                     QStringLiteral("--rate-window-ms"), QString::number(windowMs),
                     QStringLiteral("--throttle-rate"), parser.value(throttleOpt),
                     QStringLiteral("--retry-after"), parser.value(retryAfterOpt),
                     QStringLiteral("--random-seed"), QStringLiteral("7") })) {
        std::fprintf(stderr, "bench: %s\n", qPrintable(sim.lastError()));
        return 1;
    }

    TenantSettings settings;
    settings.tenantId = tenantId;
    settings.clientId = clientId;
    settings.clientSecret = secret;
    settings.authorityUrl = sim.baseUrl() + QStringLiteral("/{tenant}");
    settings.graphUrl = sim.baseUrl() + QStringLiteral("/v1.0");
    settings.exchangeUrl = sim.baseUrl() + QStringLiteral("/adminapi/beta/{tenant}");
    settings.caFile = sim.caFile();
    settings.maxConcurrency = parser.value(concurrencyOpt).toInt();
    settings.maxAttempts = 30; // a ceiling makes many 429s per change normal; none may be dropped
    TenantHttp http(settings);
    ExchangeClient exchange(&http);

    // Fetch the token first so that the timing covers publishing only.
    bool tokenOk = false;
    http.token(Service::Exchange, [&](TenantResult<QByteArray> t) {
        tokenOk = t.ok();
        QCoreApplication::exit(0);
    });
    QCoreApplication::exec();
    if (!tokenOk) {
        std::fprintf(stderr, "bench: no token\n");
        return 1;
    }

    const QList<QByteArray> desired { smime };
    int done = 0;
    int failed = 0;
    int confirmedByRead = 0;
    qint64 attempts = 0;
    QElapsedTimer clock;
    QTemporaryDir stateDir;
    if (parser.isSet(jobOpt)) {
        // A staged plan of `changes` Exchange items, every one approved, as `certsync diff` and
        // `approve --all` would leave it; then the product's publish job over it.
        const QString statePath = stateDir.filePath(QStringLiteral("certsync.db"));
        {
            auto store = store::StateStore::open(statePath);
            if (!store) {
                std::fprintf(stderr, "bench: %s\n", qPrintable(store.error().message));
                return 1;
            }
            engine::PlanStore plans(**store);
            engine::DiffResult diff;
            for (int i = 0; i < changes; ++i) {
                engine::PlanItem item;
                item.number = i + 1;
                item.target = QStringLiteral("bench%1@contoso.test").arg(i, 5, 10, QLatin1Char('0'));
                item.userKey = QStringLiteral("cn=%1,dc=contoso,dc=test").arg(item.target);
                item.userLabel = item.target;
                item.channel = engine::Channel::Exchange;
                item.attribute = engine::ItemAttribute::UserSmimeCertificate;
                item.recipientTypeDetails =
                    i % 2 ? QStringLiteral("MailUser") : QStringLiteral("UserMailbox");
                item.oldValues = { engine::valueOf(certB.der) };
                item.newValues = { engine::valueOf(smime) };
                item.removed = item.oldValues;
                item.added = item.newValues;
                diff.items.append(item);
            }
            auto id = plans.savePlan(diff, {}, QStringLiteral("bench"));
            if (!id
                || !plans.decide(*id, {}, engine::Decision::Approved, QStringLiteral("bench-approver"), {})) {
                std::fprintf(stderr, "bench: cannot stage the plan\n");
                return 1;
            }
        }
        engine::PublishSettings ps;
        ps.statePath = statePath;
        ps.planId = 1;
        ps.who = QStringLiteral("bench-publisher"); // not the author: four-eyes
        ps.tenant = settings;
        ps.deletionThreshold = changes;
        engine::PublishOutcome outcome;
        QEventLoop loop;
        jobs::JobRunner runner;
        auto *job = new engine::PublishJob(ps);
        QObject::connect(job, &engine::PublishJob::outcomeReady, &loop,
                         [&](const engine::PublishOutcome &o) { outcome = o; });
        QObject::connect(job, &jobs::Job::finished, &loop, [&](bool, const QString &summary) {
            std::printf("publish job: %s\n", qPrintable(summary));
            loop.quit();
        });
        clock.start();
        runner.run(job);
        loop.exec();
        done = outcome.applied + outcome.confirmedByRead;
        failed = outcome.failed + (changes - done - outcome.failed);
        confirmedByRead = outcome.confirmedByRead;
        attempts = -1; // the job's receipts are in its journal, not counted here
    } else {
        clock.start();
        for (int i = 0; i < changes; ++i) {
            RecipientCertificateChange change;
            change.identity = QStringLiteral("bench%1@contoso.test").arg(i, 5, 10, QLatin1Char('0'));
            change.recipientTypeDetails = i % 2 ? QStringLiteral("MailUser") : QStringLiteral("UserMailbox");
            change.userSMimeCertificate = desired;
            exchange.setCertificates(change, [&](TenantResult<WriteReceipt> r) {
                if (r.ok()) {
                    attempts += r.value().attempts;
                    confirmedByRead += r.value().confirmedByRead;
                } else {
                    ++failed;
                    std::fprintf(stderr, "bench: %s\n", qPrintable(r.error().toString()));
                }
                if (++done == changes)
                    QCoreApplication::exit(0);
            });
        }
        QCoreApplication::exec();
    }
    const double elapsedS = clock.elapsed() / 1000.0;

    // The simulator's side: per-window accepted requests, and the per-user write counters.
    const QJsonObject stats = sim.stats();
    const QJsonArray windows = stats.value(QStringLiteral("windows")).toArray();
    qint64 acceptedFull = 0;
    for (qsizetype i = 0; i + 1 < windows.size(); ++i)
        acceptedFull += windows[i].toObject().value(QStringLiteral("accepted")).toInteger();
    const qsizetype fullWindows = std::max<qsizetype>(0, windows.size() - 1);
    const double perWindow = fullWindows ? double(acceptedFull) / double(limit * fullWindows) : 0;
    // Sustained rate: what the full windows accepted over the time from the first window's start
    // to the last window's start (gaps between windows count against the client).
    const double spanS = fullWindows
        ? (windows.last().toObject().value(QStringLiteral("startMs")).toDouble()
           - windows.first().toObject().value(QStringLiteral("startMs")).toDouble())
            / 1000.0
        : 0;
    const double sustained = spanS > 0 ? (acceptedFull / spanS) / (limit / (windowMs / 1000.0)) : 0;

    const QJsonObject state = sim.admin("GET", QStringLiteral("/admin/state"));
    int appliedOnce = 0;
    int appliedTwice = 0;
    int lost = 0;
    for (const QJsonValue &v : state.value(QStringLiteral("users")).toArray()) {
        const QJsonObject u = v.toObject();
        const int writes = u.value(QStringLiteral("exchangeWrites")).toInt();
        const QJsonArray values = u.value(QStringLiteral("userSMimeCertificate")).toArray();
        const bool inPlace =
            values.size() == 1 && values.first().toString() == QString::fromLatin1(smime.toBase64());
        appliedOnce += writes == 1;
        appliedTwice += writes > 1;
        lost += writes == 0 || !inPlace;
    }

    std::printf("changes %d, rate ceiling %d per %d ms, injected 429 rate %s, concurrency %d\n", changes,
                limit, windowMs, qPrintable(parser.value(throttleOpt)), settings.maxConcurrency);
    if (parser.isSet(jobOpt))
        std::printf("elapsed %.1f s, %.1f changes/s through PublishJob (a compare-and-set read and a write "
                    "per change)\n",
                    elapsedS, changes / elapsedS);
    else
        std::printf(
            "elapsed %.1f s, %.1f changes/s; HTTP attempts %lld (%.2f per change); client saw %d 429s\n",
            elapsedS, changes / elapsedS, attempts, double(attempts) / changes, http.stats().throttled);
    std::printf("simulator: %lld ceiling 429s, %lld injected 429s, %lld windows\n",
                stats.value(QStringLiteral("ceiling429")).toInteger(),
                stats.value(QStringLiteral("injected429")).toInteger(), qint64(windows.size()));
    for (const QJsonValue &w : windows)
        std::printf("  window at %7.1f s: accepted %d, throttled %d\n",
                    w.toObject().value(QStringLiteral("startMs")).toDouble() / 1000.0,
                    w.toObject().value(QStringLiteral("accepted")).toInt(),
                    w.toObject().value(QStringLiteral("throttled")).toInt());
    std::printf("full windows used: %.1f %% of the ceiling; sustained rate: %.1f %% of the ceiling\n",
                perWindow * 100, sustained * 100);
    std::printf("applied once %d, applied twice %d, lost %d, failed %d, confirmed by read %d\n", appliedOnce,
                appliedTwice, lost, failed, confirmedByRead);
    const bool exactlyOnce = failed == 0 && appliedTwice == 0 && lost == 0 && appliedOnce == changes;
    const bool ok = exactlyOnce && (parser.isSet(smokeOpt) || (perWindow >= 0.9 && sustained >= 0.9));
    if (parser.isSet(smokeOpt))
        std::printf("%s\n", ok ? "PASS (smoke): nothing lost, nothing applied twice" : "FAIL");
    else
        std::printf("%s\n",
                    ok ? "PASS: >= 90 % of the ceiling, nothing lost, nothing applied twice" : "FAIL");
    return ok ? 0 : 1;
}
