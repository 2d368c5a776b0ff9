// The judge: each problem code appears exactly when it should (through the whole analyzer:
// decode, chain, judge), and set-level codes (duplicate, over_limit, parse_error) on a user's values.
#include "TestPki.h"
#include "certs/ValueAnalyzer.h"

#include <QTemporaryDir>
#include <QTest>

#include <openssl/crypto.h>

#include <atomic>
#include <thread>

using namespace certsync;
using namespace certsync::certs;
using namespace certsync::testing;

namespace {
const QString userMail = QStringLiteral("user@example.test");

QStringList codesOf(const ProblemSet &set)
{
    QStringList out;
    for (Problem p : set.toList())
        out.append(problemCode(p));
    return out;
}

// Every field of an analysed value, one per line, so that two analyses compare field by field.
QStringList fieldsOf(const AnalyzedValue &v)
{
    QStringList out;
    auto add = [&out](const QString &name, const QString &value) {
        out.append(name + QLatin1Char('=') + value);
    };
    add(QStringLiteral("value"),
        QStringLiteral("%1 %2 %3").arg(attributeName(v.attribute)).arg(v.index).arg(valueKindName(v.kind)));
    add(QStringLiteral("sha256"), QString::fromLatin1(v.sha256.toHex()));
    add(QStringLiteral("size"), QString::number(v.size));
    add(QStringLiteral("error"), v.error);
    add(QStringLiteral("bare/signed"), QStringLiteral("%1 %2").arg(v.bareCertificate).arg(v.pkcs7Signed));
    add(QStringLiteral("userChoice"), v.userChoice);
    for (const SmimeCapability &c : v.capabilities)
        add(QStringLiteral("capability"), QStringLiteral("%1 %2 %3").arg(c.oid, c.name).arg(c.parameter));
    add(QStringLiteral("valueProblems"), codesOf(v.valueProblems).join(u' '));
    for (const JudgedCertificate &j : v.certificates) {
        const Certificate &c = j.certificate;
        add(QStringLiteral("isUsers"), QString::number(j.isUsers));
        add(QStringLiteral("problems"), codesOf(j.problems).join(u' '));
        add(QStringLiteral("der"), QString::fromLatin1(c.der.toHex()));
        add(QStringLiteral("digests"), QString::fromLatin1(c.sha256.toHex() + ' ' + c.sha1.toHex()));
        add(QStringLiteral("names"), QStringList { c.subject, c.issuer, c.serialHex }.join(u'|'));
        add(QStringLiteral("validity"),
            QString(c.notBefore.toString(Qt::ISODate) + u' ' + c.notAfter.toString(Qt::ISODate)));
        add(QStringLiteral("sans"), (c.emailSans + c.upnSans + c.dnsSans + c.subjectEmails).join(u' '));
        add(QStringLiteral("usage"),
            QStringLiteral("%1 %2 %3 %4")
                .arg(c.hasKeyUsage)
                .arg(c.keyUsage)
                .arg(c.hasExtendedKeyUsage)
                .arg(c.extendedKeyUsages.join(u' ')));
        add(QStringLiteral("ca"),
            QStringLiteral("%1 %2 %3 %4").arg(c.isCa).arg(c.pathLength).arg(c.selfIssued).arg(c.selfSigned));
        add(QStringLiteral("key"),
            QString(c.keyDescription() + u' ' + c.signatureAlgorithm + u' ' + c.signatureDigest));
        add(QStringLiteral("keyIds"),
            QString::fromLatin1(c.subjectKeyId.toHex() + ' ' + c.authorityKeyId.toHex()));
        add(QStringLiteral("urls"), (c.caIssuersUrls + c.ocspUrls + c.crlUrls).join(u' '));
        const ChainResult &r = j.chain;
        add(QStringLiteral("chain"),
            QStringLiteral("%1 %2 %3 %4")
                .arg(chainStatusName(r.status))
                .arg(r.opensslError)
                .arg(r.message)
                .arg(r.revocationChecked));
        for (const ChainElement &e : r.chain)
            add(QStringLiteral("element"),
                QStringList { e.subject, e.issuer, e.serialHex, QString::fromLatin1(e.sha256.toHex()),
                              e.notBefore.toString(Qt::ISODate), e.notAfter.toString(Qt::ISODate),
                              QString::number(e.isAnchor), QString::number(e.revoked), e.problems.join(u';') }
                    .join(u'|'));
    }
    return out;
}
} // namespace

class TestJudge : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void problemTable();
    void singleCertificate_data();
    void singleCertificate();
    void setProblems();
    void bagIssuersAreNotJudgedAsUsers();
    void foreignRootInBagIsUntrusted();
    void timeAndTimelessSplit();
    void cacheParsesEachValueOnce();
    void newCrlIsNotAnsweredFromTheCache();
    void bagRepeatingUserCertificate_data();
    void bagRepeatingUserCertificate();
    void threadsGetTheirOwnContexts();

private:
    [[nodiscard]] const ValueAnalyzer &analyzer() const { return *m_analyzer; }
    QTemporaryDir m_dir;
    std::optional<TrustStore> m_trust;
    std::unique_ptr<ValueAnalyzer> m_analyzer;
    Issued m_hiddenIntermediate;
    Issued m_revoked;
};

void TestJudge::initTestCase()
{
    const StandardPki &pki = StandardPki::instance();
    CertSpec hidden;
    hidden.commonName = QStringLiteral("Hidden Issuing CA");
    hidden.ca = true;
    hidden.keySlot = 7;
    m_hiddenIntermediate = TestPki::issue(hidden, pki.root);
    m_revoked = TestPki::issue(goodLeafSpec(userMail), pki.intermediate);

    const QString anchors = m_dir.filePath(QStringLiteral("anchors.pem"));
    const QString intermediates = m_dir.filePath(QStringLiteral("intermediates.pem"));
    const QString crl = m_dir.filePath(QStringLiteral("issuing.crl"));
    QVERIFY(TestPki::writeFile(anchors, pki.root.pem()));
    QVERIFY(TestPki::writeFile(intermediates, TestPki::pemOf({ &pki.intermediate, &pki.ecIntermediate })));
    QVERIFY(TestPki::writeFile(crl, TestPki::crlPem(pki.intermediate, { &m_revoked })));
    TrustSettings settings;
    settings.anchorFiles = { anchors };
    settings.intermediateFiles = { intermediates };
    settings.crlFiles = { crl };
    auto trust = TrustStore::load(settings);
    QVERIFY(trust.ok());
    m_trust.emplace(std::move(trust).value());
    m_analyzer = std::make_unique<ValueAnalyzer>(*m_trust, CertificateJudge(JudgePolicy {}));
}

void TestJudge::problemTable()
{
    // One place defines every code; DESIGN.md's CSV section lists exactly these, in this order.
    const QStringList expected = { QStringLiteral("expired"),          QStringLiteral("not_yet_valid"),
                                   QStringLiteral("expiring_soon"),    QStringLiteral("no_email_protection"),
                                   QStringLiteral("key_usage"),        QStringLiteral("no_email"),
                                   QStringLiteral("email_mismatch"),   QStringLiteral("weak_key"),
                                   QStringLiteral("weak_signature"),   QStringLiteral("self_signed"),
                                   QStringLiteral("chain_incomplete"), QStringLiteral("untrusted"),
                                   QStringLiteral("revoked"),          QStringLiteral("duplicate"),
                                   QStringLiteral("over_limit"),       QStringLiteral("parse_error"),
                                   QStringLiteral("tenant_untrusted") };
    QStringList actual;
    for (Problem p : allProblems()) {
        actual.append(problemCode(p));
        QVERIFY(!problemText(p).isEmpty());
        QCOMPARE(problemFromCode(problemCode(p)), std::optional<Problem>(p));
    }
    QCOMPARE(actual, expected);
    QCOMPARE(problemFromCode(QStringLiteral("nonsense")), std::nullopt);
}

void TestJudge::singleCertificate_data()
{
    QTest::addColumn<QByteArray>("der");
    QTest::addColumn<QStringList>("proxies");
    QTest::addColumn<QStringList>("expected");
    QTest::addColumn<QString>("status");

    const StandardPki &pki = StandardPki::instance();
    auto leaf = [&](const std::function<void(CertSpec &)> &change, const Issued *issuer = nullptr) {
        CertSpec spec = goodLeafSpec(userMail);
        change(spec);
        return TestPki::issue(spec, issuer ? *issuer : pki.intermediate).der;
    };
    const QStringList none;
    auto row = [](const char *name) -> QTestData & { return QTest::newRow(name); };

    row("good EC") << leaf([](CertSpec &) {}) << none << none << QStringLiteral("ok");
    row("good RSA via the EC issuer")
        << leaf([](CertSpec &s) { s.key = KeyKind::Rsa2048; }, &pki.ecIntermediate) << none << none
        << QStringLiteral("ok");
    row("expired") << leaf([](CertSpec &s) {
        s.notBeforeDays = -400;
        s.notAfterDays = -1;
    }) << none << QStringList { QStringLiteral("expired") }
                   << QStringLiteral("error");
    row("not yet valid") << leaf([](CertSpec &s) {
        s.notBeforeDays = 10;
        s.notAfterDays = 400;
    }) << none << QStringList { QStringLiteral("not_yet_valid") }
                         << QStringLiteral("error");
    row("expiring soon") << leaf([](CertSpec &s) { s.notAfterDays = 10; }) << none
                         << QStringList { QStringLiteral("expiring_soon") } << QStringLiteral("warning");
    row("expiring just outside the window")
        << leaf([](CertSpec &s) { s.notAfterDays = 31; }) << none << none << QStringLiteral("ok");
    row("EKU serverAuth only") << leaf([](CertSpec &s) {
        s.extendedKeyUsage = QStringList { QStringLiteral("serverAuth") };
    }) << none << QStringList { QStringLiteral("no_email_protection") }
                               << QStringLiteral("error");
    row("anyExtendedKeyUsage only") << leaf([](CertSpec &s) {
        s.extendedKeyUsage = QStringList { QStringLiteral("anyExtendedKeyUsage") };
    }) << none << QStringList { QStringLiteral("no_email_protection") }
                                    << QStringLiteral("error");
    row("no EKU extension at all") << leaf([](CertSpec &s) { s.extendedKeyUsage = std::nullopt; }) << none
                                   << none << QStringLiteral("ok");
    row("RSA without keyEncipherment") << leaf([](CertSpec &s) {
        s.key = KeyKind::Rsa2048;
        s.keyUsage = quint16(DigitalSignature);
    }) << none << QStringList { QStringLiteral("key_usage") }
                                       << QStringLiteral("error");
    row("EC with keyEncipherment instead of keyAgreement")
        << leaf([](CertSpec &s) { s.keyUsage = quint16(DigitalSignature | KeyEncipherment); }) << none
        << QStringList { QStringLiteral("key_usage") } << QStringLiteral("error");
    row("encryption-only key usage") << leaf([](CertSpec &s) {
        s.key = KeyKind::Rsa2048;
        s.keyUsage = quint16(KeyEncipherment);
    }) << none << QStringList { QStringLiteral("key_usage") }
                                     << QStringLiteral("error");
    row("no e-mail anywhere") << leaf([](CertSpec &s) { s.emails.clear(); }) << none
                              << QStringList { QStringLiteral("no_email") } << QStringLiteral("error");
    row("e-mail only in the subject") << leaf([](CertSpec &s) {
        s.emails.clear();
        s.subjectEmail = userMail;
    }) << none << none << QStringLiteral("ok");
    row("someone else's e-mail") << leaf([](CertSpec &s) {
        s.emails = { QStringLiteral("other@example.test") };
    }) << none << QStringList { QStringLiteral("email_mismatch") }
                                 << QStringLiteral("warning");
    row("e-mail is a proxy address") << leaf([](CertSpec &s) {
        s.emails = { QStringLiteral("Alias@Example.test") };
    }) << QStringList { QStringLiteral("SMTP:user@example.test"), QStringLiteral("smtp:alias@example.test") }
                                     << none << QStringLiteral("ok");
    row("X500 proxy does not count") << leaf([](CertSpec &s) {
        s.emails = { QStringLiteral("alias@example.test") };
    }) << QStringList { QStringLiteral("X500:alias@example.test") }
                                     << QStringList { QStringLiteral("email_mismatch") }
                                     << QStringLiteral("warning");
    row("RSA 1024") << leaf([](CertSpec &s) { s.key = KeyKind::Rsa1024; }) << none
                    << QStringList { QStringLiteral("weak_key") } << QStringLiteral("warning");
    row("SHA-1 signed") << leaf([](CertSpec &s) { s.digest = QStringLiteral("SHA1"); }) << none
                        << QStringList { QStringLiteral("weak_signature") } << QStringLiteral("warning");
    CertSpec selfSpec = goodLeafSpec(userMail);
    row("self-signed") << TestPki::selfSigned(selfSpec).der << none
                       << QStringList { QStringLiteral("self_signed"), QStringLiteral("untrusted") }
                       << QStringLiteral("error");
    row("missing intermediate") << leaf([](CertSpec &) {}, &m_hiddenIntermediate) << none
                                << QStringList { QStringLiteral("chain_incomplete") }
                                << QStringLiteral("error");
    row("foreign root, offered nowhere")
        << leaf([](CertSpec &) {}, &pki.otherRoot) << none
        << QStringList { QStringLiteral("chain_incomplete") } << QStringLiteral("error");
    row("revoked") << m_revoked.der << none << QStringList { QStringLiteral("revoked") }
                   << QStringLiteral("error");
    row("several at once") << leaf([](CertSpec &s) {
        s.key = KeyKind::Rsa1024;
        s.digest = QStringLiteral("SHA1");
        s.notBeforeDays = -400;
        s.notAfterDays = -1;
        s.emails = { QStringLiteral("x@example.test") };
    }) << none
                           << QStringList { QStringLiteral("expired"), QStringLiteral("email_mismatch"),
                                            QStringLiteral("weak_key"), QStringLiteral("weak_signature") }
                           << QStringLiteral("error");
}

void TestJudge::singleCertificate()
{
    QFETCH(QByteArray, der);
    QFETCH(QStringList, proxies);
    QFETCH(QStringList, expected);
    QFETCH(QString, status);
    UserContext user { userMail, proxies };
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const Attribute attribute : { Attribute::UserCertificate, Attribute::UserSmimeCertificate }) {
        const AnalyzedValue value = analyzer().analyze(attribute, 0, der, user, now);
        QCOMPARE(value.kind, ValueKind::X509);
        QCOMPARE(value.certificates.size(), 1);
        QCOMPARE(codesOf(value.problemsOf(0)), expected);
        QCOMPARE(statusName(value.problemsOf(0).status()), status);
    }
    // The same certificate inside an Outlook-style bag is judged the same.
    auto parsed = parseDer(der);
    QVERIFY(parsed.ok());
    const Issued cert { ossl::share(parsed->handle.get()), {}, der };
    const AnalyzedValue bag =
        analyzer().analyze(Attribute::UserSmimeCertificate, 0, TestPki::pkcs7CertsOnly({ &cert }), user, now);
    QCOMPARE(bag.kind, ValueKind::Pkcs7);
    QVERIFY(bag.usersCertificate());
    QCOMPARE(codesOf(bag.usersCertificate()->problems), expected);
}

void TestJudge::setProblems()
{
    const StandardPki &pki = StandardPki::instance();
    const QByteArray a = TestPki::issue(goodLeafSpec(userMail), pki.intermediate).der;
    const QByteArray b = TestPki::issue(goodLeafSpec(userMail), pki.intermediate).der;
    QList<QByteArray> userCertificate = { a, b, a };
    for (int i = 0; i < 14; ++i)
        userCertificate.append(TestPki::issue(goodLeafSpec(userMail), pki.ecIntermediate).der);
    // 17 values: index 2 is a duplicate of index 0; indexes 15 and 16 are over the limit of 15.
    const QList<QByteArray> smime = { QByteArray("garbage"), TestPki::pkcs7CertsOnly({}) };
    const QList<AnalyzedValue> values = analyzer().analyzeUser(
        userCertificate, smime, UserContext { userMail, {} }, QDateTime::currentDateTimeUtc());
    QCOMPARE(values.size(), 19);
    for (int i = 0; i < 17; ++i) {
        QStringList expected;
        if (i == 2)
            expected.append(QStringLiteral("duplicate"));
        if (i >= 15)
            expected.append(QStringLiteral("over_limit"));
        QCOMPARE(values.at(i).attribute, Attribute::UserCertificate);
        QCOMPARE(values.at(i).index, i);
        QCOMPARE(codesOf(values.at(i).problemsOf(0)), expected);
    }
    QCOMPARE(values.at(17).attribute, Attribute::UserSmimeCertificate);
    QCOMPARE(values.at(17).kind, ValueKind::Invalid);
    QCOMPARE(codesOf(values.at(17).valueProblems), QStringList { QStringLiteral("parse_error") });
    QCOMPARE(values.at(17).valueProblems.status(), Status::Error);
    QCOMPARE(values.at(18).kind, ValueKind::Invalid); // a bag without certificates is unusable
    QVERIFY2(values.at(18).error.contains(QStringLiteral("no certificate")), qPrintable(values.at(18).error));
}

void TestJudge::bagIssuersAreNotJudgedAsUsers()
{
    const StandardPki &pki = StandardPki::instance();
    const Issued leaf = TestPki::issue(goodLeafSpec(userMail), pki.intermediate);
    const QByteArray bag = TestPki::pkcs7Signed(leaf, { &pki.intermediate, &pki.root });
    const AnalyzedValue value =
        analyzer().analyze(Attribute::UserSmimeCertificate, 0, bag, UserContext { userMail, {} },
                           QDateTime::currentDateTimeUtc());
    QCOMPARE(value.kind, ValueKind::Pkcs7);
    QCOMPARE(value.certificates.size(), 3);
    int users = 0;
    for (int i = 0; i < value.certificates.size(); ++i) {
        const JudgedCertificate &c = value.certificates.at(i);
        users += c.isUsers;
        // The root is self-signed and has no mailbox: neither is a problem for an issuer.
        QCOMPARE(codesOf(value.problemsOf(i)), QStringList {});
        QCOMPARE(c.chain.status, ChainStatus::Trusted);
    }
    QCOMPARE(users, 1);
    QCOMPARE(value.usersCertificate()->certificate.der, leaf.der);
}

void TestJudge::foreignRootInBagIsUntrusted()
{
    const StandardPki &pki = StandardPki::instance();
    const Issued leaf = TestPki::issue(goodLeafSpec(userMail), pki.otherRoot);
    const QByteArray bag = TestPki::pkcs7CertsOnly({ &leaf, &pki.otherRoot });
    const AnalyzedValue value =
        analyzer().analyze(Attribute::UserSmimeCertificate, 0, bag, UserContext { userMail, {} },
                           QDateTime::currentDateTimeUtc());
    QVERIFY(value.usersCertificate());
    QCOMPARE(value.usersCertificate()->certificate.der, leaf.der);
    QCOMPARE(value.userChoice, QStringLiteral("e-mail"));
    QCOMPARE(codesOf(value.usersCertificate()->problems), QStringList { QStringLiteral("untrusted") });
    QCOMPARE(value.usersCertificate()->chain.chain.size(), 2);
}

void TestJudge::timeAndTimelessSplit()
{
    CertSpec spec = goodLeafSpec(QStringLiteral("x@example.test"));
    spec.notAfterDays = 5;
    spec.key = KeyKind::Rsa1024;
    auto parsed = parseDer(TestPki::issue(spec, StandardPki::instance().intermediate).der);
    QVERIFY(parsed.ok());
    const CertificateJudge judge;
    const ChainResult trusted { ChainStatus::Trusted, {}, 0, {}, false };
    const UserContext user { userMail, {} };
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const ProblemSet timeless = judge.judgeTimeless(parsed->info, trusted, user);
    const ProblemSet timed = judge.judgeTime(parsed->info, now);
    QCOMPARE(codesOf(timeless),
             (QStringList { QStringLiteral("email_mismatch"), QStringLiteral("weak_key") }));
    QCOMPARE(codesOf(timed), QStringList { QStringLiteral("expiring_soon") });
    QCOMPARE(judge.judge(parsed->info, trusted, user, now).bits(), timeless.bits() | timed.bits());
    for (Problem p : timeless.toList())
        QVERIFY(!isTimeDependent(p));
    for (Problem p : timed.toList())
        QVERIFY(isTimeDependent(p));
    // Ten days later the same certificate has expired: only the time-dependent part changes.
    QCOMPARE(codesOf(judge.judgeTime(parsed->info, now.addDays(10))),
             QStringList { QStringLiteral("expired") });
    JudgePolicy lenient;
    lenient.requireTrust = false;
    const ChainResult incomplete { ChainStatus::Incomplete, {}, 0, {}, false };
    QVERIFY(!CertificateJudge(lenient)
                 .judgeTimeless(parsed->info, incomplete, user)
                 .has(Problem::ChainIncomplete));
    QVERIFY(CertificateJudge().judgeTimeless(parsed->info, incomplete, user).has(Problem::ChainIncomplete));
}

void TestJudge::cacheParsesEachValueOnce()
{
    MemoryAnalysisCache cache;
    const ValueAnalyzer cached(*m_trust, CertificateJudge(), &cache);
    CertSpec spec = goodLeafSpec(userMail);
    spec.notAfterDays = 20;
    const QByteArray der = TestPki::issue(spec, StandardPki::instance().intermediate).der;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const AnalyzedValue first =
        cached.analyze(Attribute::UserCertificate, 0, der, UserContext { userMail, {} }, now);
    QCOMPARE(cache.size(), 1);
    // A cached analysis still re-derives time and user: 30 days later it has expired, and for
    // another user the e-mail no longer matches.
    const AnalyzedValue later =
        cached.analyze(Attribute::UserCertificate, 0, der,
                       UserContext { QStringLiteral("someone@example.test"), {} }, now.addDays(30));
    QCOMPARE(cache.size(), 1);
    QCOMPARE(codesOf(first.problemsOf(0)), QStringList { QStringLiteral("expiring_soon") });
    QCOMPARE(codesOf(later.problemsOf(0)),
             (QStringList { QStringLiteral("expired"), QStringLiteral("email_mismatch") }));
    QCOMPARE(later.certificates.first().certificate.sha256, first.certificates.first().certificate.sha256);
}

// Analyses remembered across runs carry chain verdicts: a CRL that arrives later (or another trust
// configuration) must not be answered with the verdict of the old one.
void TestJudge::newCrlIsNotAnsweredFromTheCache()
{
    const StandardPki &pki = StandardPki::instance();
    const QString anchors = m_dir.filePath(QStringLiteral("anchors-nocrl.pem"));
    const QString intermediates = m_dir.filePath(QStringLiteral("intermediates-nocrl.pem"));
    QVERIFY(TestPki::writeFile(anchors, pki.root.pem()));
    QVERIFY(TestPki::writeFile(intermediates, TestPki::pemOf({ &pki.intermediate })));
    TrustSettings settings;
    settings.anchorFiles = { anchors };
    settings.intermediateFiles = { intermediates };
    auto withoutCrl = TrustStore::load(settings);
    QVERIFY(withoutCrl.ok());
    QVERIFY(withoutCrl->fingerprint() != m_trust->fingerprint());
    auto again = TrustStore::load(settings);
    QVERIFY(again.ok());
    QCOMPARE(again->fingerprint(), withoutCrl->fingerprint()); // the same files: the same cache entries

    MemoryAnalysisCache cache;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const UserContext user { userMail, {} };
    const AnalyzedValue before = ValueAnalyzer(*withoutCrl, CertificateJudge(), &cache)
                                     .analyze(Attribute::UserCertificate, 0, m_revoked.der, user, now);
    QVERIFY(!before.problemsOf(0).has(Problem::Revoked));
    const AnalyzedValue repeated = ValueAnalyzer(*again, CertificateJudge(), &cache)
                                       .analyze(Attribute::UserCertificate, 0, m_revoked.der, user, now);
    QCOMPARE(cache.size(), 1);
    QCOMPARE(codesOf(repeated.problemsOf(0)), codesOf(before.problemsOf(0)));
    const AnalyzedValue after = ValueAnalyzer(*m_trust, CertificateJudge(), &cache)
                                    .analyze(Attribute::UserCertificate, 0, m_revoked.der, user, now);
    QCOMPARE(cache.size(), 2);
    QVERIFY(after.problemsOf(0).has(Problem::Revoked));
}

void TestJudge::bagRepeatingUserCertificate_data()
{
    const StandardPki &pki = StandardPki::instance();
    QTest::addColumn<QList<QByteArray>>("userCertificate");
    QTest::addColumn<QList<QByteArray>>("smime");
    const Issued good = TestPki::issue(goodLeafSpec(userMail), pki.intermediate);
    CertSpec expiredSpec = goodLeafSpec(userMail);
    expiredSpec.notBeforeDays = -400;
    expiredSpec.notAfterDays = -10;
    const Issued expired = TestPki::issue(expiredSpec, pki.ecIntermediate);
    const Issued foreign = TestPki::issue(goodLeafSpec(userMail), pki.otherRoot);
    const Issued orphan = TestPki::issue(goodLeafSpec(userMail), m_hiddenIntermediate);
    // As Outlook publishes: the current certificate in both attributes, signed, with capabilities.
    QTest::newRow("outlook") << QList<QByteArray> { good.der, expired.der }
                             << QList<QByteArray> { TestPki::pkcs7Signed(good,
                                                                         { &pki.intermediate, &pki.root }) };
    QTest::newRow("certs-only, two bags")
        << QList<QByteArray> { expired.der, good.der }
        << QList<QByteArray> { TestPki::pkcs7CertsOnly({ &good }),
                               TestPki::pkcs7CertsOnly({ &pki.intermediate, &expired }) };
    QTest::newRow("revoked") << QList<QByteArray> { m_revoked.der }
                             << QList<QByteArray> { TestPki::pkcs7Signed(m_revoked, { &pki.intermediate }) };
    // Chains that do not come from the trust store alone: the bag's intermediates may change them.
    QTest::newRow("untrusted") << QList<QByteArray> { foreign.der }
                               << QList<QByteArray> { TestPki::pkcs7CertsOnly({ &foreign, &pki.otherRoot }) };
    QTest::newRow("intermediate only in the bag")
        << QList<QByteArray> { orphan.der }
        << QList<QByteArray> { TestPki::pkcs7Signed(orphan, { &m_hiddenIntermediate }) };
    QTest::newRow("bag of someone else's certificate")
        << QList<QByteArray> { good.der } << QList<QByteArray> { TestPki::pkcs7CertsOnly({ &expired }) };
    QTest::newRow("bare certificate, garbage")
        << QList<QByteArray> { good.der, QByteArray("\x30\x03\x02\x01\x01", 5) }
        << QList<QByteArray> { good.der, TestPki::pkcs7CertsOnly({ &pki.root, &good }) };
}

void TestJudge::bagRepeatingUserCertificate()
{
    QFETCH(QList<QByteArray>, userCertificate);
    QFETCH(QList<QByteArray>, smime);
    const UserContext user { userMail, {} };
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QList<AnalyzedValue> together = analyzer().analyzeUser(userCertificate, smime, user, now);
    // Each value on its own, by an analyzer that has seen nothing of this user.
    const ValueAnalyzer alone(*m_trust, CertificateJudge(JudgePolicy {}));
    QList<AnalyzedValue> expected;
    for (const auto &[attribute, values] : { std::pair { Attribute::UserCertificate, &userCertificate },
                                             std::pair { Attribute::UserSmimeCertificate, &smime } }) {
        QList<AnalyzedValue> one;
        for (int i = 0; i < values->size(); ++i)
            one.append(alone.analyze(attribute, i, values->at(i), user, now));
        ValueAnalyzer::markSetProblems(one, JudgePolicy {}.maxValuesPerAttribute);
        expected += one;
    }
    QCOMPARE(together.size(), expected.size());
    for (int i = 0; i < together.size(); ++i)
        QCOMPARE(fieldsOf(together.at(i)), fieldsOf(expected.at(i)));
}

void TestJudge::threadsGetTheirOwnContexts()
{
    const ValueAnalyzer shared(*m_trust, CertificateJudge(JudgePolicy {}));
    const StandardPki &pki = StandardPki::instance();
    const QByteArray der = TestPki::issue(goodLeafSpec(userMail), pki.intermediate).der;
    const QByteArray bag = TestPki::pkcs7Signed(m_revoked, { &pki.intermediate });
    const UserContext user { userMail, {} };
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QStringList first = fieldsOf(shared.analyze(Attribute::UserCertificate, 0, der, user, now));
    const QStringList firstBag = fieldsOf(shared.analyze(Attribute::UserSmimeCertificate, 0, bag, user, now));
    QCOMPARE(shared.threadContexts(), 1);
    std::vector<std::thread> threads;
    std::atomic<int> same { 0 };
    for (int t = 0; t < 3; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 5; ++i)
                same += fieldsOf(shared.analyze(Attribute::UserCertificate, 0, der, user, now)) == first
                    && fieldsOf(shared.analyze(Attribute::UserSmimeCertificate, 0, bag, user, now))
                        == firstBag;
            OPENSSL_thread_stop();
        });
    for (std::thread &thread : threads)
        thread.join();
    QCOMPARE(same.load(), 15);
    QCOMPARE(shared.threadContexts(), 4);
    QVERIFY(first.join(u'\n').contains(QStringLiteral("chain=trusted ")));
}

QTEST_GUILESS_MAIN(TestJudge)
#include "tst_judge.moc"
