// The diff: matching, the per-user policy, routing and the helpdesk warnings, table-driven over
// plain data; and the plan store: items, decisions, journal, staleness and audit.
#include "EngineTestData.h"

#include "certs/Certificate.h"
#include "core/Operator.h"
#include "engine/PlanStore.h"

#include <QSqlQuery>

#include <QTemporaryDir>
#include <QTest>

#include <grp.h>
#include <unistd.h>

using namespace certsync;
using namespace certsync::engine;
using namespace certsync::testing;
using certs::Problem;

namespace {

QStringList names(const QList<Value> &values)
{
    // Maps digests back to the value names of EngineTestData (value:<name>).
    QStringList out;
    for (const Value &v : values) {
        bool found = false;
        for (int i = 0; i < 64 && !found; ++i) {
            for (const QString &prefix : { QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c"),
                                           QStringLiteral("d"), QStringLiteral("v") }) {
                const QString n = prefix + QString::number(i);
                if (shaOf(rawOf(n)) == v.sha256) {
                    out.append(n);
                    found = true;
                    break;
                }
            }
        }
        if (!found)
            out.append(QStringLiteral("?"));
    }
    return out;
}

QStringList reasonsOf(const QList<DroppedValue> &dropped)
{
    QStringList out;
    for (const DroppedValue &d : dropped)
        out.append(names({ d.value }).first() + QLatin1Char('=') + dropReasonName(d.reason));
    return out;
}

DiffResult diffOf(const QList<directory::DirectoryUser> &dir, const QList<PublishedUser> &ten,
                  const PolicySettings &settings = {}, bool parallel = true)
{
    DiffInput in;
    in.directory = &dir;
    in.tenant = &ten;
    in.settings = settings;
    in.parallel = parallel;
    return computeDiff(in);
}

// Everything a plan is made of, as text, to compare two diffs.
QStringList describe(const DiffResult &r)
{
    QStringList out { QStringLiteral("matched %1 by fallback %2 removed %3 added %4")
                          .arg(r.matched)
                          .arg(r.matchedByFallback)
                          .arg(r.removedValues)
                          .arg(r.addedValues) };
    for (const PlanItem &i : r.items)
        out.append(QStringLiteral("item %1 %2 old %3 new %4 removed %5 added %6 %7")
                       .arg(i.number)
                       .arg(i.key(), names(i.oldValues).join(QLatin1Char(',')),
                            names(i.newValues).join(QLatin1Char(',')),
                            names(i.removed).join(QLatin1Char(',')), names(i.added).join(QLatin1Char(',')),
                            i.reasons.join(QLatin1Char(','))));
    for (const Warning &w : r.warnings)
        out.append(QStringLiteral("warning %1 %2 %3").arg(w.userKey, warningKindName(w.kind), w.message));
    for (const AwaitingEntraConnect &a : r.awaiting)
        out.append(QStringLiteral("awaiting %1 %2 %3 %4")
                       .arg(a.userKey, itemAttributeName(a.attribute))
                       .arg(a.missing)
                       .arg(a.extra));
    for (const UnmatchedDirectoryUser &u : r.unmatchedDirectory)
        out.append(QStringLiteral("unmatched %1 %2").arg(u.dn, u.reason));
    return out;
}

} // namespace

class TestEngine : public QObject
{
    Q_OBJECT
private slots:
    void policy_data();
    void policy();
    void capKeepsTheNewestFifteen();
    void matching_data();
    void matching();
    void routing_data();
    void routing();
    void certificateUserIds();
    void warnings_data();
    void warnings();
    void itemsAreSortedByStableKeys();
    void smimeCollectionAddsOnlyMissingIssuers();
    void largeDiffOnTwoCoresEqualsOneCore();
    void planStoreRoundTrip();
    void decisionsAndJournal();
    void newPlanMakesOlderOnesStale();
    void fourEyes();
    void auditTrailIsAHashChain();
    void guardSettingsAreRecordedWhenTheyChange();
};

void TestEngine::policy_data()
{
    QTest::addColumn<QList<CertSpec>>("values");
    QTest::addColumn<bool>("dropExpired");
    QTest::addColumn<bool>("requireSuitable");
    QTest::addColumn<QStringList>("kept");
    QTest::addColumn<QStringList>("dropped");

    QTest::newRow("all good, newest first")
        << QList<CertSpec> { { QStringLiteral("v1"), 100 },
                             { QStringLiteral("v2"), 300 },
                             { QStringLiteral("v3"), 200 } }
        << true << false << QStringList { QStringLiteral("v2"), QStringLiteral("v3"), QStringLiteral("v1") }
        << QStringList {};
    QTest::newRow("expired dropped") << QList<CertSpec> { { QStringLiteral("v1"), -1 },
                                                          { QStringLiteral("v2"), 10 } }
                                     << true << false << QStringList { QStringLiteral("v2") }
                                     << QStringList { QStringLiteral("v1=expired") };
    QTest::newRow("expired kept when configured")
        << QList<CertSpec> { { QStringLiteral("v1"), -1 }, { QStringLiteral("v2"), 10 } } << false << false
        << QStringList { QStringLiteral("v2"), QStringLiteral("v1") } << QStringList {};
    QTest::newRow("revoked dropped") << QList<CertSpec> { { QStringLiteral("v1"), 50, { Problem::Revoked } },
                                                          { QStringLiteral("v2"), 10 } }
                                     << true << false << QStringList { QStringLiteral("v2") }
                                     << QStringList { QStringLiteral("v1=revoked") };
    QTest::newRow("unparseable dropped")
        << QList<CertSpec> { { QStringLiteral("v1"), 50, {}, {}, true }, { QStringLiteral("v2"), 10 } }
        << true << false << QStringList { QStringLiteral("v2") }
        << QStringList { QStringLiteral("v1=parse_error") };
    QTest::newRow("duplicate certificate: the value kept is the first by date, then digest")
        << QList<CertSpec> { { QStringLiteral("v1"), 50, {}, QStringLiteral("same") },
                             { QStringLiteral("v2"), 50, {}, QStringLiteral("same") },
                             { QStringLiteral("v3"), 10 } }
        << true << false
        << QStringList { shaOf(rawOf(QStringLiteral("v1"))) < shaOf(rawOf(QStringLiteral("v2")))
                             ? QStringLiteral("v1")
                             : QStringLiteral("v2"),
                         QStringLiteral("v3") }
        << QStringList { (shaOf(rawOf(QStringLiteral("v1"))) < shaOf(rawOf(QStringLiteral("v2")))
                              ? QStringLiteral("v2")
                              : QStringLiteral("v1"))
                         + QStringLiteral("=duplicate") };
    QTest::newRow("unsuitable kept without the filter")
        << QList<CertSpec> { { QStringLiteral("v1"), 50, { Problem::NoEmailProtection } } } << true << false
        << QStringList { QStringLiteral("v1") } << QStringList {};
    QTest::newRow("unsuitable dropped with the filter")
        << QList<CertSpec> { { QStringLiteral("v1"), 50, { Problem::NoEmailProtection } },
                             { QStringLiteral("v2"), 40, { Problem::KeyUsage } },
                             { QStringLiteral("v3"), 30 } }
        << true << true << QStringList { QStringLiteral("v3") }
        << QStringList { QStringLiteral("v1=unsuitable"), QStringLiteral("v2=unsuitable") };
    QTest::newRow("revoked wins over expired as the reason")
        << QList<CertSpec> { { QStringLiteral("v1"), -5, { Problem::Revoked } } } << true << false
        << QStringList {} << QStringList { QStringLiteral("v1=revoked") };
}

void TestEngine::policy()
{
    QFETCH(QList<CertSpec>, values);
    QFETCH(bool, dropExpired);
    QFETCH(bool, requireSuitable);
    QFETCH(QStringList, kept);
    QFETCH(QStringList, dropped);
    const directory::DirectoryUser u = directoryUser(QStringLiteral("alice"), values);
    PolicySettings settings;
    settings.dropExpired = dropExpired;
    settings.requireSmimeSuitable = requireSuitable;
    const DesiredAttribute d = desiredSet(u.values, certs::Attribute::UserCertificate, settings);
    QCOMPARE(names(d.kept), kept);
    QCOMPARE(reasonsOf(d.dropped), dropped);
}

void TestEngine::capKeepsTheNewestFifteen()
{
    // 20 values in directory order with dates that do not follow it: the cap keeps the 15 with the
    // latest notAfter, newest first, and names the 5 oldest over_limit in directory order.
    QList<CertSpec> specs;
    const QList<int> days = { 40,  200, 10, 170, 90,  130, 20,  190, 60,  110,
                              150, 30,  80, 180, 120, 50,  160, 70,  100, 140 };
    for (int i = 0; i < days.size(); ++i)
        specs.append({ QStringLiteral("v%1").arg(i), days.at(i) });
    const directory::DirectoryUser u = directoryUser(QStringLiteral("bob"), specs);
    const DesiredAttribute d = desiredSet(u.values, certs::Attribute::UserCertificate, {});
    QCOMPARE(d.kept.size(), 15);
    QStringList expectedKept;
    QList<int> order;
    for (int i = 0; i < days.size(); ++i)
        order.append(i);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return days.at(a) > days.at(b); });
    for (int i = 0; i < 15; ++i)
        expectedKept.append(QStringLiteral("v%1").arg(order.at(i)));
    QCOMPARE(names(d.kept), expectedKept);
    QCOMPARE(reasonsOf(d.dropped),
             (QStringList { QStringLiteral("v0=over_limit"), QStringLiteral("v2=over_limit"),
                            QStringLiteral("v6=over_limit"), QStringLiteral("v11=over_limit"),
                            QStringLiteral("v15=over_limit") }));
    for (int i = 1; i < d.kept.size(); ++i)
        QVERIFY(d.kept.at(i - 1).notAfter >= d.kept.at(i).notAfter);
}

void TestEngine::matching_data()
{
    QTest::addColumn<QString>("scenario");
    QTest::addColumn<QString>("expected"); // method name, or "unmatched:<reason>"
    QTest::newRow("anchor") << QStringLiteral("anchor") << QStringLiteral("source_anchor");
    QTest::newRow("consistency guid") << QStringLiteral("consistency") << QStringLiteral("consistency_guid");
    QTest::newRow("upn fallback") << QStringLiteral("upn") << QStringLiteral("upn");
    QTest::newRow("upn is case-insensitive") << QStringLiteral("upn-case") << QStringLiteral("upn");
    QTest::newRow("upn is case-insensitive beyond ASCII")
        << QStringLiteral("upn-unicode") << QStringLiteral("upn");
    QTest::newRow("mail fallback") << QStringLiteral("mail") << QStringLiteral("mail");
    QTest::newRow("mail is case-insensitive") << QStringLiteral("mail-case") << QStringLiteral("mail");
    QTest::newRow("anchored tenant user is not taken by upn")
        << QStringLiteral("anchor-mismatch") << QStringLiteral("unmatched:anchor_mismatch");
    QTest::newRow("ambiguous mail") << QStringLiteral("ambiguous-mail")
                                    << QStringLiteral("unmatched:ambiguous_mail");
    QTest::newRow("nobody") << QStringLiteral("nobody") << QStringLiteral("unmatched:no_tenant_user");
}

void TestEngine::matching()
{
    QFETCH(QString, scenario);
    QFETCH(QString, expected);
    directory::DirectoryUser u = directoryUser(QStringLiteral("carol"), { { QStringLiteral("a1"), 100 } });
    if (scenario == QLatin1String("upn-unicode"))
        u.userPrincipalName = QStringLiteral("J\u00dcRGEN.\u00d6ZT\u00dcRK@corp.test");
    QList<PublishedUser> ten;
    PolicySettings settings;
    PublishedUser p = publishedUser(u, TenantKind::Synced, { QStringLiteral("a1") });
    if (scenario == QLatin1String("consistency")) {
        u.consistencyGuid = QStringLiteral("Y29uc2lzdGVuY3k=");
        p.user.onPremisesImmutableId = u.consistencyGuid;
        settings.consistencyGuidAnchor = true;
    } else if (scenario.startsWith(QLatin1String("upn")) || scenario.startsWith(QLatin1String("mail"))
               || scenario == QLatin1String("ambiguous-mail")) {
        p = publishedUser(u, TenantKind::CloudMastered, { QStringLiteral("a1") });
        if (scenario == QLatin1String("upn-case"))
            p.user.userPrincipalName = p.user.userPrincipalName.toUpper();
        if (scenario == QLatin1String("upn-unicode"))
            p.user.userPrincipalName = p.user.userPrincipalName.toLower();
        if (scenario.startsWith(QLatin1String("mail")) || scenario == QLatin1String("ambiguous-mail"))
            p.user.userPrincipalName = QStringLiteral("other@cloud.test");
        if (scenario == QLatin1String("mail-case"))
            p.user.mail = p.user.mail.toUpper();
        if (scenario == QLatin1String("ambiguous-mail")) {
            PublishedUser twin = p;
            twin.user.id = QStringLiteral("twin");
            twin.user.userPrincipalName = QStringLiteral("twin@cloud.test");
            ten.append(twin);
        }
    } else if (scenario == QLatin1String("anchor-mismatch")) {
        p.user.onPremisesImmutableId = QStringLiteral("c29tZW9uZSBlbHNl");
    } else if (scenario == QLatin1String("nobody")) {
        p.user.onPremisesImmutableId.clear();
        p.user.userPrincipalName = QStringLiteral("x@y");
        p.user.mail = QStringLiteral("x@y");
    }
    ten.prepend(p);
    const DiffResult r = diffOf({ u }, ten, settings);
    if (expected.startsWith(QLatin1String("unmatched:"))) {
        QCOMPARE(r.matched, 0);
        QCOMPARE(r.unmatchedDirectory.size(), 1);
        QCOMPARE(r.unmatchedDirectory.first().reason, expected.mid(10));
        QCOMPARE(r.unmatchedTenant.size(), ten.size());
        QVERIFY(r.items.isEmpty());
    } else {
        QCOMPARE(r.matched, 1);
        QVERIFY(r.unmatchedDirectory.isEmpty());
        QCOMPARE(r.matchedByFallback,
                 expected == QLatin1String("upn") || expected == QLatin1String("mail") ? 1 : 0);
        // Force an item to see the method recorded on it.
        ten.first().userCertificate.clear();
        ten.first().user.onPremisesSyncEnabled = false;
        const DiffResult again = diffOf({ u }, ten, settings);
        QCOMPARE(again.items.size(), 1);
        QCOMPARE(matchMethodName(again.items.first().matchedBy), expected);
    }
}

void TestEngine::routing_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<QList<CertSpec>>("directoryValues");
    QTest::addColumn<QStringList>("published");
    QTest::addColumn<QString>("expected"); // "channel:op:old->new:removed" per item, joined by " / "
    QTest::addColumn<QString>("awaiting"); // "attribute:missing:extra"

    const QList<CertSpec> mixed = { { QStringLiteral("v1"), 100 },
                                    { QStringLiteral("v2"), -3 },
                                    { QStringLiteral("v3"), 300 } };
    QTest::newRow("cloud: replace with the desired set")
        << int(TenantKind::CloudMastered) << mixed
        << QStringList { QStringLiteral("v1"), QStringLiteral("v2") }
        << QStringLiteral("exchange:replace:v1,v2->v3,v1:v2") << QString();
    QTest::newRow("cloud: already right")
        << int(TenantKind::CloudMastered) << mixed
        << QStringList { QStringLiteral("v3"), QStringLiteral("v1") } << QString() << QString();
    QTest::newRow("cloud without recipient: nothing to write")
        << int(TenantKind::CloudWithoutRecipient) << mixed << QStringList {} << QString() << QString();
    QTest::newRow("synced: AD hygiene removes the expired value, tenant awaits Entra Connect")
        << int(TenantKind::Synced) << mixed
        << QStringList { QStringLiteral("v1"), QStringLiteral("v2"), QStringLiteral("v3") }
        << QStringLiteral("directory:remove_values:v1,v2,v3->v1,v3:v2")
        << QStringLiteral("userCertificate:0:1");
    QTest::newRow("synced, Exchange cloud-managed: the AD item and an Exchange item, nothing awaits")
        << int(TenantKind::SyncedCloudManaged) << mixed
        << QStringList { QStringLiteral("v1"), QStringLiteral("v2"), QStringLiteral("v3") }
        << QStringLiteral("exchange:replace:v1,v2,v3->v3,v1:v2 / directory:remove_values:v1,v2,v3->v1,v3:v2")
        << QString();
    QTest::newRow("synced: clean AD, tenant behind")
        << int(TenantKind::Synced) << QList<CertSpec> { { QStringLiteral("v1"), 100 } } << QStringList {}
        << QString() << QStringLiteral("userCertificate:1:0");
    QTest::newRow("synced: parse errors are not deleted from AD")
        << int(TenantKind::Synced)
        << QList<CertSpec> { { QStringLiteral("v1"), 100 }, { QStringLiteral("v2"), 0, {}, {}, true } }
        << QStringList { QStringLiteral("v1"), QStringLiteral("v2") } << QString() << QString();
}

void TestEngine::routing()
{
    QFETCH(int, kind);
    QFETCH(QList<CertSpec>, directoryValues);
    QFETCH(QStringList, published);
    QFETCH(QString, expected);
    QFETCH(QString, awaiting);
    const directory::DirectoryUser u = directoryUser(QStringLiteral("dave"), directoryValues);
    const DiffResult r = diffOf({ u }, { publishedUser(u, TenantKind(kind), published) });
    QStringList items;
    for (const PlanItem &i : r.items) {
        QCOMPARE(i.attribute, ItemAttribute::UserCertificate);
        items.append(QStringLiteral("%1:%2:%3->%4:%5")
                         .arg(channelName(i.channel), operationName(i.operation),
                              names(i.oldValues).join(QLatin1Char(',')),
                              names(i.newValues).join(QLatin1Char(',')),
                              names(i.removed).join(QLatin1Char(','))));
        // What a write needs travels with the item: the bytes of new (Exchange) or removed (LDAP) values.
        for (const Value &v : i.channel == Channel::Exchange ? i.newValues : i.removed)
            QCOMPARE(shaOf(v.bytes), v.sha256);
        QCOMPARE(i.target,
                 i.channel == Channel::Directory ? u.dn : publishedUser(u, TenantKind(kind)).user.id);
        // The Exchange route of a synced user says why it is taken.
        QCOMPARE(i.channel == Channel::Exchange && TenantKind(kind) == TenantKind::SyncedCloudManaged,
                 i.reasons.contains(QStringLiteral("exchange_cloud_managed")));
    }
    QCOMPARE(items.join(QStringLiteral(" / ")), expected);
    QStringList waits;
    for (const AwaitingEntraConnect &a : r.awaiting)
        waits.append(
            QStringLiteral("%1:%2:%3").arg(itemAttributeName(a.attribute)).arg(a.missing).arg(a.extra));
    QCOMPARE(waits.join(QStringLiteral(" / ")), awaiting);
    if (TenantKind(kind) == TenantKind::CloudWithoutRecipient) {
        QCOMPARE(r.warnings.size(), 1);
        QCOMPARE(r.warnings.first().kind, WarningKind::NoRecipient);
    }
}

void TestEngine::certificateUserIds()
{
    const directory::DirectoryUser u = directoryUser(
        QStringLiteral("erin"), { { QStringLiteral("v1"), 100 }, { QStringLiteral("v2"), 300 } });
    PublishedUser cloud =
        publishedUser(u, TenantKind::CloudMastered, { QStringLiteral("v1"), QStringLiteral("v2") });
    cloud.user.certificateUserIds = { QStringLiteral("X509:<PN>erin@certsync.test"),
                                      QStringLiteral("X509:<I>stale<SR>00") };
    PolicySettings settings;
    settings.certificateUserIds = true;
    settings.certificateUserIdForms = IssuerAndSerial | SubjectKeyId;
    DiffResult r = diffOf({ u }, { cloud }, settings);
    QCOMPARE(r.items.size(), 1);
    const PlanItem &item = r.items.first();
    QCOMPARE(item.channel, Channel::Graph);
    QCOMPARE(item.attribute, ItemAttribute::CertificateUserIds);
    QStringList next;
    for (const Value &v : item.newValues)
        next.append(QString::fromUtf8(v.bytes));
    const auto cert = [&](const QString &n) { return shaOf(QStringLiteral("cert:%1").arg(n).toUtf8()); };
    const QString issuer = QStringLiteral("DC=test,DC=certsync,O=Certsync Test,CN=Issuing CA");
    QCOMPARE(next,
             (QStringList {
                 QStringLiteral("X509:<PN>erin@certsync.test"),
                 QStringLiteral("X509:<I>%1<SR>%2")
                     .arg(issuer, QString::fromLatin1(cert(QStringLiteral("v2")).left(8).toHex()).toUpper()),
                 QStringLiteral("X509:<SKI>%1")
                     .arg(QString::fromLatin1(cert(QStringLiteral("v2")).left(20).toHex())),
                 QStringLiteral("X509:<I>%1<SR>%2")
                     .arg(issuer, QString::fromLatin1(cert(QStringLiteral("v1")).left(8).toHex()).toUpper()),
                 QStringLiteral("X509:<SKI>%1")
                     .arg(QString::fromLatin1(cert(QStringLiteral("v1")).left(20).toHex())) }));
    QCOMPARE(item.removed.size(), 1); // the stale <I><SR> value, not the admin's <PN>
    QCOMPARE(QString::fromUtf8(item.removed.first().bytes), QStringLiteral("X509:<I>stale<SR>00"));

    // At most 10, the admin's own values first.
    QList<CertSpec> many;
    for (int i = 0; i < 12; ++i)
        many.append({ QStringLiteral("v%1").arg(i), 10 + i });
    const directory::DirectoryUser big = directoryUser(QStringLiteral("erin"), many);
    r = diffOf({ big }, { cloud }, settings);
    QCOMPARE(r.items.size(), 2); // Exchange (values differ) and Graph
    QCOMPARE(r.items.last().newValues.size(), 10);
    QCOMPARE(QString::fromUtf8(r.items.last().newValues.first().bytes),
             QStringLiteral("X509:<PN>erin@certsync.test"));

    // Synced users: only Entra Connect writes certificateUserIds.
    r = diffOf({ u },
               { publishedUser(u, TenantKind::Synced, { QStringLiteral("v1"), QStringLiteral("v2") }) },
               settings);
    QVERIFY(r.items.isEmpty());
}

void TestEngine::warnings_data()
{
    QTest::addColumn<QList<CertSpec>>("userCertificate");
    QTest::addColumn<QList<CertSpec>>("userSmime");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("stale userSMIMECertificate wins in Outlook")
        << QList<CertSpec> { { QStringLiteral("v1"), 300 } }
        << QList<CertSpec> { { QStringLiteral("v2"), 20 } } << QStringList { QStringLiteral("stale_smime") };
    QTest::newRow("same certificate in both: fine")
        << QList<CertSpec> { { QStringLiteral("v1"), 300, {}, QStringLiteral("same") } }
        << QList<CertSpec> { { QStringLiteral("v2"), 300, {}, QStringLiteral("same") } } << QStringList {};
    QTest::newRow("newer userSMIMECertificate: fine")
        << QList<CertSpec> { { QStringLiteral("v1"), 20 } }
        << QList<CertSpec> { { QStringLiteral("v2"), 300 } } << QStringList {};
    // DOMAIN.md: Outlook takes userSMIMECertificate whenever it holds a certificate, usable or not.
    QTest::newRow("expired userSMIMECertificate: Outlook takes it anyway")
        << QList<CertSpec> { { QStringLiteral("v1"), 300 } }
        << QList<CertSpec> { { QStringLiteral("v2"), -1 } } << QStringList { QStringLiteral("stale_smime") };
    QTest::newRow("newer userCertificate unusable: no warning")
        << QList<CertSpec> { { QStringLiteral("v1"), 300, { Problem::NoEmailProtection } } }
        << QList<CertSpec> { { QStringLiteral("v2"), 20 } } << QStringList {};
    QTest::newRow("only unusable certificates")
        << QList<CertSpec> { { QStringLiteral("v1"), -1 },
                             { QStringLiteral("v2"), 100, { Problem::KeyUsage } },
                             { QStringLiteral("v3"), 0, {}, {}, true } }
        << QList<CertSpec> {} << QStringList { QStringLiteral("no_usable_certificate") };
    QTest::newRow("no certificates at all: nothing to say")
        << QList<CertSpec> {} << QList<CertSpec> {} << QStringList {};
}

void TestEngine::warnings()
{
    QFETCH(QList<CertSpec>, userCertificate);
    QFETCH(QList<CertSpec>, userSmime);
    QFETCH(QStringList, expected);
    const directory::DirectoryUser u = directoryUser(QStringLiteral("frank"), userCertificate, userSmime);
    const QList<directory::DirectoryUser> dir = { u };
    const QList<PublishedUser> ten;
    const DiffResult r = diffOf(dir, ten);
    QStringList kinds;
    for (const Warning &w : r.warnings) {
        kinds.append(warningKindName(w.kind));
        QCOMPARE(w.userKey, u.dn);
        QVERIFY(!w.message.isEmpty());
    }
    QCOMPARE(kinds, expected);
    // The helpdesk view asks the same rule directly (engine::staleSmimeSelection).
    const auto stale = staleSmimeSelection(u.values);
    QCOMPARE(stale.has_value(), expected.contains(QStringLiteral("stale_smime")));
    if (stale) {
        QCOMPARE(stale->smimeNotAfter, EngineNow.addDays(userSmime.first().daysLeft));
        QCOMPARE(stale->userCertificateNotAfter, EngineNow.addDays(userCertificate.first().daysLeft));
    }
}

void TestEngine::itemsAreSortedByStableKeys()
{
    QList<directory::DirectoryUser> dir;
    QList<PublishedUser> ten;
    for (const QString &n : { QStringLiteral("zed"), QStringLiteral("amy"), QStringLiteral("mia") }) {
        dir.append(directoryUser(n, { { QStringLiteral("v1"), 100 } }, { { QStringLiteral("v2"), 200 } }));
        ten.prepend(publishedUser(dir.last(), TenantKind::CloudMastered));
    }
    const DiffResult r = diffOf(dir, ten);
    QStringList keys;
    for (const PlanItem &i : r.items)
        keys.append(QStringLiteral("%1 %2").arg(i.number).arg(i.key()));
    QCOMPARE(keys.size(), 6);
    QVERIFY(keys.first().startsWith(QStringLiteral("1 CN=amy")));
    QVERIFY(keys.first().endsWith(QStringLiteral("|exchange|userCertificate")));
    QVERIFY(keys.at(1).endsWith(QStringLiteral("|exchange|userSMIMECertificate")));
    QVERIFY(keys.last().startsWith(QStringLiteral("6 CN=zed")));
    QCOMPARE(r.addedValues, 6);
    // The same input in another order gives the same plan.
    std::reverse(dir.begin(), dir.end());
    const DiffResult again = diffOf(dir, ten);
    QStringList keys2;
    for (const PlanItem &i : again.items)
        keys2.append(QStringLiteral("%1 %2").arg(i.number).arg(i.key()));
    QCOMPARE(keys2, keys);
}

// Above a few thousand users the per-user policy runs on two cores; the plan must not change.
namespace {

certs::Certificate ca(const QString &subject, const QString &issuer)
{
    certs::Certificate c;
    c.subject = subject;
    c.issuer = issuer;
    c.selfIssued = subject == issuer;
    c.isCa = true;
    c.der = QStringLiteral("der:%1").arg(subject).toUtf8();
    c.sha256 = shaOf(c.der);
    c.notAfter = EngineNow.addYears(5);
    return c;
}

} // namespace

// The collection item adds the bundle's CAs that matched recipients' usable certificates chain to,
// issuer first; keeps what the collection holds; adds nothing outside the bundle or off the chains.
void TestEngine::smimeCollectionAddsOnlyMissingIssuers()
{
    const QString rootName = QStringLiteral("CN=Root CA,O=Certsync Test");
    const QString issuingName = QStringLiteral("CN=Issuing CA,O=Certsync Test,DC=certsync,DC=test");
    const certs::Certificate root = ca(rootName, rootName);
    const certs::Certificate issuing = ca(issuingName, rootName); // EngineTestData's leaves' issuer
    const certs::Certificate theirs = ca(QStringLiteral("CN=Their CA"), QStringLiteral("CN=Their CA"));
    const certs::Certificate unrelated = ca(QStringLiteral("CN=Unrelated"), QStringLiteral("CN=Unrelated"));
    const directory::DirectoryUser alice =
        directoryUser(QStringLiteral("alice"), { { QStringLiteral("a1"), 200 } });
    const QList<directory::DirectoryUser> dir { alice };
    const QList<PublishedUser> ten { publishedUser(alice, TenantKind::CloudMastered) };
    const QList<certs::Certificate> bundle { unrelated, root, issuing };
    auto itemFor = [&](const QList<certs::Certificate> &collection,
                       const QList<directory::DirectoryUser> &users, const QList<PublishedUser> &tenant) {
        DiffInput in;
        in.directory = &users;
        in.tenant = &tenant;
        in.smimeCollection = &collection;
        in.trustBundle = &bundle;
        const DiffResult r = computeDiff(in);
        std::optional<PlanItem> found;
        for (const PlanItem &i : r.items)
            if (i.attribute == ItemAttribute::SmimeIssuingCa)
                found = i;
        return found;
    };
    auto shas = [](const QList<Value> &values) {
        QList<QByteArray> out;
        for (const Value &v : values)
            out << v.sha256;
        return out;
    };

    const auto item = itemFor({ theirs }, dir, ten);
    QVERIFY(item);
    QCOMPARE(item->channel, Channel::Exchange);
    QCOMPARE(item->operation, Operation::Replace);
    QCOMPARE(item->userKey, QString::fromLatin1(SmimeCollectionKey));
    QCOMPARE(shas(item->oldValues), QList<QByteArray> { theirs.sha256 });
    QCOMPARE(shas(item->added), (QList<QByteArray> { issuing.sha256, root.sha256 }));
    QCOMPARE(shas(item->newValues), (QList<QByteArray> { theirs.sha256, issuing.sha256, root.sha256 }));
    QVERIFY(item->removed.isEmpty());
    for (const Value &v : item->newValues)
        QCOMPARE(shaOf(v.bytes), v.sha256); // the DER travels with the item: the upload needs it
    QCOMPARE(item->reasons, QStringList { QStringLiteral("missing_issuer") });
    // Half there: only the root is missing.
    QCOMPARE(shas(itemFor({ issuing }, dir, ten)->added), QList<QByteArray> { root.sha256 });
    // Nothing missing, no usable certificate, no recipient, nobody matched: no item.
    QVERIFY(!itemFor({ root, issuing }, dir, ten));
    const directory::DirectoryUser expired =
        directoryUser(QStringLiteral("alice"), { { QStringLiteral("a1"), -2 } });
    QVERIFY(!itemFor({}, { expired }, { publishedUser(expired, TenantKind::CloudMastered) }));
    QVERIFY(!itemFor({}, dir, { publishedUser(alice, TenantKind::CloudWithoutRecipient) }));
    QVERIFY(!itemFor({}, dir, {}));
    // Without the collection read, the diff stages no such item.
    DiffInput unread;
    unread.directory = &dir;
    unread.tenant = &ten;
    for (const PlanItem &i : computeDiff(unread).items)
        QVERIFY(i.attribute != ItemAttribute::SmimeIssuingCa);
}

void TestEngine::largeDiffOnTwoCoresEqualsOneCore()
{
    QList<directory::DirectoryUser> dir;
    QList<PublishedUser> ten;
    const TenantKind kinds[] = { TenantKind::Synced, TenantKind::CloudMastered,
                                 TenantKind::CloudWithoutRecipient };
    for (int i = 0; i < 6000; ++i) {
        const QString name = QStringLiteral("user%1").arg(i, 5, 10, QLatin1Char('0'));
        dir.append(directoryUser(name, { { QStringLiteral("v1"), 100 }, { QStringLiteral("old"), -10 } },
                                 { { QStringLiteral("v2"), 50 } }));
        if (i % 7 == 3)
            continue; // unmatched
        ten.prepend(publishedUser(dir.last(), kinds[i % 3],
                                  i % 2 ? QStringList { QStringLiteral("v1") } : QStringList {}));
    }
    const DiffResult two = diffOf(dir, ten, {}, true);
    const DiffResult one = diffOf(dir, ten, {}, false);
    QVERIFY(two.items.size() > 1000);
    QVERIFY(!two.warnings.isEmpty() && !two.awaiting.isEmpty() && !two.unmatchedDirectory.isEmpty());
    QCOMPARE(describe(two), describe(one));
}

void TestEngine::planStoreRoundTrip()
{
    QTemporaryDir tmp;
    auto store = store::StateStore::open(tmp.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    QCOMPARE((*store)->schemaVersion(), store::StateStore::latestSchemaVersion());
    PlanStore plans(**store);
    const directory::DirectoryUser u = directoryUser(
        QStringLiteral("gina"), { { QStringLiteral("v1"), 100 }, { QStringLiteral("v2"), -3 } });
    const directory::DirectoryUser s = directoryUser(
        QStringLiteral("hank"), { { QStringLiteral("v1"), 100 }, { QStringLiteral("v2"), -3 } });
    const DiffResult diff = diffOf({ u, s },
                                   { publishedUser(u, TenantKind::CloudMastered, { QStringLiteral("v2") }),
                                     publishedUser(s, TenantKind::Synced) });
    QCOMPARE(diff.items.size(), 2);
    auto id = plans.savePlan(
        diff, PlanSource { QStringLiteral("ldaps://dc"), EngineNow, QStringLiteral("tenant"), EngineNow },
        QStringLiteral("tester"));
    QVERIFY2(id.ok(), qPrintable(id.ok() ? QString() : id.error().message));
    auto summary = plans.plan(*id);
    QVERIFY(summary.ok());
    QCOMPARE(summary->status, QStringLiteral("staged"));
    QCOMPARE(summary->items, 2);
    QCOMPARE(summary->removedValues, 2);
    QCOMPARE(summary->addedValues, 1);
    QCOMPARE(summary->awaiting, 1);
    QCOMPARE(summary->source.directoryReadAt, EngineNow);
    auto items = plans.items(*id);
    QVERIFY(items.ok());
    QCOMPARE(items->size(), 2);
    for (int i = 0; i < 2; ++i) {
        const PlanItem &a = diff.items.at(i);
        const StoredItem &b = items->at(i);
        QCOMPARE(b.item.key(), a.key());
        QCOMPARE(b.item.target, a.target);
        QCOMPARE(b.item.oldValues.size(), a.oldValues.size());
        QCOMPARE(b.item.newValues.size(), a.newValues.size());
        for (int v = 0; v < a.newValues.size(); ++v) {
            QCOMPARE(b.item.newValues.at(v).sha256, a.newValues.at(v).sha256);
            QCOMPARE(b.item.newValues.at(v).bytes, a.newValues.at(v).bytes);
        }
        QCOMPARE(names(b.item.removed), names(a.removed));
        QCOMPARE(b.item.removed.first().bytes, a.removed.first().bytes);
        QCOMPARE(b.decision, Decision::Pending);
        QCOMPARE(b.state, JournalState::Pending);
    }
    auto found = plans.findings(*id);
    QVERIFY(found.ok());
    QCOMPARE(found->size(), 1);
    QCOMPARE(found->first().kind, QStringLiteral("awaiting_entra_connect"));
}

namespace {

// Three cloud-mastered users with nothing published: a plan of three items.
DiffResult threeCloudUsersDiff()
{
    QList<directory::DirectoryUser> dir;
    QList<PublishedUser> ten;
    for (const QString &n : { QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c") }) {
        dir.append(directoryUser(n, { { QStringLiteral("v1"), 100 } }));
        ten.append(publishedUser(dir.last(), TenantKind::CloudMastered));
    }
    return diffOf(dir, ten);
}

} // namespace

void TestEngine::decisionsAndJournal()
{
    QTemporaryDir tmp;
    auto store = store::StateStore::open(tmp.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    PlanStore plans(**store);
    const DiffResult threeUsers = threeCloudUsersDiff();
    auto id = plans.savePlan(threeUsers, {}, QStringLiteral("tester"));
    QVERIFY2(id.ok(), qPrintable(id.ok() ? QString() : id.error().message));
    auto changed =
        plans.decide(*id, { 1, 3 }, Decision::Approved, QStringLiteral("alice"), QStringLiteral("ok"));
    QVERIFY(changed.ok());
    QCOMPARE(*changed, 2);
    changed =
        plans.decide(*id, { 2 }, Decision::Rejected, QStringLiteral("bob"), QStringLiteral("not this one"));
    QCOMPARE(*changed, 1);
    auto bad = plans.decide(*id, { 4 }, Decision::Approved, QStringLiteral("alice"), {});
    QVERIFY(!bad.ok());
    QCOMPARE(bad.error().code, QStringLiteral("no_such_item"));

    QVERIFY(plans.updateJournal(*id, 1, { JournalState::InFlight, true, 0, {}, {}, {}, {} }).ok());
    QVERIFY(
        plans
            .updateJournal(
                *id, 1,
                { JournalState::Applied, false, 200, QStringLiteral("req-1"), QStringLiteral("c-1"), {}, {} })
            .ok());
    // Applied items keep their approval.
    changed = plans.decide(*id, {}, Decision::Rejected, QStringLiteral("carol"), {});
    QCOMPARE(*changed, 1); // only item 3 changes; 1 is applied, 2 already rejected
    auto items = plans.items(*id);
    QCOMPARE(items->at(0).decision, Decision::Approved);
    QCOMPARE(items->at(0).state, JournalState::Applied);
    QCOMPARE(items->at(0).attempts, 1);
    QCOMPARE(items->at(0).httpStatus, 200);
    QCOMPARE(items->at(0).requestId, QStringLiteral("req-1"));
    QCOMPARE(items->at(2).decision, Decision::Rejected);

    auto audit = plans.auditRows(*id);
    QVERIFY(audit.ok());
    QStringList trail;
    for (const AuditRow &a : *audit)
        trail.append(QStringLiteral("%1 %2 %3").arg(a.who, a.action).arg(a.itemNumber));
    QCOMPARE(trail,
             (QStringList { QStringLiteral("tester plan_created 0"), QStringLiteral("alice approve 1"),
                            QStringLiteral("alice approve 3"), QStringLiteral("bob reject 2"),
                            QStringLiteral("carol reject 3") }));
}

void TestEngine::newPlanMakesOlderOnesStale()
{
    QTemporaryDir tmp;
    auto store = store::StateStore::open(tmp.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    PlanStore plans(**store);
    const directory::DirectoryUser u =
        directoryUser(QStringLiteral("ivy"), { { QStringLiteral("v1"), 100 } });
    const DiffResult diff = diffOf({ u }, { publishedUser(u, TenantKind::CloudMastered) });
    auto first = plans.savePlan(diff, {}, QStringLiteral("t"));
    auto second = plans.savePlan(diff, {}, QStringLiteral("t"));
    QVERIFY(first.ok() && second.ok());
    QCOMPARE(plans.plan(*first)->status, QStringLiteral("stale"));
    QCOMPARE(plans.plan(*second)->status, QStringLiteral("staged"));
    QCOMPARE(plans.plans()->size(), 2);
}

// The author of a plan cannot decide on it (also under sudo); another account can; with the rule off
// the author can, and the trail says the rule was off; an approvers list limits who decides.
void TestEngine::fourEyes()
{
    QTemporaryDir tmp;
    auto store = store::StateStore::open(tmp.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    PlanStore plans(**store);
    const DiffResult threeUsers = threeCloudUsersDiff();
    auto id = plans.savePlan(threeUsers, {}, QStringLiteral("alice"));
    QVERIFY(id.ok());
    QCOMPARE(plans.plan(*id)->author, QStringLiteral("alice"));
    for (const QString &self : { QStringLiteral("alice"), QStringLiteral("alice (via sudo)") }) {
        auto refused = plans.decide(*id, { 1 }, Decision::Approved, self, {});
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().code, QStringLiteral("not_allowed"));
        QVERIFY2(refused.error().message.contains(QStringLiteral("alice staged plan")),
                 qPrintable(refused.error().message));
    }
    QCOMPARE(plans.items(*id)->at(0).decision, Decision::Pending);
    QVERIFY(!mayPublish({}, QStringLiteral("alice (via sudo)"), *id, QStringLiteral("alice")).ok());
    QVERIFY(mayPublish({}, QStringLiteral("bob"), *id, QStringLiteral("alice")).ok());

    QCOMPARE(*plans.decide(*id, { 1 }, Decision::Approved, QStringLiteral("bob"), QStringLiteral("ok")), 1);
    ApprovalPolicy single;
    single.requireSecondPerson = false;
    QVERIFY(mayPublish(single, QStringLiteral("alice"), *id, QStringLiteral("alice")).ok());
    QCOMPARE(*plans.decide(*id, { 2 }, Decision::Approved, QStringLiteral("alice"), {}, single), 1);
    const QList<AuditRow> trail = *plans.auditRows(*id);
    QCOMPARE(trail.last().who, QStringLiteral("alice"));
    QCOMPARE(trail.last().detail, fourEyesOffNote());

    ApprovalPolicy listed;
    listed.approvers = { QStringLiteral("carol") };
    auto notListed = plans.decide(*id, { 3 }, Decision::Approved, QStringLiteral("bob"), {}, listed);
    QVERIFY(!notListed.ok());
    QCOMPARE(notListed.error().code, QStringLiteral("not_allowed"));
    QVERIFY(plans.decide(*id, { 3 }, Decision::Approved, QStringLiteral("carol"), {}, listed).ok());
    // Groups as the system's group database has them: this account is in its primary group.
    const QString me = certsync::currentOperator().account;
    const group *primary = getgrgid(getgid());
    QVERIFY(primary);
    QVERIFY(isInGroup(me, QString::fromLocal8Bit(primary->gr_name)));
    QVERIFY(!isInGroup(me, QStringLiteral("certsync-no-such-group")));
    listed.approvers = { QLatin1Char('%') + QString::fromLocal8Bit(primary->gr_name) };
    QVERIFY(plans.decide(*id, { 3 }, Decision::Rejected, me, {}, listed).ok());

    auto people = plans.people(*id);
    QVERIFY(people.ok());
    QCOMPARE(people->author, QStringLiteral("alice"));
    QCOMPARE(people->approvers,
             (QStringList { QStringLiteral("bob"), QStringLiteral("alice"), QStringLiteral("carol") }));
    QCOMPARE(people->rejecters, QStringList { me });
}

// Every row is linked to the one before: a changed, inserted or deleted row is found, and one cut off
// the end is found against the heads the system log kept.
void TestEngine::auditTrailIsAHashChain()
{
    QTemporaryDir tmp;
    const QString path = tmp.filePath(QStringLiteral("certsync.db"));
    auto store = store::StateStore::open(path);
    QVERIFY(store.ok());
    PlanStore plans(**store);
    QList<directory::DirectoryUser> dir { directoryUser(QStringLiteral("a"),
                                                        { { QStringLiteral("v1"), 100 } }) };
    QList<PublishedUser> ten { publishedUser(dir.last(), TenantKind::CloudMastered) };
    auto id = plans.savePlan(diffOf(dir, ten), {}, QStringLiteral("alice"));
    QVERIFY(id.ok());
    QVERIFY(plans.decide(*id, {}, Decision::Approved, QStringLiteral("bob"), QStringLiteral("fine")).ok());
    QVERIFY(plans.audit(QStringLiteral("bob"), QStringLiteral("publish_start"), *id, 0, {}).ok());
    QVERIFY(
        plans.audit(QStringLiteral("bob"), QStringLiteral("publish_end"), *id, 0, QStringLiteral("1 applied"))
            .ok());
    auto check = plans.verifyAudit();
    QVERIFY(check.ok());
    QVERIFY2(check->intact, qPrintable(check->problem));
    QCOMPARE(check->rows, 4);
    QCOMPARE(check->unchained, 0);
    const QList<AuditRow> rows = *plans.auditRows();
    QCOMPARE(check->headHash, rows.last().hash);
    QCOMPARE(rows.last().hash.size(), 64);
    const QList<AuditHead> heads = PlanStore::parseAuditHeads(
        QStringLiteral(
            "Dec 02 10:00:00 host certsync[42]: audit head: trail %1 row %2 sha256 %3 (publish_end "
            "by bob)\nDec 02 10:00:01 host certsync[43]: audit head: trail 0123456789abcdef row 9 "
            "sha256 %4 (approve by carol)\n")
            .arg(rows.first().hash.left(16))
            .arg(rows.last().id)
            .arg(rows.last().hash)
            .arg(QString(64, QLatin1Char('e')))
            .toUtf8());
    QCOMPARE(heads.size(), 2);
    check = plans.verifyAudit(heads);
    QVERIFY(check->intact);
    QCOMPARE(check->externalHeads, 1); // the other head is another state database's
    QCOMPARE(check->otherTrails, 1);

    QSqlQuery q((*store)->database());
    // Someone edits the approval's comment.
    QVERIFY(q.exec(QStringLiteral("UPDATE audit SET detail = 'edited' WHERE action = 'approve'")));
    check = plans.verifyAudit();
    QVERIFY(!check->intact);
    QCOMPARE(check->brokenAt, rows.at(1).id);
    QVERIFY(q.exec(QStringLiteral("UPDATE audit SET detail = 'fine' WHERE action = 'approve'")));
    QVERIFY(plans.verifyAudit()->intact);
    // Someone deletes a row in the middle: the next row no longer links.
    QVERIFY(q.exec(QStringLiteral("DELETE FROM audit WHERE action = 'publish_start'")));
    check = plans.verifyAudit();
    QVERIFY(!check->intact);
    QCOMPARE(check->brokenAt, rows.at(3).id);
    // Cut off at the end instead: the chain itself holds, the system log's head does not.
    QVERIFY(q.exec(QStringLiteral("DELETE FROM audit WHERE id >= %1").arg(rows.at(2).id)));
    QVERIFY(plans.verifyAudit()->intact);
    check = plans.verifyAudit(heads);
    QVERIFY(!check->intact);
    QCOMPARE(check->brokenAt, rows.last().id);
    QVERIFY2(check->problem.contains(QStringLiteral("gone")), qPrintable(check->problem));
}

void TestEngine::guardSettingsAreRecordedWhenTheyChange()
{
    QTemporaryDir tmp;
    auto store = store::StateStore::open(tmp.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    PlanStore plans(**store);
    const QList<QPair<QString, QString>> on = { { QStringLiteral("four-eyes"), QStringLiteral("on") },
                                                { QStringLiteral("staging"), QStringLiteral("off") } };
    QList<QPair<QString, QString>> off = on;
    off[0].second = QStringLiteral("off");
    QCOMPARE(*plans.recordSettings(QStringLiteral("alice"), on), true);
    QCOMPARE(*plans.recordSettings(QStringLiteral("alice"), on), false);
    QCOMPARE(*plans.recordSettings(QStringLiteral("bob"), off), true);
    QCOMPARE(*plans.recordSettings(QStringLiteral("bob"), off), false);
    const QList<AuditRow> rows = *plans.auditRows();
    QCOMPARE(rows.size(), 2);
    QCOMPARE(rows.last().who, QStringLiteral("bob"));
    QCOMPARE(rows.last().action, QStringLiteral("settings_changed"));
    QVERIFY2(rows.last().detail.startsWith(QStringLiteral("changed: four-eyes off (was on)")),
             qPrintable(rows.last().detail));
    QVERIFY(plans.verifyAudit()->intact);
}

QTEST_GUILESS_MAIN(TestEngine)
#include "tst_engine.moc"
