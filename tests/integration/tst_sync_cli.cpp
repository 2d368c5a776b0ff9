// The sync engine end to end through the real `certsync` binary: a seeded Samba AD DC of its own
// (it gets written to) and certsync-tenantsim. diff -> approve -> publish -> diff again; the
// deletion threshold and its override; staging mode; and crash safety: the publishing process is
// killed with SIGKILL at several points, publish is run again, and the simulator's access log and
// state prove that every approved item was applied exactly once and nothing unapproved touched.
#include "DirectoryFixture.h"
#include "SimHarness.h"

#include "TestPki.h"
#include "certs/Certificate.h"
#include "certs/SerializedStore.h"
#include "core/Operator.h"
#include "directory/LdapConnection.h"
#include "engine/Diff.h"
#include "report/CsvWriter.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace certsync;
using namespace certsync::testing;

namespace {

const QString TenantId = QStringLiteral("5a1c2e3f-0b6d-4d7e-8f90-a1b2c3d4e5f6");
const QString ClientId = QStringLiteral("0c5b7e1d-2f3a-4b6c-9d8e-7f6a5b4c3d2e");
const QString Secret = QStringLiteral("engine-suite-secret");
constexpr int WaitMs = 120000;

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    [[nodiscard]] QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

// A self-signed CA of the test's own (the fixture's CA keys live in the seeder's process).
Issued testCa(const QString &name, int keySlot)
{
    CertSpec spec;
    spec.commonName = name;
    spec.ca = true;
    spec.keySlot = keySlot;
    spec.extendedKeyUsage = std::nullopt;
    return TestPki::selfSigned(spec);
}

} // namespace

class TestSyncCli : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void endToEnd();
    void crashSafety();
    void stalePlanIsRechecked();
    void someoneElsesChangeIsAConflict();
    void someoneElsesGraphChangeIsAConflict();
    void revokedSinceThePlanIsNotPublished();
    void onePublisherPerPlan();
    void killedBetweenApplyAndJournalIsResumedOnce();
    void failedAuditStopsThePublish();
    void abandonedAndOldPlans();
    void smimeCollectionGetsTheMissingIssuers();
    void cloudManagedSyncedRecipient_data();
    void cloudManagedSyncedRecipient();

private:
    // A fresh tenant and state folder, a diff, and the plan's items (show --json).
    struct Staged
    {
        QString id;
        QJsonArray items;
        QStringList conn;
    };
    // `trust` and `crl`, when given, replace the fixture's --trust and --crl files.
    Staged stage(SimHarness &sim, const QTemporaryDir &state, const QString &trust = {},
                 const QString &crl = {});
    // Approves the plan's tenant items (not the directory ones); per UPN how many. Empty on failure.
    QHash<QString, int> approveTenantItems(const Staged &st, const QTemporaryDir &state) const;
    QProcessEnvironment env() const;
    QJsonObject tenantSeed() const;
    QStringList connection(const SimHarness &sim) const;
    Run certsync(const QStringList &args, const QProcessEnvironment &extra = {}) const;
    static int appliedWrites(const SimHarness &sim); // Exchange and Graph writes the simulator applied
    static QHash<QString, int> writesByUpn(SimHarness &sim);

    DirectoryFixture m_dir;
    QString m_binary;
    QTemporaryDir m_state;
    QString m_settings; // the suite's settings file: four-eyes off
    QString m_operator; // this account, as certsync records it
    QList<directory::DirectoryUser> m_users;
};

void TestSyncCli::initTestCase()
{
    m_binary = qEnvironmentVariable("CERTSYNC_CLI");
    QVERIFY2(QFileInfo(m_binary).isExecutable(), "CERTSYNC_CLI must name the certsync binary");
    m_dir = DirectoryFixture::fromEnvironment("CERTSYNC_ENGINE_AD_ENV");
    QVERIFY2(m_dir.error.isEmpty(), qPrintable(m_dir.error));
    const ReadOutcome read = readDirectory(m_dir.readSettings(true));
    QVERIFY(read.success && read.snapshot && read.snapshot->complete);
    m_users = read.snapshot->users;
    QVERIFY(m_users.size() >= 6);
    m_settings = m_state.filePath(QStringLiteral("suite.ini"));
    QVERIFY(TestPki::writeFile(m_settings, "[approval]\nrequireSecondPerson=false\n"));
    m_operator = certsync::currentOperator().recorded();
}

// Half the directory users are synced (anchor, values as Entra Connect exported them), half are
// cloud-mastered mail users with nothing published yet; one tenant user has no directory object.
QJsonObject TestSyncCli::tenantSeed() const
{
    QList<QJsonObject> users;
    // Deterministic roles, whatever order the directory answers in: users whose AD values need
    // hygiene and the others each alternate synced / cloud-mastered, the first of each synced.
    QList<directory::DirectoryUser> sorted = m_users;
    std::sort(sorted.begin(), sorted.end(), [](const auto &a, const auto &b) { return a.dn < b.dn; });
    int withHygiene = 0, without = 0;
    for (const directory::DirectoryUser &u : std::as_const(sorted)) {
        if (u.userPrincipalName.isEmpty())
            continue;
        bool needsHygiene = false;
        for (certs::Attribute a :
             { certs::Attribute::UserCertificate, certs::Attribute::UserSmimeCertificate })
            for (const engine::DroppedValue &d : engine::desiredSet(u.values, a, {}).dropped)
                needsHygiene =
                    needsHygiene || (engine::PolicySettings().hygieneReasons & engine::reasonBit(d.reason));
        const bool synced = (needsHygiene ? withHygiene++ : without++) % 2 == 0;
        QJsonObject o { { QStringLiteral("userPrincipalName"), u.userPrincipalName },
                        { QStringLiteral("mail"), u.mail } };
        if (synced) {
            QJsonArray certs, smime;
            for (const QByteArray &b : u.userCertificate)
                certs.append(QString::fromLatin1(b.toBase64()));
            for (const QByteArray &b : u.userSmimeCertificate)
                smime.append(QString::fromLatin1(b.toBase64()));
            o.insert(QStringLiteral("onPremisesImmutableId"), u.sourceAnchor);
            o.insert(QStringLiteral("onPremisesSyncEnabled"), true);
            o.insert(QStringLiteral("recipientTypeDetails"), QStringLiteral("UserMailbox"));
            o.insert(QStringLiteral("userCertificate"), certs);
            o.insert(QStringLiteral("userSMimeCertificate"), smime);
        } else {
            o.insert(QStringLiteral("recipientTypeDetails"), QStringLiteral("MailUser"));
        }
        users.append(o);
    }
    users.append(QJsonObject { { QStringLiteral("userPrincipalName"), QStringLiteral("ghost@cloud.test") },
                               { QStringLiteral("recipientTypeDetails"), QStringLiteral("MailUser") } });
    return SimHarness::seed(TenantId, SimHarness::app(ClientId, Secret, {}), users);
}

QStringList TestSyncCli::connection(const SimHarness &sim) const
{
    return { QStringLiteral("--profile"),
             QStringLiteral("ad"),
             QStringLiteral("--ldap-url"),
             m_dir.value(QStringLiteral("LDAP_URL")),
             QStringLiteral("--base-dn"),
             m_dir.value(QStringLiteral("BASE_DN")),
             QStringLiteral("--bind-dn"),
             m_dir.value(QStringLiteral("ADMIN_DN")),
             QStringLiteral("--password-env"),
             QStringLiteral("CERTSYNC_TEST_LDAP_PW"),
             QStringLiteral("--ca-file"),
             m_dir.value(QStringLiteral("CA_FILE")),
             QStringLiteral("--trust"),
             m_dir.value(QStringLiteral("TRUST_FILE")),
             QStringLiteral("--crl"),
             m_dir.value(QStringLiteral("CRL_FILE")),
             QStringLiteral("--tenant-id"),
             TenantId,
             QStringLiteral("--client-id"),
             ClientId,
             QStringLiteral("--client-secret-env"),
             QStringLiteral("CERTSYNC_TEST_SECRET"),
             QStringLiteral("--authority-url"),
             sim.baseUrl() + QStringLiteral("/{tenant}"),
             QStringLiteral("--graph-url"),
             sim.baseUrl() + QStringLiteral("/v1.0"),
             QStringLiteral("--exchange-url"),
             sim.baseUrl() + QStringLiteral("/adminapi/beta/{tenant}"),
             QStringLiteral("--tenant-ca-file"),
             sim.caFile(),
             QStringLiteral("--state-dir"),
             m_state.path() };
}

Run TestSyncCli::certsync(const QStringList &args, const QProcessEnvironment &extra) const
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("CERTSYNC_TEST_LDAP_PW"), m_dir.password(true));
    env.insert(QStringLiteral("CERTSYNC_TEST_SECRET"), Secret);
    // One account runs every command here: four-eyes is off in the suite's settings (tst_approvals
    // proves the rule with two real accounts).
    env.insert(QStringLiteral("CERTSYNC_CONFIG"), m_settings);
    env.insert(extra);
    p.setProcessEnvironment(env);
    p.start(m_binary, args);
    Run r;
    if (!p.waitForFinished(WaitMs)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    if (r.exitCode == -1) // a crash or a sanitizer's abort: its report is on stderr, show it
        qWarning("certsync %s crashed; its stderr:\n%s", qPrintable(args.join(QLatin1Char(' '))),
                 r.err.constData());
    return r;
}

int TestSyncCli::appliedWrites(const SimHarness &sim)
{
    int n = 0;
    for (const QStringList &line : sim.accessLog())
        if (line.size() >= 7 && line.at(6) == QLatin1String("applied"))
            ++n;
    return n;
}

QHash<QString, int> TestSyncCli::writesByUpn(SimHarness &sim)
{
    QHash<QString, int> out;
    const QJsonObject state = sim.admin("GET", QStringLiteral("/admin/state"));
    for (const QJsonValue &v : state.value(QStringLiteral("users")).toArray()) {
        const QJsonObject u = v.toObject();
        out.insert(u.value(QStringLiteral("userPrincipalName")).toString().toLower(),
                   u.value(QStringLiteral("exchangeWrites")).toInt()
                       + u.value(QStringLiteral("graphWrites")).toInt());
    }
    // The tenant's S/MIME collection item is labelled like a user: its writes count under its label.
    out.insert(QString::fromLatin1(engine::SmimeCollectionLabel).toLower(),
               state.value(QStringLiteral("smimeConfigWrites")).toInt());
    return out;
}

void TestSyncCli::endToEnd()
{
    SimHarness sim;
    QVERIFY2(sim.start(tenantSeed()), qPrintable(sim.lastError()));
    const QStringList conn = connection(sim);

    Run diff = certsync(QStringList { QStringLiteral("diff"), QStringLiteral("--json") } + conn);
    QVERIFY2(diff.exitCode == 0, diff.err.constData());
    const QJsonObject plan = diff.json();
    const qint64 id = plan.value(QStringLiteral("plan")).toInteger();
    QVERIFY(id > 0);
    const int exchangeItems = plan.value(QStringLiteral("exchange_items")).toInt();
    const int directoryItems = plan.value(QStringLiteral("directory_items")).toInt();
    QVERIFY2(exchangeItems > 0, diff.out.constData());
    QVERIFY2(directoryItems > 0,
             diff.out.constData()); // the seed has expired, revoked, duplicate and >15 values
    QCOMPARE(plan.value(QStringLiteral("unmatched_tenant")).toInt(), 1); // ghost@cloud.test
    QCOMPARE(plan.value(QStringLiteral("tenant_read")).toString(), QStringLiteral("full"));
    QVERIFY(plan.value(QStringLiteral("matched_by_fallback")).toInt() > 0); // cloud users match by UPN
    const int removed = plan.value(QStringLiteral("removed_values")).toInt();
    QVERIFY(removed > 1);
    const QString idText = QString::number(id);

    // Nothing approved: publish touches nothing.
    Run publish =
        certsync(QStringList { QStringLiteral("publish"), idText, QStringLiteral("--json") } + conn);
    QCOMPARE(publish.exitCode, 0);
    QCOMPARE(publish.json().value(QStringLiteral("applied")).toInt(), 0);
    QCOMPARE(publish.json().value(QStringLiteral("unapproved")).toInt(), exchangeItems + directoryItems);
    QCOMPARE(appliedWrites(sim), 0);

    // reject and approve --json: the plan's summary after the decision, and what was decided.
    Run reject = certsync({ QStringLiteral("reject"), idText, QStringLiteral("--item"), QStringLiteral("1"),
                            QStringLiteral("--json"), QStringLiteral("--state-dir"), m_state.path() });
    QVERIFY2(reject.exitCode == 0, reject.err.constData());
    QCOMPARE(reject.json().value(QStringLiteral("plan")).toInteger(), id);
    QCOMPARE(reject.json().value(QStringLiteral("decision")).toString(), QStringLiteral("rejected"));
    QCOMPARE(reject.json().value(QStringLiteral("changed")).toInt(), 1);
    QCOMPARE(reject.json().value(QStringLiteral("rejected")).toInt(), 1);
    QCOMPARE(reject.json().value(QStringLiteral("approved")).toInt(), 0);
    QCOMPARE(reject.json().value(QStringLiteral("requested")).toArray(), QJsonArray { 1 });
    QCOMPARE(reject.json().value(QStringLiteral("who")).toString(), m_operator);

    Run approve = certsync({ QStringLiteral("approve"), idText, QStringLiteral("--all"),
                             QStringLiteral("--comment"), QStringLiteral("reviewed"),
                             QStringLiteral("--json"), QStringLiteral("--state-dir"), m_state.path() });
    QVERIFY2(approve.exitCode == 0, approve.err.constData());
    const int items = plan.value(QStringLiteral("items")).toInt();
    QCOMPARE(approve.json().value(QStringLiteral("decision")).toString(), QStringLiteral("approved"));
    QCOMPARE(approve.json().value(QStringLiteral("changed")).toInt(), items);
    QCOMPARE(approve.json().value(QStringLiteral("approved")).toInt(), items);
    QCOMPARE(approve.json().value(QStringLiteral("rejected")).toInt(), 0);
    QCOMPARE(approve.json().value(QStringLiteral("requested")).toString(), QStringLiteral("all"));
    QCOMPARE(approve.json().value(QStringLiteral("comment")).toString(), QStringLiteral("reviewed"));

    // The deletion threshold refuses, with exit code 4, and nothing is written.
    publish = certsync(QStringList { QStringLiteral("publish"), idText,
                                     QStringLiteral("--deletion-threshold"), QStringLiteral("1") }
                       + conn);
    QCOMPARE(publish.exitCode, 4);
    QVERIFY(publish.err.contains("deletion threshold"));
    QCOMPARE(appliedWrites(sim), 0);

    // Staging mode computes and writes nothing.
    QProcessEnvironment staging;
    staging.insert(QStringLiteral("CERTSYNC_STAGING"), QStringLiteral("1"));
    publish =
        certsync(QStringList { QStringLiteral("publish"), idText, QStringLiteral("--json") } + conn, staging);
    QCOMPARE(publish.exitCode, 0);
    QCOMPARE(publish.json().value(QStringLiteral("staging")).toBool(), true);
    QCOMPARE(publish.json().value(QStringLiteral("applied")).toInt(), 0);
    QCOMPARE(appliedWrites(sim), 0);

    // The explicit override: everything approved is applied, once.
    publish = certsync(QStringList { QStringLiteral("publish"), idText,
                                     QStringLiteral("--deletion-threshold"), QStringLiteral("1"),
                                     QStringLiteral("--allow-deletions"), QStringLiteral("--json") }
                       + conn);
    QVERIFY2(publish.exitCode == 0, publish.err.constData());
    QCOMPARE(publish.json().value(QStringLiteral("applied")).toInt(), exchangeItems + directoryItems);
    QCOMPARE(publish.json().value(QStringLiteral("failed")).toInt(), 0);
    QCOMPARE(appliedWrites(sim), exchangeItems);

    Run show = certsync({ QStringLiteral("show"), idText, QStringLiteral("--json"),
                          QStringLiteral("--state-dir"), m_state.path() });
    QCOMPARE(show.exitCode, 0);
    QCOMPARE(show.json().value(QStringLiteral("status")).toString(), QStringLiteral("published"));
    for (const QJsonValue &v : show.json().value(QStringLiteral("item_list")).toArray()) {
        QCOMPARE(v.toObject().value(QStringLiteral("state")).toString(), QStringLiteral("applied"));
        QCOMPARE(v.toObject().value(QStringLiteral("attempts")).toInt(), 1);
    }

    // A second diff: nothing left for cloud-mastered users, AD hygiene done for synced ones (the
    // simulator has no Entra Connect, so their tenant values still wait for it).
    diff = certsync(QStringList { QStringLiteral("diff"), QStringLiteral("--json") } + conn);
    QVERIFY2(diff.exitCode == 0, diff.err.constData());
    QCOMPARE(diff.json().value(QStringLiteral("exchange_items")).toInt(), 0);
    QCOMPARE(diff.json().value(QStringLiteral("directory_items")).toInt(), 0);
    QCOMPARE(diff.json().value(QStringLiteral("items")).toInt(), 0);
    QVERIFY(diff.json().value(QStringLiteral("awaiting_entra_connect")).toInt() > 0);
    // Both sides were read incrementally from what the first diff stored: Graph by its delta link,
    // the directory by uSNChanged (the AD hygiene writes are the changes).
    QCOMPARE(diff.json().value(QStringLiteral("tenant_read")).toString(), QStringLiteral("delta"));
    QCOMPARE(diff.json().value(QStringLiteral("directory_read")).toString(), QStringLiteral("incremental"));
    QCOMPARE(diff.json().value(QStringLiteral("directory_users")).toInt(),
             plan.value(QStringLiteral("directory_users")).toInt());
    QVERIFY2(diff.err.contains("changed users merged into the stored snapshot"), diff.err.constData());

    // The audit trail names who approved, the refusal, the staging run and the override.
    const QString csvPath = m_state.filePath(QStringLiteral("audit.csv"));
    Run exported = certsync({ QStringLiteral("export"), QStringLiteral("audit"), QStringLiteral("--csv"),
                              csvPath, QStringLiteral("--state-dir"), m_state.path() });
    QVERIFY2(exported.exitCode == 0, exported.err.constData());
    QFile f(csvPath);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QStringList actions;
    for (const QStringList &row : report::parseCsv(f.readAll()).mid(1)) {
        QCOMPARE(row.at(2), m_operator);
        if (!actions.contains(row.at(3)))
            actions.append(row.at(3));
    }
    for (const QString &a :
         { QStringLiteral("plan_created"), QStringLiteral("approve"), QStringLiteral("publish_refused"),
           QStringLiteral("publish_staging"), QStringLiteral("threshold_override"),
           QStringLiteral("item_applied"), QStringLiteral("publish_end"),
           // every way around a guard: --deletion-threshold 1 differs from the settings' 500, and
           // the suite's settings turned four-eyes off
           QStringLiteral("threshold_changed"), QStringLiteral("settings_changed") })
        QVERIFY2(actions.contains(a), qPrintable(a));
    // The trail is a hash chain, intact after all of the above.
    const Run verify = certsync({ QStringLiteral("audit"), QStringLiteral("verify"), QStringLiteral("--json"),
                                  QStringLiteral("--state-dir"), m_state.path() });
    QVERIFY2(verify.exitCode == 0, verify.err.constData());
    QVERIFY(verify.json().value(QStringLiteral("intact")).toBool());
}

void TestSyncCli::crashSafety()
{
    // A fresh tenant and state; AD was cleaned by endToEnd (or is cleaned here first if run alone).
    QTemporaryDir state;
    SimHarness sim;
    QVERIFY2(sim.start(tenantSeed()), qPrintable(sim.lastError()));
    QStringList conn = connection(sim);
    conn.replace(conn.indexOf(m_state.path()), state.path());

    Run diff = certsync(QStringList { QStringLiteral("diff"), QStringLiteral("--json") } + conn);
    QVERIFY2(diff.exitCode == 0, diff.err.constData());
    const QString idText = QString::number(diff.json().value(QStringLiteral("plan")).toInteger());
    Run show = certsync({ QStringLiteral("show"), idText, QStringLiteral("--json"),
                          QStringLiteral("--state-dir"), state.path() });
    const QJsonArray items = show.json().value(QStringLiteral("item_list")).toArray();
    QVERIFY(items.size() >= 4);

    // Approve the tenant items except those of one user; that user must never be written.
    QString spared;
    QHash<QString, int> expected; // upn -> approved tenant items
    QStringList approveArgs = { QStringLiteral("approve"), idText, QStringLiteral("--state-dir"),
                                state.path() };
    for (const QJsonValue &v : items) {
        const QJsonObject o = v.toObject();
        if (o.value(QStringLiteral("channel")).toString() == QLatin1String("directory"))
            continue;
        const QString upn = o.value(QStringLiteral("label")).toString().toLower();
        if (spared.isEmpty())
            spared = upn;
        if (upn == spared)
            continue;
        expected[upn] += 1;
        approveArgs << QStringLiteral("--item") << QString::number(o.value(QStringLiteral("item")).toInt());
    }
    int approvedCount = 0;
    for (int n : std::as_const(expected))
        approvedCount += n;
    QVERIFY(approvedCount >= 3);
    QCOMPARE(certsync(approveArgs).exitCode, 0);

    // Slow answers keep each write in flight long enough to be killed in the middle of it.
    sim.setFaults(QJsonObject { { QStringLiteral("latencyMs"), 120 } });
    const quint32 seed = QRandomGenerator::global()->generate();
    qInfo() << "kill points seeded with" << seed;
    QRandomGenerator random(seed);
    int kills = 0;
    for (int round = 0; round < qMin(approvedCount, 5); ++round) {
        // Kill at the first "writing" (journal in flight, request leaving) or "applied" (answer in,
        // journal being written) line of this run: each round gets at most one item further.
        const bool onApplied = random.bounded(2) == 1;
        const int k = 1;
        QProcess p;
        p.setProcessEnvironment(env());
        int seen = 0;
        QByteArray buffer;
        connect(&p, &QProcess::readyReadStandardError, &p, [&] {
            buffer += p.readAllStandardError();
            qsizetype nl;
            while ((nl = buffer.indexOf('\n')) >= 0) {
                const QByteArray line = buffer.left(nl);
                buffer.remove(0, nl + 1);
                if (line.contains(onApplied ? ") applied (" : ": writing item") && ++seen == k
                    && p.state() == QProcess::Running)
                    p.kill(); // SIGKILL: no destructor, no journal flush
            }
        });
        p.start(m_binary, QStringList { QStringLiteral("publish"), idText } + conn);
        QVERIFY(p.waitForFinished(WaitMs));
        if (p.exitStatus() == QProcess::CrashExit)
            ++kills;
        qInfo() << "round" << round << (onApplied ? "kill on applied" : "kill on writing") << k
                << (p.exitStatus() == QProcess::CrashExit ? "killed" : "ran to the end");
    }
    QVERIFY(kills >= 3);
    sim.setFaults(QJsonObject { { QStringLiteral("latencyMs"), 0 } });
    Run last = certsync(QStringList { QStringLiteral("publish"), idText, QStringLiteral("--json") } + conn);
    QVERIFY2(last.exitCode == 0, last.err.constData());

    // Exactly once, by the simulator's own count and by its access log.
    const QHash<QString, int> writes = writesByUpn(sim);
    for (auto it = expected.cbegin(); it != expected.cend(); ++it)
        QVERIFY2(writes.value(it.key()) == it.value(),
                 qPrintable(QStringLiteral("%1: %2 writes, %3 approved items")
                                .arg(it.key())
                                .arg(writes.value(it.key()))
                                .arg(it.value())));
    QCOMPARE(writes.value(spared), 0);
    QCOMPARE(appliedWrites(sim), approvedCount);
    int total = 0;
    for (int n : writes)
        total += n;
    QCOMPARE(total, approvedCount);

    show = certsync({ QStringLiteral("show"), idText, QStringLiteral("--json"), QStringLiteral("--state-dir"),
                      state.path() });
    for (const QJsonValue &v : show.json().value(QStringLiteral("item_list")).toArray()) {
        const QJsonObject o = v.toObject();
        const bool approved = o.value(QStringLiteral("decision")).toString() == QLatin1String("approved");
        QCOMPARE(o.value(QStringLiteral("state")).toString(),
                 approved ? QStringLiteral("applied") : QStringLiteral("pending"));
    }
}

void TestSyncCli::stalePlanIsRechecked()
{
    QTemporaryDir state;
    SimHarness sim;
    QVERIFY2(sim.start(tenantSeed()), qPrintable(sim.lastError()));
    QStringList conn = connection(sim);
    conn.replace(conn.indexOf(m_state.path()), state.path());

    Run first = certsync(QStringList { QStringLiteral("diff"), QStringLiteral("--json") } + conn);
    QVERIFY2(first.exitCode == 0, first.err.constData());
    const QString idText = QString::number(first.json().value(QStringLiteral("plan")).toInteger());
    Run second = certsync(QStringList { QStringLiteral("diff"), QStringLiteral("--json") } + conn);
    QVERIFY2(second.exitCode == 0, second.err.constData());
    Run show = certsync({ QStringLiteral("show"), idText, QStringLiteral("--json"),
                          QStringLiteral("--state-dir"), state.path() });
    QCOMPARE(show.json().value(QStringLiteral("status")).toString(), QStringLiteral("stale"));

    // Someone else changes one cloud user's userCertificate after the plan was computed.
    QString changedUpn;
    int itemsOfChanged = 0;
    QStringList approveArgs = { QStringLiteral("approve"), idText, QStringLiteral("--state-dir"),
                                state.path() };
    int tenantItems = 0;
    for (const QJsonValue &v : show.json().value(QStringLiteral("item_list")).toArray()) {
        const QJsonObject o = v.toObject();
        if (o.value(QStringLiteral("channel")).toString() != QLatin1String("exchange"))
            continue;
        const QString upn = o.value(QStringLiteral("label")).toString().toLower();
        if (changedUpn.isEmpty()
            && o.value(QStringLiteral("attribute")).toString() == QLatin1String("userCertificate"))
            changedUpn = upn;
        if (upn == changedUpn)
            ++itemsOfChanged;
        ++tenantItems;
        approveArgs << QStringLiteral("--item") << QString::number(o.value(QStringLiteral("item")).toInt());
    }
    QVERIFY(!changedUpn.isEmpty());
    QCOMPARE(certsync(approveArgs).exitCode, 0);
    const QJsonObject upsert = sim.admin(
        "POST", QStringLiteral("/admin/users"),
        QJsonObject {
            { QStringLiteral("userPrincipalName"), changedUpn },
            { QStringLiteral("userCertificate"),
              QJsonArray { QString::fromLatin1(QByteArray("someone else's value").toBase64()) } } });
    QVERIFY2(!upsert.contains(QStringLiteral("error")),
             qPrintable(upsert.value(QStringLiteral("error")).toString()));

    // The stale plan reads every target first: the changed one is a conflict, the others are applied.
    Run publish =
        certsync(QStringList { QStringLiteral("publish"), idText, QStringLiteral("--json") } + conn);
    QCOMPARE(publish.exitCode, 3);
    QCOMPARE(publish.json().value(QStringLiteral("conflicts")).toInt(), 1);
    QCOMPARE(publish.json().value(QStringLiteral("failed")).toInt(), 0);
    QCOMPARE(publish.json().value(QStringLiteral("applied")).toInt(), tenantItems - 1);
    QCOMPARE(writesByUpn(sim).value(changedUpn), itemsOfChanged - 1);
    show = certsync({ QStringLiteral("show"), idText, QStringLiteral("--json"), QStringLiteral("--state-dir"),
                      state.path() });
    QCOMPARE(show.json().value(QStringLiteral("status")).toString(), QStringLiteral("partial"));
    int conflicts = 0;
    for (const QJsonValue &v : show.json().value(QStringLiteral("item_list")).toArray()) {
        const QJsonObject o = v.toObject();
        if (o.value(QStringLiteral("state")).toString() != QLatin1String("conflict"))
            continue;
        ++conflicts;
        QCOMPARE(o.value(QStringLiteral("label")).toString().toLower(), changedUpn);
        QVERIFY(o.value(QStringLiteral("error")).toString().startsWith(QStringLiteral("the target holds")));
    }
    QCOMPARE(conflicts, 1);
}

QProcessEnvironment TestSyncCli::env() const
{
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    e.insert(QStringLiteral("CERTSYNC_TEST_LDAP_PW"), m_dir.password(true));
    e.insert(QStringLiteral("CERTSYNC_TEST_SECRET"), Secret);
    e.insert(QStringLiteral("CERTSYNC_CONFIG"), m_settings);
    return e;
}

TestSyncCli::Staged TestSyncCli::stage(SimHarness &sim, const QTemporaryDir &state, const QString &trust,
                                       const QString &crl)
{
    Staged st;
    if (!sim.start(tenantSeed())) {
        qWarning("simulator: %s", qPrintable(sim.lastError()));
        return st;
    }
    st.conn = connection(sim);
    st.conn.replace(st.conn.indexOf(m_state.path()), state.path());
    if (!trust.isEmpty())
        st.conn.replace(st.conn.indexOf(QStringLiteral("--trust")) + 1, trust);
    if (!crl.isEmpty())
        st.conn.replace(st.conn.indexOf(QStringLiteral("--crl")) + 1, crl);
    const Run diff = certsync(QStringList { QStringLiteral("diff"), QStringLiteral("--json") } + st.conn);
    if (diff.exitCode != 0) {
        qWarning("diff: %s", diff.err.constData());
        return st;
    }
    st.id = QString::number(diff.json().value(QStringLiteral("plan")).toInteger());
    const Run show = certsync({ QStringLiteral("show"), st.id, QStringLiteral("--json"),
                                QStringLiteral("--state-dir"), state.path() });
    st.items = show.json().value(QStringLiteral("item_list")).toArray();
    return st;
}

QHash<QString, int> TestSyncCli::approveTenantItems(const Staged &st, const QTemporaryDir &state) const
{
    QHash<QString, int> approved;
    QStringList approve = { QStringLiteral("approve"), st.id, QStringLiteral("--state-dir"), state.path() };
    for (const QJsonValue &v : st.items) {
        const QJsonObject o = v.toObject();
        if (o.value(QStringLiteral("channel")).toString() == QLatin1String("directory"))
            continue;
        ++approved[o.value(QStringLiteral("label")).toString().toLower()];
        approve << QStringLiteral("--item") << QString::number(o.value(QStringLiteral("item")).toInt());
    }
    if (certsync(approve).exitCode != 0)
        return {};
    return approved;
}

namespace {

// The state database of a folder, opened beside certsync (SQLite's WAL lets both work).
class StateDb
{
public:
    explicit StateDb(const QString &folder)
        : m_name(QStringLiteral("test-state-%1").arg(QRandomGenerator::global()->generate()))
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
        db.setDatabaseName(folder + QStringLiteral("/certsync.db"));
        m_open = db.open();
    }
    ~StateDb() { QSqlDatabase::removeDatabase(m_name); }
    bool exec(const QString &sql)
    {
        QSqlQuery q(QSqlDatabase::database(m_name));
        const bool ok = m_open && q.exec(sql);
        if (!ok)
            qWarning("%s: %s", qPrintable(sql), qPrintable(q.lastError().text()));
        return ok;
    }

private:
    QString m_name;
    bool m_open = false;
};

QString sha256Hex(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

QJsonObject simUser(SimHarness &sim, const QString &upn)
{
    for (const QJsonValue &v :
         sim.admin("GET", QStringLiteral("/admin/state")).value(QStringLiteral("users")).toArray())
        if (v.toObject()
                .value(QStringLiteral("userPrincipalName"))
                .toString()
                .compare(upn, Qt::CaseInsensitive)
            == 0)
            return v.toObject();
    return {};
}

} // namespace

void TestSyncCli::someoneElsesChangeIsAConflict()
{
    // A synced user gets an expired value in AD, so that the plan has a directory item to remove it.
    QString syncedDn;
    for (const QJsonValue &v : tenantSeed().value(QStringLiteral("users")).toArray())
        if (v.toObject().value(QStringLiteral("onPremisesSyncEnabled")).toBool())
            for (const directory::DirectoryUser &u : std::as_const(m_users))
                if (syncedDn.isEmpty()
                    && u.userPrincipalName.compare(
                           v.toObject().value(QStringLiteral("userPrincipalName")).toString(),
                           Qt::CaseInsensitive)
                        == 0)
                    syncedDn = u.dn;
    QVERIFY(!syncedDn.isEmpty());
    const QString attribute = m_dir.profile().mapping.userCertificate;
    auto admin = directory::LdapConnection::open(m_dir.profile(true), m_dir.password(true));
    QVERIFY2(admin.ok(), admin.ok() ? "" : qPrintable(admin.error().toString()));
    CertSpec expiredSpec = goodLeafSpec(QStringLiteral("conflict-test@certsync.test"));
    expiredSpec.notBeforeDays = -60;
    expiredSpec.notAfterDays = -2;
    expiredSpec.keySlot = 31;
    const QByteArray expired = TestPki::selfSigned(expiredSpec).der;
    CertSpec otherSpec = goodLeafSpec(QStringLiteral("conflict-test@certsync.test"));
    otherSpec.keySlot = 32;
    const QByteArray someoneElses = TestPki::selfSigned(otherSpec).der;
    QVERIFY((*admin)->modifyValues(syncedDn, attribute, {}, { expired }).ok());
    auto cleanUp = qScopeGuard([&] {
        (void)(*admin)->modifyValues(syncedDn, attribute, { expired }, {});
        (void)(*admin)->modifyValues(syncedDn, attribute, { someoneElses }, {});
    });

    QTemporaryDir state;
    SimHarness sim;
    const Staged st = stage(sim, state);
    QVERIFY(!st.id.isEmpty());
    QString exchangeUpn; // a cloud recipient whose userCertificate the plan replaces
    int directoryItem = 0;
    QHash<QString, int> itemsByUpn;
    for (const QJsonValue &v : st.items) {
        const QJsonObject o = v.toObject();
        const QString channel = o.value(QStringLiteral("channel")).toString();
        if (channel == QLatin1String("directory") && o.value(QStringLiteral("user")).toString() == syncedDn)
            directoryItem = o.value(QStringLiteral("item")).toInt();
        if (channel != QLatin1String("exchange"))
            continue;
        const QString upn = o.value(QStringLiteral("label")).toString().toLower();
        ++itemsByUpn[upn];
        if (exchangeUpn.isEmpty()
            && o.value(QStringLiteral("attribute")).toString() == QLatin1String("userCertificate"))
            exchangeUpn = upn;
    }
    QVERIFY2(directoryItem > 0, "the plan has no directory item for the planted expired value");
    QVERIFY(!exchangeUpn.isEmpty());
    QCOMPARE(certsync({ QStringLiteral("approve"), st.id, QStringLiteral("--all"),
                        QStringLiteral("--state-dir"), state.path() })
                 .exitCode,
             0);

    // After the plan, before the publish: another admin adds a certificate to the cloud recipient
    // (as in Exchange), and someone adds one to the synced user in AD.
    const QJsonObject upsert =
        sim.admin("POST", QStringLiteral("/admin/users"),
                  QJsonObject { { QStringLiteral("userPrincipalName"), exchangeUpn },
                                { QStringLiteral("userCertificate"),
                                  QJsonArray { QString::fromLatin1(someoneElses.toBase64()) } } });
    QVERIFY2(!upsert.contains(QStringLiteral("error")),
             qPrintable(upsert.value(QStringLiteral("error")).toString()));
    QVERIFY((*admin)->modifyValues(syncedDn, attribute, {}, { someoneElses }).ok());
    const int writesBefore = writesByUpn(sim).value(exchangeUpn);

    Run publish =
        certsync(QStringList { QStringLiteral("publish"), st.id, QStringLiteral("--json") } + st.conn);
    QVERIFY2(publish.exitCode == 3, publish.err.constData()); // partial: conflicts
    QCOMPARE(publish.json().value(QStringLiteral("conflicts")).toInt(), 2);
    QCOMPARE(publish.json().value(QStringLiteral("failed")).toInt(), 0);

    // The other admin's certificate is still there, nothing was written for that item, and both of
    // AD's values are still there.
    const QJsonArray published = simUser(sim, exchangeUpn).value(QStringLiteral("userCertificate")).toArray();
    QCOMPARE(published, QJsonArray { QString::fromLatin1(someoneElses.toBase64()) });
    QCOMPARE(writesByUpn(sim).value(exchangeUpn) - writesBefore, itemsByUpn.value(exchangeUpn) - 1);
    auto entry = (*admin)->readEntry(syncedDn, { attribute });
    QVERIFY(entry.ok());
    QVERIFY(entry->values(attribute).contains(expired));
    QVERIFY(entry->values(attribute).contains(someoneElses));

    // show names both sets: what the plan saw (old) and what the target held (seen).
    const Run show = certsync({ QStringLiteral("show"), st.id, QStringLiteral("--json"),
                                QStringLiteral("--state-dir"), state.path() });
    QCOMPARE(show.json().value(QStringLiteral("status")).toString(), QStringLiteral("partial"));
    QCOMPARE(show.json().value(QStringLiteral("conflicts")).toInt(), 2);
    int conflicts = 0;
    for (const QJsonValue &v : show.json().value(QStringLiteral("item_list")).toArray()) {
        const QJsonObject o = v.toObject();
        if (o.value(QStringLiteral("state")).toString() != QLatin1String("conflict")) {
            QCOMPARE(o.value(QStringLiteral("state")).toString(), QStringLiteral("applied"));
            continue;
        }
        ++conflicts;
        const QJsonArray seen = o.value(QStringLiteral("seen")).toArray();
        QVERIFY(seen.contains(sha256Hex(someoneElses)));
        QVERIFY(o.contains(QStringLiteral("old")));
    }
    QCOMPARE(conflicts, 2);
    const Run text = certsync({ QStringLiteral("show"), st.id, QStringLiteral("--state-dir"), state.path() });
    QVERIFY2(text.out.contains("conflict: the target holds"), text.out.constData());

    // A conflict is never forced: publishing again writes nothing more.
    const int writesAfter = writesByUpn(sim).value(exchangeUpn);
    publish = certsync(QStringList { QStringLiteral("publish"), st.id, QStringLiteral("--json") } + st.conn);
    QCOMPARE(publish.json().value(QStringLiteral("skipped_conflicts")).toInt(), 2);
    QCOMPARE(writesByUpn(sim).value(exchangeUpn), writesAfter);
}

void TestSyncCli::someoneElsesGraphChangeIsAConflict()
{
    // certificateUserIds for cloud-mastered users (Graph PATCH), turned on in the settings file.
    QTemporaryDir state;
    const QString settings = state.filePath(QStringLiteral("certsync.ini"));
    {
        QFile f(settings);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("[policy]\ncertificateUserIds=issuer-serial\n[approval]\nrequireSecondPerson=false\n");
    }
    SimHarness sim;
    QVERIFY2(sim.start(tenantSeed()), qPrintable(sim.lastError()));
    QStringList conn = connection(sim);
    conn.replace(conn.indexOf(m_state.path()), state.path());
    conn << QStringLiteral("--settings") << settings;
    Run diff = certsync(QStringList { QStringLiteral("diff"), QStringLiteral("--json") } + conn);
    QVERIFY2(diff.exitCode == 0, diff.err.constData());
    const QString id = QString::number(diff.json().value(QStringLiteral("plan")).toInteger());
    Run show = certsync({ QStringLiteral("show"), id, QStringLiteral("--json"), QStringLiteral("--state-dir"),
                          state.path() });
    QStringList approve = { QStringLiteral("approve"), id, QStringLiteral("--state-dir"), state.path() };
    QString changedUpn;
    int graphItems = 0;
    for (const QJsonValue &v : show.json().value(QStringLiteral("item_list")).toArray()) {
        const QJsonObject o = v.toObject();
        if (o.value(QStringLiteral("channel")).toString() != QLatin1String("graph"))
            continue;
        ++graphItems;
        if (changedUpn.isEmpty())
            changedUpn = o.value(QStringLiteral("label")).toString().toLower();
        approve << QStringLiteral("--item") << QString::number(o.value(QStringLiteral("item")).toInt());
    }
    QVERIFY2(graphItems >= 2, show.out.constData());
    QCOMPARE(certsync(approve).exitCode, 0);

    // Another admin sets that user's certificateUserIds in Entra after the plan.
    const QString theirs = QStringLiteral("X509:<PN>%1").arg(changedUpn);
    const QJsonObject upsert =
        sim.admin("POST", QStringLiteral("/admin/users"),
                  QJsonObject { { QStringLiteral("userPrincipalName"), changedUpn },
                                { QStringLiteral("certificateUserIds"), QJsonArray { theirs } } });
    QVERIFY2(!upsert.contains(QStringLiteral("error")),
             qPrintable(upsert.value(QStringLiteral("error")).toString()));

    Run publish = certsync(QStringList { QStringLiteral("publish"), id, QStringLiteral("--json") } + conn);
    QVERIFY2(publish.exitCode == 3, publish.err.constData());
    QCOMPARE(publish.json().value(QStringLiteral("conflicts")).toInt(), 1);
    QCOMPARE(publish.json().value(QStringLiteral("applied")).toInt(), graphItems - 1);
    QCOMPARE(simUser(sim, changedUpn).value(QStringLiteral("certificateUserIds")).toArray(),
             QJsonArray { theirs });
    QCOMPARE(writesByUpn(sim).value(changedUpn), 0);
}

void TestSyncCli::revokedSinceThePlanIsNotPublished()
{
    // A CA of this test's own (the fixture's CA keys live in the seeder's process), trusted next to
    // the fixture's, with a CRL that lists nothing yet.
    QTemporaryDir state;
    const Issued ca = testCa(QStringLiteral("certsync Revocation Test CA"), 41);
    const QString trust = state.filePath(QStringLiteral("trust.pem"));
    const QString crl = state.filePath(QStringLiteral("crl.pem"));
    QFile fixtureTrust(m_dir.value(QStringLiteral("TRUST_FILE")));
    QFile fixtureCrl(m_dir.value(QStringLiteral("CRL_FILE")));
    QVERIFY(fixtureTrust.open(QIODevice::ReadOnly) && fixtureCrl.open(QIODevice::ReadOnly));
    const QByteArray crls = fixtureCrl.readAll();
    QVERIFY(TestPki::writeFile(trust, fixtureTrust.readAll() + ca.pem()));
    QVERIFY(TestPki::writeFile(crl, crls + TestPki::crlPem(ca, {})));

    // A cloud recipient (not synced: written through Exchange) gets a good certificate from that CA
    // in AD, so that the plan publishes it.
    QSet<QString> synced;
    for (const QJsonValue &v : tenantSeed().value(QStringLiteral("users")).toArray())
        if (v.toObject().value(QStringLiteral("onPremisesSyncEnabled")).toBool())
            synced.insert(v.toObject().value(QStringLiteral("userPrincipalName")).toString().toLower());
    const directory::DirectoryUser *cloud = nullptr;
    for (const directory::DirectoryUser &u : std::as_const(m_users))
        if (!cloud && !u.mail.isEmpty() && !u.userPrincipalName.isEmpty()
            && !synced.contains(u.userPrincipalName.toLower()))
            cloud = &u;
    QVERIFY(cloud);
    CertSpec leafSpec = goodLeafSpec(cloud->mail);
    leafSpec.keySlot = 42;
    const Issued leaf = TestPki::issue(leafSpec, ca);
    const QString attribute = m_dir.profile().mapping.userCertificate;
    auto admin = directory::LdapConnection::open(m_dir.profile(true), m_dir.password(true));
    QVERIFY2(admin.ok(), admin.ok() ? "" : qPrintable(admin.error().toString()));
    QVERIFY((*admin)->modifyValues(cloud->dn, attribute, {}, { leaf.der }).ok());
    auto cleanUp = qScopeGuard([&] { (void)(*admin)->modifyValues(cloud->dn, attribute, { leaf.der }, {}); });

    SimHarness sim;
    const Staged st = stage(sim, state, trust, crl);
    QVERIFY(!st.id.isEmpty());
    const QString upn = cloud->userPrincipalName.toLower();
    int revokedItem = 0;
    for (const QJsonValue &v : st.items) {
        const QJsonObject o = v.toObject();
        if (o.value(QStringLiteral("channel")).toString() == QLatin1String("exchange")
            && o.value(QStringLiteral("label")).toString().toLower() == upn
            && o.value(QStringLiteral("added")).toArray().contains(sha256Hex(leaf.der)))
            revokedItem = o.value(QStringLiteral("item")).toInt();
    }
    QVERIFY2(revokedItem > 0, "the plan does not publish the new certificate");
    const QHash<QString, int> approved = approveTenantItems(st, state);
    QVERIFY(approved.value(upn) >= 1);
    int approvedItems = 0;
    for (const int n : approved)
        approvedItems += n;

    // After the approval, the CA revokes the certificate; the CRL file certsync reads says so.
    QVERIFY(TestPki::writeFile(crl, crls + TestPki::crlPem(ca, { &leaf })));
    const int writesBefore = writesByUpn(sim).value(upn);
    const Run publish =
        certsync(QStringList { QStringLiteral("publish"), st.id, QStringLiteral("--json") } + st.conn);
    QVERIFY2(publish.exitCode == 3, publish.err.constData());
    QCOMPARE(publish.json().value(QStringLiteral("conflicts")).toInt(), 1);
    QCOMPARE(publish.json().value(QStringLiteral("failed")).toInt(), 0);
    QCOMPARE(publish.json().value(QStringLiteral("applied")).toInt(), approvedItems - 1);

    // Not in the tenant; the item says why; the next diff under the new CRL does not plan it again.
    const QJsonArray published = simUser(sim, upn).value(QStringLiteral("userCertificate")).toArray();
    QVERIFY(!published.contains(QString::fromLatin1(leaf.der.toBase64())));
    QCOMPARE(writesByUpn(sim).value(upn) - writesBefore, approved.value(upn) - 1);
    const Run show = certsync({ QStringLiteral("show"), st.id, QStringLiteral("--json"),
                                QStringLiteral("--state-dir"), state.path() });
    bool seen = false;
    for (const QJsonValue &v : show.json().value(QStringLiteral("item_list")).toArray())
        if (v.toObject().value(QStringLiteral("item")).toInt() == revokedItem) {
            seen = true;
            QCOMPARE(v.toObject().value(QStringLiteral("state")).toString(), QStringLiteral("conflict"));
            QVERIFY2(
                v.toObject().value(QStringLiteral("error")).toString().contains(QStringLiteral("revoked")),
                qPrintable(v.toObject().value(QStringLiteral("error")).toString()));
        }
    QVERIFY(seen);
    const Run again = certsync(QStringList { QStringLiteral("diff"), QStringLiteral("--json") } + st.conn);
    QVERIFY2(again.exitCode == 0, again.err.constData());
    const QString next = QString::number(again.json().value(QStringLiteral("plan")).toInteger());
    const Run nextShow = certsync({ QStringLiteral("show"), next, QStringLiteral("--json"),
                                    QStringLiteral("--state-dir"), state.path() });
    for (const QJsonValue &v : nextShow.json().value(QStringLiteral("item_list")).toArray())
        QVERIFY(!v.toObject().value(QStringLiteral("added")).toArray().contains(sha256Hex(leaf.der)));
}

void TestSyncCli::onePublisherPerPlan()
{
    QTemporaryDir state;
    SimHarness sim;
    const Staged st = stage(sim, state);
    QVERIFY(!st.id.isEmpty());
    const QHash<QString, int> expected = approveTenantItems(st, state);
    QVERIFY(expected.size() >= 2);

    // Two publishers of the same plan at once (a console and a terminal, or two terminals).
    sim.setFaults(QJsonObject { { QStringLiteral("latencyMs"), 200 } });
    QProcess a, b;
    for (QProcess *p : { &a, &b }) {
        p->setProcessEnvironment(env());
        p->start(m_binary, QStringList { QStringLiteral("publish"), st.id } + st.conn);
    }
    QVERIFY(a.waitForFinished(WaitMs));
    QVERIFY(b.waitForFinished(WaitMs));
    QList<int> codes { a.exitCode(), b.exitCode() };
    std::sort(codes.begin(), codes.end());
    const QByteArray errors = a.readAllStandardError() + b.readAllStandardError();
    QVERIFY2(codes == (QList<int> { 0, 4 }),
             qPrintable(QStringLiteral("exit codes %1 and %2: ").arg(codes.at(0)).arg(codes.at(1))
                        + QString::fromUtf8(errors)));
    QVERIFY2(errors.contains(QByteArray("refused: plan " + st.id.toLatin1() + " is being published by")),
             errors.constData());
    QVERIFY2(errors.contains(" (pid "), errors.constData()); // names the holder's process

    const QHash<QString, int> writes = writesByUpn(sim);
    int total = 0;
    for (auto it = expected.cbegin(); it != expected.cend(); ++it) {
        QVERIFY2(writes.value(it.key()) == it.value(),
                 qPrintable(QStringLiteral("%1: %2 writes for %3 items")
                                .arg(it.key())
                                .arg(writes.value(it.key()))
                                .arg(it.value())));
        total += it.value();
    }
    QCOMPARE(appliedWrites(sim), total);
}

void TestSyncCli::killedBetweenApplyAndJournalIsResumedOnce()
{
    QTemporaryDir state;
    SimHarness sim;
    const Staged st = stage(sim, state);
    QVERIFY(!st.id.isEmpty());
    const QHash<QString, int> expected = approveTenantItems(st, state);
    QVERIFY(!expected.isEmpty());

    // The tenant applies each write at once and holds its answer: the publisher is killed while the
    // write is in the tenant and not yet in its journal.
    sim.setFaults(QJsonObject { { QStringLiteral("holdAppliedWritesMs"), 60000 } });
    QProcess p;
    p.setProcessEnvironment(env());
    p.start(m_binary, QStringList { QStringLiteral("publish"), st.id } + st.conn);
    QTRY_VERIFY_WITH_TIMEOUT(appliedWrites(sim) >= 1, WaitMs);
    p.kill();
    QVERIFY(p.waitForFinished(WaitMs));
    QCOMPARE(p.exitStatus(), QProcess::CrashExit);
    const int appliedAtKill = appliedWrites(sim);
    sim.setFaults(QJsonObject { { QStringLiteral("holdAppliedWritesMs"), 0 } });

    Run again = certsync(QStringList { QStringLiteral("publish"), st.id } + st.conn);
    QVERIFY2(again.exitCode == 0, again.err.constData());
    QVERIFY2(again.err.contains("took over from"), again.err.constData()); // the dead process's claim
    // What the killed run had applied is read back and not written again. (The tenant may still take
    // in a request the dead publisher had sent just before the kill: at least what was counted then.)
    const QRegularExpressionMatch inPlace =
        QRegularExpression(QStringLiteral("(\\d+) already in place")).match(QString::fromUtf8(again.out));
    QVERIFY2(inPlace.hasMatch(), again.out.constData());
    QVERIFY2(inPlace.captured(1).toInt() >= appliedAtKill,
             qPrintable(QStringLiteral("%1 applied at the kill; %2")
                            .arg(appliedAtKill)
                            .arg(QString::fromUtf8(again.out))));

    const QHash<QString, int> writes = writesByUpn(sim);
    int total = 0;
    for (auto it = expected.cbegin(); it != expected.cend(); ++it) {
        QCOMPARE(writes.value(it.key()), it.value());
        total += it.value();
    }
    QCOMPARE(appliedWrites(sim), total);
}

void TestSyncCli::failedAuditStopsThePublish()
{
    QTemporaryDir state;
    SimHarness sim;
    const Staged st = stage(sim, state);
    QVERIFY(!st.id.isEmpty());
    int approved = 0;
    for (const int n : approveTenantItems(st, state))
        approved += n;
    QVERIFY(approved > 0);

    // The audit row of an applied item cannot be written (a full disk, a locked file): the run stops
    // with that reason instead of publishing on without a trail.
    {
        StateDb db(state.path());
        QVERIFY(db.exec(
            QStringLiteral("CREATE TRIGGER no_audit BEFORE INSERT ON audit WHEN NEW.action = "
                           "'item_applied' BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END")));
    }
    Run publish =
        certsync(QStringList { QStringLiteral("publish"), st.id, QStringLiteral("--json") } + st.conn);
    QCOMPARE(publish.exitCode, 1);
    QVERIFY2(publish.err.contains("audit refused by the test"), publish.err.constData());
    QVERIFY(appliedWrites(sim) >= 1); // the tenant has the writes; the journal does not say so
    Run show = certsync({ QStringLiteral("show"), st.id, QStringLiteral("--json"),
                          QStringLiteral("--state-dir"), state.path() });
    for (const QJsonValue &v :
         show.json().value(QStringLiteral("item_list")).toArray()) // journal and audit commit together
        QVERIFY(v.toObject().value(QStringLiteral("state")).toString() != QLatin1String("applied"));

    {
        StateDb db(state.path());
        QVERIFY(db.exec(QStringLiteral("DROP TRIGGER no_audit")));
    }
    publish = certsync(QStringList { QStringLiteral("publish"), st.id, QStringLiteral("--json") } + st.conn);
    QVERIFY2(publish.exitCode == 0, publish.err.constData());
    QCOMPARE(appliedWrites(sim), approved); // the writes of the stopped run were read back, not repeated
}

void TestSyncCli::abandonedAndOldPlans()
{
    QTemporaryDir state;
    SimHarness sim;
    const Staged first = stage(sim, state);
    QVERIFY(!first.id.isEmpty());
    {
        // A publisher died without a trace of its claim: the plan sits in `publishing`.
        StateDb db(state.path());
        QVERIFY(
            db.exec(QStringLiteral("UPDATE plans SET status = 'publishing' WHERE id = %1").arg(first.id)));
    }
    Staged second = first;
    const Run diff = certsync(QStringList { QStringLiteral("diff"), QStringLiteral("--json") } + first.conn);
    QVERIFY2(diff.exitCode == 0, diff.err.constData());
    second.id = QString::number(diff.json().value(QStringLiteral("plan")).toInteger());
    QVERIFY(second.id != first.id);
    Run show = certsync({ QStringLiteral("show"), first.id, QStringLiteral("--json"),
                          QStringLiteral("--state-dir"), state.path() });
    QCOMPARE(show.json().value(QStringLiteral("status")).toString(), QStringLiteral("stale"));

    // A plan older than its lifetime (24 h by default) is published only with every item's
    // directory values read again; without directory settings it is refused.
    {
        StateDb db(state.path());
        QVERIFY(
            db.exec(QStringLiteral("UPDATE plans SET created = '%1' WHERE id = %2")
                        .arg(QDateTime::currentDateTimeUtc().addSecs(-30 * 3600).toString(Qt::ISODateWithMs),
                             second.id)));
    }
    QCOMPARE(certsync({ QStringLiteral("approve"), second.id, QStringLiteral("--all"),
                        QStringLiteral("--state-dir"), state.path() })
                 .exitCode,
             0);
    QStringList tenantOnly = second.conn;
    for (const QString &option :
         { QStringLiteral("--ldap-url"), QStringLiteral("--base-dn"), QStringLiteral("--bind-dn"),
           QStringLiteral("--password-env"), QStringLiteral("--ca-file"), QStringLiteral("--profile") }) {
        const qsizetype at = tenantOnly.indexOf(option);
        tenantOnly.remove(at, 2);
    }
    Run refused = certsync(QStringList { QStringLiteral("publish"), second.id } + tenantOnly);
    QCOMPARE(refused.exitCode, 4);
    QVERIFY2(refused.err.contains("is 30 h old, over the plan lifetime of 24 h"), refused.err.constData());
    QCOMPARE(appliedWrites(sim), 0);

    Run publish = certsync(QStringList { QStringLiteral("publish"), second.id } + second.conn);
    QVERIFY2(publish.exitCode == 0, publish.err.constData());
    QVERIFY2(publish.err.contains("every item is read again in the directory"), publish.err.constData());
}

namespace {

// The SHA-256 hex of each certificate in a serialized store, in its order; empty on a bad store.
QStringList storeDigests(const QByteArray &store)
{
    QStringList out;
    const auto entries = certs::decodeSerializedStore(store);
    if (!entries)
        return { QStringLiteral("bad store: ") + entries.error().message };
    for (const certs::SerializedStoreEntry &e : *entries)
        out << QString::fromLatin1(QCryptographicHash::hash(e.der, QCryptographicHash::Sha256).toHex());
    return out;
}

QStringList strings(const QJsonValue &array)
{
    QStringList out;
    for (const QJsonValue &v : array.toArray())
        out << v.toString();
    return out;
}

} // namespace

// Exchange Online's S/MIME CA collection holds another administrator's CA and not the issuers of the
// directory's certificates: the diff stages one item that adds the trust bundle's CAs those
// certificates chain to and keeps the other CA; approved and published, the simulator holds both;
// a change to the collection after the plan makes the item a conflict and nothing is written.
void TestSyncCli::smimeCollectionGetsTheMissingIssuers()
{
    QTemporaryDir state;
    const Issued theirs = testCa(QStringLiteral("Someone Else's S/MIME CA"), 43);
    const Issued later = testCa(QStringLiteral("A Later S/MIME CA"), 44);
    const QString theirsSha = sha256Hex(theirs.der);

    // The bundle's CAs: the only certificates the item may add.
    QFile trustFile(m_dir.value(QStringLiteral("TRUST_FILE")));
    QVERIFY(trustFile.open(QIODevice::ReadOnly));
    const auto bundle = certs::parseFileBytes(trustFile.readAll());
    QVERIFY(bundle.ok());
    QStringList bundleShas;
    for (const certs::ParsedCertificate &c : *bundle)
        bundleShas << sha256Hex(c.info.der);

    QJsonObject seed = tenantSeed();
    seed.insert(QStringLiteral("smimeCertificateIssuingCA"),
                QString::fromLatin1(certs::encodeSerializedStore({ theirs.der }).toBase64()));
    SimHarness sim;
    QVERIFY2(sim.start(seed), qPrintable(sim.lastError()));
    QStringList conn = connection(sim);
    conn.replace(conn.indexOf(m_state.path()), state.path());
    auto collection = [&] {
        return storeDigests(QByteArray::fromBase64(sim.admin("GET", QStringLiteral("/admin/state"))
                                                       .value(QStringLiteral("smimeCertificateIssuingCA"))
                                                       .toString()
                                                       .toLatin1()));
    };
    QCOMPARE(collection(), QStringList { theirsSha });

    auto stageItem = [&](QString *plan) {
        const Run diff = certsync(QStringList { QStringLiteral("diff"), QStringLiteral("--json") } + conn);
        if (diff.exitCode != 0)
            qWarning("diff: %s", diff.err.constData());
        *plan = QString::number(diff.json().value(QStringLiteral("plan")).toInteger());
        const Run show = certsync({ QStringLiteral("show"), *plan, QStringLiteral("--json"),
                                    QStringLiteral("--state-dir"), state.path() });
        for (const QJsonValue &v : show.json().value(QStringLiteral("item_list")).toArray())
            if (v.toObject().value(QStringLiteral("attribute")).toString()
                == QLatin1String("SMIMECertificateIssuingCA"))
                return v.toObject();
        return QJsonObject();
    };
    QString plan;
    const QJsonObject item = stageItem(&plan);
    QVERIFY2(!item.isEmpty(), "the diff stages no item for the S/MIME collection");
    QCOMPARE(item.value(QStringLiteral("channel")).toString(), QStringLiteral("exchange"));
    QCOMPARE(item.value(QStringLiteral("label")).toString(),
             QStringLiteral("Exchange Online S/MIME CA collection"));
    QCOMPARE(item.value(QStringLiteral("matched_by")).toString(), QStringLiteral("tenant"));
    QCOMPARE(strings(item.value(QStringLiteral("old"))), QStringList { theirsSha });
    QCOMPARE(strings(item.value(QStringLiteral("removed"))), QStringList());
    const QStringList added = strings(item.value(QStringLiteral("added")));
    QVERIFY(!added.isEmpty());
    for (const QString &sha : added)
        QVERIFY2(bundleShas.contains(sha), qPrintable(sha));
    QCOMPARE(strings(item.value(QStringLiteral("new"))), QStringList { theirsSha } + added);
    QCOMPARE(item.value(QStringLiteral("reasons")).toArray(),
             QJsonArray { QStringLiteral("missing_issuer") });
    const QString number = QString::number(item.value(QStringLiteral("item")).toInt());
    const Run text = certsync({ QStringLiteral("show"), plan, QStringLiteral("--state-dir"), state.path() });
    QVERIFY2(text.out.contains(
                 "exchange SMIMECertificateIssuingCA Exchange Online S/MIME CA collection (tenant): -0 +"),
             text.out.constData());

    // Approved and published alone: the simulator holds their CA, then the added ones.
    QCOMPARE(certsync({ QStringLiteral("approve"), plan, QStringLiteral("--item"), number,
                        QStringLiteral("--state-dir"), state.path() })
                 .exitCode,
             0);
    Run publish = certsync(QStringList { QStringLiteral("publish"), plan, QStringLiteral("--json") } + conn);
    QVERIFY2(publish.exitCode == 0, publish.err.constData());
    QCOMPARE(publish.json().value(QStringLiteral("applied")).toInt(), 1);
    QCOMPARE(collection(), QStringList { theirsSha } + added);
    // Nothing is missing any more: the next diff stages no such item.
    QString again;
    QVERIFY(stageItem(&again).isEmpty());

    // Back to their CA alone; a plan is staged and approved; then someone else uploads another CA.
    QVERIFY(!sim.admin("POST", QStringLiteral("/admin/smime-config"),
                       { { QStringLiteral("smimeCertificateIssuingCA"),
                           QString::fromLatin1(certs::encodeSerializedStore({ theirs.der }).toBase64()) } })
                 .contains(QStringLiteral("error")));
    QString conflicted;
    const QJsonObject second = stageItem(&conflicted);
    QVERIFY(!second.isEmpty());
    QCOMPARE(certsync({ QStringLiteral("approve"), conflicted, QStringLiteral("--item"),
                        QString::number(second.value(QStringLiteral("item")).toInt()),
                        QStringLiteral("--state-dir"), state.path() })
                 .exitCode,
             0);
    QVERIFY(!sim.admin("POST", QStringLiteral("/admin/smime-config"),
                       { { QStringLiteral("smimeCertificateIssuingCA"),
                           QString::fromLatin1(
                               certs::encodeSerializedStore({ theirs.der, later.der }).toBase64()) } })
                 .contains(QStringLiteral("error")));
    publish =
        certsync(QStringList { QStringLiteral("publish"), conflicted, QStringLiteral("--json") } + conn);
    QCOMPARE(publish.exitCode, 3);
    QCOMPARE(publish.json().value(QStringLiteral("conflicts")).toInt(), 1);
    QCOMPARE(publish.json().value(QStringLiteral("applied")).toInt(), 0);
    QCOMPARE(collection(), QStringList({ theirsSha, sha256Hex(later.der) })); // not overwritten
    const Run show = certsync({ QStringLiteral("show"), conflicted, QStringLiteral("--json"),
                                QStringLiteral("--state-dir"), state.path() });
    bool seen = false;
    for (const QJsonValue &v : show.json().value(QStringLiteral("item_list")).toArray())
        if (v.toObject().value(QStringLiteral("item")) == second.value(QStringLiteral("item"))) {
            seen = true;
            QCOMPARE(v.toObject().value(QStringLiteral("state")).toString(), QStringLiteral("conflict"));
            QVERIFY2(v.toObject()
                         .value(QStringLiteral("error"))
                         .toString()
                         .startsWith(QStringLiteral("the target holds")),
                     qPrintable(v.toObject().value(QStringLiteral("error")).toString()));
        }
    QVERIFY(seen);
}

// Synced recipients whose Exchange attributes are cloud-managed (IsExchangeCloudManaged): the diff
// plans them through Exchange as well as through AD, each item saying its route. Whether Exchange
// takes the certificate attributes is not documented; the simulator refuses by default, as for any
// synced object, and accepts with --cloud-managed-certificate-writes.
void TestSyncCli::cloudManagedSyncedRecipient_data()
{
    QTest::addColumn<bool>("accepts");
    QTest::newRow("Exchange refuses (the simulator's default)") << false;
    QTest::newRow("Exchange accepts") << true;
}

void TestSyncCli::cloudManagedSyncedRecipient()
{
    QFETCH(bool, accepts);
    QTemporaryDir state;
    QJsonObject seed = tenantSeed();
    QJsonArray users = seed.value(QStringLiteral("users")).toArray();
    QSet<QString> syncedUpns;
    for (qsizetype i = 0; i < users.size(); ++i) {
        QJsonObject u = users.at(i).toObject();
        if (u.value(QStringLiteral("onPremisesSyncEnabled")).toBool()) {
            u.insert(QStringLiteral("isExchangeCloudManaged"), true);
            syncedUpns.insert(u.value(QStringLiteral("userPrincipalName")).toString().toLower());
        }
        users[i] = u;
    }
    seed.insert(QStringLiteral("users"), users);
    SimHarness sim;
    QVERIFY2(sim.start(seed,
                       accepts ? QStringList { QStringLiteral("--cloud-managed-certificate-writes") }
                               : QStringList()),
             qPrintable(sim.lastError()));
    QStringList conn = connection(sim);
    conn.replace(conn.indexOf(m_state.path()), state.path());
    const Run diff = certsync(QStringList { QStringLiteral("diff"), QStringLiteral("--json") } + conn);
    QVERIFY2(diff.exitCode == 0, diff.err.constData());
    const QString plan = QString::number(diff.json().value(QStringLiteral("plan")).toInteger());
    const Run show = certsync({ QStringLiteral("show"), plan, QStringLiteral("--json"),
                                QStringLiteral("--state-dir"), state.path() });
    // Synced, cloud-managed users with values to change get an Exchange item.
    QHash<QString, QJsonObject> exchangeItems;
    QStringList approve = { QStringLiteral("approve"), plan, QStringLiteral("--state-dir"), state.path() };
    for (const QJsonValue &v : show.json().value(QStringLiteral("item_list")).toArray()) {
        const QJsonObject o = v.toObject();
        if (!o.value(QStringLiteral("reasons")).toArray().contains(QStringLiteral("exchange_cloud_managed")))
            continue;
        QCOMPARE(o.value(QStringLiteral("channel")).toString(), QStringLiteral("exchange"));
        exchangeItems.insert(o.value(QStringLiteral("item")).toVariant().toString(), o);
        approve << QStringLiteral("--item") << QString::number(o.value(QStringLiteral("item")).toInt());
    }
    QVERIFY2(!exchangeItems.isEmpty(), show.out.constData());
    // Only synced users get this reason (the suite's AD hygiene was published by endToEnd, so their
    // AD items may be gone; tst_engine's routing table has both routes of one user).
    for (const QJsonObject &o : std::as_const(exchangeItems))
        QVERIFY2(syncedUpns.contains(o.value(QStringLiteral("label")).toString().toLower()),
                 qPrintable(o.value(QStringLiteral("label")).toString()));
    const Run text = certsync({ QStringLiteral("show"), plan, QStringLiteral("--state-dir"), state.path() });
    QVERIFY2(text.out.contains("(exchange_cloud_managed"), text.out.constData());
    QCOMPARE(certsync(approve).exitCode, 0);

    // `check --json` says how the recipient is mastered.
    const QJsonObject any = *exchangeItems.cbegin();
    const Run check =
        certsync(QStringList { QStringLiteral("check"), any.value(QStringLiteral("label")).toString(),
                               QStringLiteral("--json") }
                 + conn);
    QVERIFY2(check.exitCode == 0 || check.exitCode == 5, check.err.constData());
    const QJsonObject tenant = check.json().value(QStringLiteral("tenant")).toObject();
    QCOMPARE(tenant.value(QStringLiteral("synced")).toBool(), true);
    QCOMPARE(tenant.value(QStringLiteral("exchange_cloud_managed")).toBool(), true);

    const QJsonObject before = sim.admin("GET", QStringLiteral("/admin/state"));
    const Run publish =
        certsync(QStringList { QStringLiteral("publish"), plan, QStringLiteral("--json") } + conn);
    const int n = int(exchangeItems.size());
    const QJsonObject after = sim.admin("GET", QStringLiteral("/admin/state"));
    const Run shown = certsync({ QStringLiteral("show"), plan, QStringLiteral("--json"),
                                 QStringLiteral("--state-dir"), state.path() });
    for (const QJsonValue &v : shown.json().value(QStringLiteral("item_list")).toArray()) {
        const QJsonObject o = v.toObject();
        if (!exchangeItems.contains(o.value(QStringLiteral("item")).toVariant().toString()))
            continue;
        if (accepts) {
            QCOMPARE(o.value(QStringLiteral("state")).toString(), QStringLiteral("applied"));
        } else {
            QCOMPARE(o.value(QStringLiteral("state")).toString(), QStringLiteral("failed"));
            QVERIFY2(o.value(QStringLiteral("error"))
                         .toString()
                         .contains(QStringLiteral("being synchronized from your on-premises organization")),
                     qPrintable(o.value(QStringLiteral("error")).toString()));
        }
    }
    if (accepts) {
        QVERIFY2(publish.exitCode == 0, publish.err.constData());
        QCOMPARE(publish.json().value(QStringLiteral("applied")).toInt(), n);
        QVERIFY(before.value(QStringLiteral("users")) != after.value(QStringLiteral("users")));
    } else {
        QVERIFY2(publish.exitCode == 3, publish.err.constData());
        QCOMPARE(publish.json().value(QStringLiteral("failed")).toInt(), n);
        QCOMPARE(publish.json().value(QStringLiteral("applied")).toInt(), 0);
        QCOMPARE(after.value(QStringLiteral("users")),
                 before.value(QStringLiteral("users"))); // nothing written
    }
}

QTEST_GUILESS_MAIN(TestSyncCli)
#include "tst_sync_cli.moc"
