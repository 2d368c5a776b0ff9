// "Can senders encrypt to this person?": the verdict over a table of cases, one per rule of
// DOMAIN.md (Outlook's pick, the offline address book, the tenant's S/MIME CA collection) and per
// state of the fix (nothing published, published but propagating, a plan item pending).
#include "EngineTestData.h"
#include "engine/Verdict.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QTest>

using namespace certsync;
using namespace certsync::testing;

namespace {

// A compact form of a list of values for the table: "name:days[:problem,problem][=certificate]"
// separated by spaces; `days` is the certificate's days left (negative: expired), `certificate`
// names the certificate inside when another value carries the same one.
QList<CertSpec> specs(const QString &text)
{
    QList<CertSpec> out;
    for (const QString &item : text.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        QString body = item;
        QString certName;
        if (const qsizetype eq = body.indexOf(QLatin1Char('=')); eq >= 0) {
            certName = body.mid(eq + 1);
            body.truncate(eq);
        }
        const QStringList parts = body.split(QLatin1Char(':'));
        if (parts.first() == QLatin1String("invalid")) {
            out << CertSpec(QStringLiteral("invalid%1").arg(out.size()), 0, {}, {}, true);
            continue;
        }
        QList<certs::Problem> problems;
        if (parts.size() > 2)
            for (const QString &code : parts.at(2).split(QLatin1Char(','), Qt::SkipEmptyParts))
                problems << certs::problemFromCode(code).value();
        out << CertSpec(parts.at(0), parts.value(1, QStringLiteral("365")).toInt(), problems, certName);
    }
    return out;
}

certs::Certificate caCertificate(const QString &subject, const QString &issuer)
{
    certs::Certificate c;
    c.subject = subject;
    c.issuer = issuer;
    c.selfIssued = subject == issuer;
    c.sha256 = shaOf(subject.toUtf8());
    return c;
}

const QString RootName = QStringLiteral("CN=Root CA,O=Certsync Test");
const QString IssuingName = QStringLiteral("CN=Issuing CA,O=Certsync Test,DC=certsync,DC=test");

QByteArray certSha(const QString &certName)
{
    return shaOf(QStringLiteral("cert:%1").arg(certName).toUtf8());
}

} // namespace

class TestVerdict : public QObject
{
    Q_OBJECT
private slots:
    void verdict_data();
    void verdict();
    void json();
    void ticketText();
    void chainInCollection();
};

void TestVerdict::verdict_data()
{
    QTest::addColumn<QString>("userCertificate"); // directory values (specs())
    QTest::addColumn<QString>("userSmime");
    // tenant: "" no tenant configured, "missing" no Entra user, "norecipient", "synced" or "cloud"
    QTest::addColumn<QString>("tenant");
    QTest::addColumn<QString>("publishedCertificate"); // the recipient's values (specs())
    QTest::addColumn<QString>("publishedSmime");
    QTest::addColumn<QString>("collection"); // "" not read, "full", "root-only", "empty"
    QTest::addColumn<QString>("plan"); // "" none, "staged", "approved", "applied:HOURS"
    QTest::addColumn<bool>("canEncrypt");
    QTest::addColumn<QString>("directoryPick"); // "attribute/certificate" or "" for none
    QTest::addColumn<QString>("directoryReasons"); // codes, ';'-separated, in order
    QTest::addColumn<QString>("tenantPick");
    QTest::addColumn<QString>("tenantReasons");
    QTest::addColumn<QString>("fix"); // a fragment of the fix

    const QString none;
    // Outlook's rules, directory only.
    QTest::newRow("userCertificate only, usable")
        << "a:300" << none << none << none << none << none << none << true << "userCertificate/a"
        << ""
        << ""
        << ""
        << "Nothing to fix";
    QTest::newRow("nothing anywhere") << none << none << none << none << none << none << none << false << ""
                                      << "no_certificate"
                                      << ""
                                      << ""
                                      << "Enrol a new";
    QTest::newRow("only unreadable values")
        << "invalid"
        << "invalid" << none << none << none << none << none << false << ""
        << "no_certificate"
        << ""
        << ""
        << "Enrol a new";
    QTest::newRow("userCertificate: first usable in directory order, not the newest")
        << "old:-3 a:100 b:300" << none << none << none << none << none << none << true << "userCertificate/a"
        << ""
        << ""
        << ""
        << "Nothing to fix";
    QTest::newRow("userCertificate: no e-mail protection is passed over")
        << "noeku:300:no_email_protection b:100" << none << none << none << none << none << none << true
        << "userCertificate/b"
        << ""
        << ""
        << ""
        << "Nothing to fix";
    QTest::newRow("userCertificate: only unusable ones")
        << "old:-3 ku:300:key_usage" << none << none << none << none << none << none << false << ""
        << "no_usable_certificate;expired;key_usage"
        << ""
        << ""
        << "Enrol a new";
    QTest::newRow("userSMIMECertificate is taken first")
        << "a:300"
        << "s:300" << none << none << none << none << none << true << "userSMIMECertificate/s"
        << ""
        << ""
        << ""
        << "Nothing to fix";
    QTest::newRow("stale userSMIMECertificate wins over a fresh userCertificate")
        << "new:300"
        << "old:20" << none << none << none << none << none << true << "userSMIMECertificate/old"
        << "stale_smime"
        << ""
        << ""
        << "Remove the old userSMIMECertificate";
    QTest::newRow("expired userSMIMECertificate blocks a fresh userCertificate")
        << "new:300"
        << "old:-5" << none << none << none << none << none << false << "userSMIMECertificate/old"
        << "stale_smime;expired"
        << ""
        << ""
        << "Remove the old userSMIMECertificate";
    QTest::newRow("userSMIMECertificate: the first usable value of several")
        << none << "old:-5 s:200" << none << none << none << none << none << true << "userSMIMECertificate/s"
        << ""
        << ""
        << ""
        << "Nothing to fix";
    QTest::newRow("userSMIMECertificate unreadable: Outlook reads userCertificate")
        << "a:300"
        << "invalid" << none << none << none << none << none << true << "userCertificate/a"
        << ""
        << ""
        << ""
        << "Nothing to fix";
    QTest::newRow("untrusted chain is said but does not block the directory path")
        << "a:300:untrusted" << none << none << none << none << none << none << true << "userCertificate/a"
        << "untrusted"
        << ""
        << ""
        << "Nothing to fix";

    // The tenant path.
    QTest::newRow("published the same, trusted")
        << "a:300" << none << "cloud"
        << "a:300" << none << "full" << none << true << "userCertificate/a"
        << ""
        << "userCertificate/a"
        << ""
        << "Nothing to fix";
    QTest::newRow("nothing published, cloud user")
        << "a:300" << none << "cloud" << none << none << none << none << false << "userCertificate/a"
        << ""
        << ""
        << "no_certificate;not_published"
        << "Run certsync diff";
    QTest::newRow("nothing published, synced user")
        << "a:300" << none << "synced" << none << none << none << none << false << "userCertificate/a"
        << ""
        << ""
        << "no_certificate;not_published"
        << "Entra Connect has not carried it";
    QTest::newRow("no Entra user") << "a:300" << none << "missing" << none << none << none << none << false
                                   << "userCertificate/a"
                                   << ""
                                   << ""
                                   << "not_in_tenant"
                                   << "No Microsoft 365 user";
    QTest::newRow("no Exchange recipient")
        << "a:300" << none << "norecipient" << none << none << none << none << false << "userCertificate/a"
        << ""
        << ""
        << "no_recipient"
        << "no Exchange recipient";
    QTest::newRow("published an older certificate than the directory's")
        << "b:300" << none << "cloud"
        << "a:100" << none << none << none << true << "userCertificate/b"
        << ""
        << "userCertificate/a"
        << "not_published"
        << "Run certsync diff";
    QTest::newRow("published stale userSMIMECertificate wins in the tenant too")
        << "new:300" << none << "cloud"
        << "new:300"
        << "old:-2" << none << none << false << "userCertificate/new"
        << ""
        << "userSMIMECertificate/old"
        << "stale_smime;expired;oab_excluded;not_published"
        << "Remove the old userSMIMECertificate";
    QTest::newRow("OAB leaves out the GAL's pick: cached-mode Outlook picks otherwise")
        << "a:300" << none << "cloud"
        << "a:300"
        << "s:300:no_email_protection" << none << none << false << "userCertificate/a"
        << ""
        << "userSMIMECertificate/s"
        << "stale_smime;no_email_protection;oab_excluded;not_published"
        << "Remove the old";
    QTest::newRow("CA collection lacks the issuing CA")
        << "a:300" << none << "cloud"
        << "a:300" << none << "root-only" << none << false << "userCertificate/a"
        << ""
        << "userCertificate/a"
        << "tenant_untrusted"
        << "Add the issuing CA (CN=Issuing CA";
    QTest::newRow("CA collection empty") << "a:300" << none << "synced"
                                         << "a:300" << none << "empty" << none << false << "userCertificate/a"
                                         << ""
                                         << "userCertificate/a"
                                         << "tenant_untrusted"
                                         << "Set-SmimeConfig";

    // The plan's state decides the fix.
    QTest::newRow("a plan item pending, staged")
        << "b:300" << none << "cloud"
        << "a:-1" << none << none << "staged" << false << "userCertificate/b"
        << ""
        << ""
        << "no_usable_certificate;expired;not_published"
        << "Plan p1 item 3 (userCertificate) is staged";
    QTest::newRow("a plan item approved, not published")
        << "b:300" << none << "cloud"
        << "a:-1" << none << none << "approved" << false << "userCertificate/b"
        << ""
        << ""
        << "no_usable_certificate;expired;not_published"
        << "run certsync publish p1";
    QTest::newRow("published 5 hours ago: propagating") << "b:300" << none << "cloud"
                                                        << "b:300" << none << "full"
                                                        << "applied:5" << true << "userCertificate/b"
                                                        << ""
                                                        << "userCertificate/b"
                                                        << "propagating"
                                                        << "published 5 hours ago";
    QTest::newRow("published 60 hours ago: no longer propagating")
        << "b:300" << none << "cloud"
        << "b:300" << none << "full"
        << "applied:60" << true << "userCertificate/b"
        << ""
        << "userCertificate/b"
        << ""
        << "Nothing to fix";
}

void TestVerdict::verdict()
{
    QFETCH(QString, userCertificate);
    QFETCH(QString, userSmime);
    QFETCH(QString, tenant);
    QFETCH(QString, publishedCertificate);
    QFETCH(QString, publishedSmime);
    QFETCH(QString, collection);
    QFETCH(QString, plan);
    QFETCH(bool, canEncrypt);
    QFETCH(QString, directoryPick);
    QFETCH(QString, directoryReasons);
    QFETCH(QString, tenantPick);
    QFETCH(QString, tenantReasons);
    QFETCH(QString, fix);

    engine::VerdictInput input;
    input.who = QStringLiteral("frank@certsync.test");
    input.now = EngineNow;
    input.directory = directoryUser(QStringLiteral("frank"), specs(userCertificate), specs(userSmime)).values;
    if (!tenant.isEmpty()) {
        engine::TenantView view;
        view.userFound = tenant != QLatin1String("missing");
        view.hasRecipient = view.userFound && tenant != QLatin1String("norecipient");
        view.synced = tenant == QLatin1String("synced");
        view.published =
            directoryUser(QStringLiteral("frank"), specs(publishedCertificate), specs(publishedSmime)).values;
        if (collection == QLatin1String("full"))
            view.smimeCollection = QList<certs::Certificate> { caCertificate(RootName, RootName),
                                                               caCertificate(IssuingName, RootName) };
        else if (collection == QLatin1String("root-only"))
            view.smimeCollection = QList<certs::Certificate> { caCertificate(RootName, RootName) };
        else if (collection == QLatin1String("empty"))
            view.smimeCollection = QList<certs::Certificate> {};
        input.tenant = view;
    }
    if (!plan.isEmpty()) {
        engine::PlanItemState item { QStringLiteral("p1"), 3, QStringLiteral("userCertificate"), plan, {} };
        if (plan.startsWith(QLatin1String("applied:"))) {
            item.state = QStringLiteral("applied");
            item.appliedAt = EngineNow.addSecs(-3600 * plan.mid(8).toInt());
        }
        input.planItems << item;
    }

    const engine::EncryptionVerdict v = engine::computeVerdict(input);
    auto pickOf = [](const engine::PathVerdict &p) {
        return p.chosen ? p.source() + QLatin1Char('/') : QString();
    };
    auto expectedPick = [](const QString &pick) {
        return pick.isEmpty() ? QString() : pick.section(QLatin1Char('/'), 0, 0) + QLatin1Char('/');
    };
    QCOMPARE(v.canEncrypt(), canEncrypt);
    QCOMPARE(pickOf(v.directory), expectedPick(directoryPick));
    if (!directoryPick.isEmpty())
        QCOMPARE(v.directory.chosen->certificate.sha256, certSha(directoryPick.section(QLatin1Char('/'), 1)));
    QCOMPARE(v.directory.reasons.join(QLatin1Char(';')), directoryReasons);
    QCOMPARE(v.tenant.has_value(), !tenant.isEmpty());
    if (v.tenant) {
        QCOMPARE(pickOf(*v.tenant), expectedPick(tenantPick));
        if (!tenantPick.isEmpty())
            QCOMPARE(v.tenant->chosen->certificate.sha256, certSha(tenantPick.section(QLatin1Char('/'), 1)));
        QCOMPARE(v.tenant->reasons.join(QLatin1Char(';')), tenantReasons);
    }
    QVERIFY2(v.fix.contains(fix), qPrintable(v.fix));
    // Every reason has a sentence of its own, not its code repeated.
    for (const QString &code : v.directory.reasons + (v.tenant ? v.tenant->reasons : QStringList()))
        QVERIFY2(engine::verdictReasonText(code) != code, qPrintable(code));
}

void TestVerdict::json()
{
    engine::VerdictInput input;
    input.who = QStringLiteral("frank@certsync.test");
    input.now = EngineNow;
    input.directory = directoryUser(QStringLiteral("frank"), specs(QStringLiteral("new:300")),
                                    specs(QStringLiteral("old:-5")))
                          .values;
    const QJsonObject o = engine::computeVerdict(input).toJson();
    QCOMPARE(o.value(QStringLiteral("can_encrypt")).toBool(true), false);
    const QJsonObject dir = o.value(QStringLiteral("directory")).toObject();
    QCOMPARE(dir.value(QStringLiteral("can_encrypt")).toBool(true), false);
    QCOMPARE(dir.value(QStringLiteral("certificate")).toString(),
             QString::fromLatin1(certSha(QStringLiteral("old")).toHex()));
    QCOMPARE(dir.value(QStringLiteral("source")).toString(), QStringLiteral("userSMIMECertificate"));
    QCOMPARE(dir.value(QStringLiteral("reasons")).toArray(),
             QJsonArray({ QStringLiteral("stale_smime"), QStringLiteral("expired") }));
    QVERIFY(o.value(QStringLiteral("tenant")).isNull());
    QVERIFY(o.value(QStringLiteral("fix")).toString().startsWith(QStringLiteral("Remove the old")));

    input.directory.clear();
    const QJsonObject empty = engine::computeVerdict(input).toJson();
    QVERIFY(
        empty.value(QStringLiteral("directory")).toObject().value(QStringLiteral("certificate")).isNull());
    QVERIFY(empty.value(QStringLiteral("directory")).toObject().value(QStringLiteral("source")).isNull());
}

void TestVerdict::ticketText()
{
    engine::VerdictInput input;
    input.who = QStringLiteral("frank@certsync.test");
    input.now = EngineNow;
    input.directory = directoryUser(QStringLiteral("frank"), specs(QStringLiteral("a:300")), {}).values;
    engine::TenantView view;
    view.userFound = view.hasRecipient = true;
    view.published = input.directory;
    view.smimeCollection = QList<certs::Certificate> { caCertificate(RootName, RootName) };
    input.tenant = view;
    const engine::EncryptionVerdict v = engine::computeVerdict(input);
    const QStringList lines = v.ticketText().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 5);
    QVERIFY2(lines.at(0).startsWith(QStringLiteral("No: senders cannot encrypt to frank@certsync.test "
                                                   "(Exchange Online: tenant_untrusted)")),
             qPrintable(lines.at(0)));
    const QString sha = input.directory.first().usersCertificate()->certificate.sha256Hex().left(16);
    QVERIFY2(lines.at(1).startsWith(QStringLiteral("Directory (Outlook reading the GAL from AD/LDAP): yes, "
                                                   "certificate %1 in userCertificate (")
                                        .arg(sha)),
             qPrintable(lines.at(1)));
    // No word twice in a row, nor the attribute's name read as "<attribute> certificate": in the
    // ticket and in the yes line.
    const QRegularExpression repeated(QStringLiteral("\\b(\\w+) \\1\\b"));
    const QRegularExpression attributeCertificate(
        QStringLiteral("(userCertificate|userSMIMECertificate) certificate"));
    input.tenant.reset();
    const QString yes = engine::computeVerdict(input).line();
    QVERIFY2(yes.startsWith(QStringLiteral("Yes: senders can encrypt to frank@certsync.test (certificate ")),
             qPrintable(yes));
    for (const QString &text : { v.ticketText(), yes }) {
        QVERIFY2(!repeated.match(text).hasMatch(), qPrintable(text));
        QVERIFY2(!attributeCertificate.match(text).hasMatch(), qPrintable(text));
    }
    QVERIFY(lines.at(1).contains(EngineNow.addDays(300).date().toString(Qt::ISODate)));
    QVERIFY(lines.at(2).startsWith(QStringLiteral("Exchange Online (what senders get): no, certificate %1 in "
                                                  "userCertificate (")
                                       .arg(sha)));
    QVERIFY(lines.at(3).startsWith(
        QStringLiteral("  - tenant_untrusted: Exchange Online does not trust the issuer")));
    QVERIFY(lines.at(4).startsWith(QStringLiteral("Fix: Add the issuing CA (") + IssuingName));
}

void TestVerdict::chainInCollection()
{
    certs::Certificate leaf = caCertificate(QStringLiteral("CN=frank"), IssuingName);
    leaf.selfIssued = false;
    const certs::Certificate root = caCertificate(RootName, RootName);
    certs::Certificate issuing = caCertificate(IssuingName, RootName);
    QVERIFY(engine::chainInCollection(leaf, { root, issuing }));
    QVERIFY(engine::chainInCollection(leaf, { issuing, root }));
    QVERIFY(!engine::chainInCollection(leaf, { root }));
    QVERIFY(!engine::chainInCollection(leaf, { issuing })); // the root is missing
    // An issuer of the same name but another key (authority key id) is not the issuer.
    issuing.subjectKeyId = QByteArray(20, 'x');
    leaf.authorityKeyId = QByteArray(20, 'y');
    QVERIFY(!engine::chainInCollection(leaf, { root, issuing }));
    leaf.authorityKeyId = issuing.subjectKeyId;
    QVERIFY(engine::chainInCollection(leaf, { root, issuing }));
    // Two CAs that name each other as issuer never end the walk.
    const certs::Certificate a = caCertificate(QStringLiteral("CN=A"), QStringLiteral("CN=B"));
    const certs::Certificate b = caCertificate(QStringLiteral("CN=B"), QStringLiteral("CN=A"));
    certs::Certificate toA = caCertificate(QStringLiteral("CN=x"), QStringLiteral("CN=A"));
    toA.selfIssued = false;
    QVERIFY(!engine::chainInCollection(toA, { a, b }));
}

QTEST_GUILESS_MAIN(TestVerdict)
#include "tst_verdict.moc"
