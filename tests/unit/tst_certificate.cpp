// X.509 parsing: every field the certificate engine promises, and failures that say why.
#include "TestPki.h"
#include "certs/Certificate.h"

#include <QCryptographicHash>
#include <QTest>

using namespace certsync;
using namespace certsync::certs;
using namespace certsync::testing;

class TestCertificate : public QObject
{
    Q_OBJECT
private slots:
    void parsesEveryField();
    void rsaKeyAndSha1Signature();
    void caCertificate();
    void rejectsGarbage_data();
    void rejectsGarbage();
    void readsPemBundles();
    void noEkuMeansAnyUse();
};

void TestCertificate::parsesEveryField()
{
    const StandardPki &pki = StandardPki::instance();
    CertSpec spec = goodLeafSpec(QStringLiteral("alice@example.test"));
    spec.commonName = QStringLiteral("Alice Ærøskøbing"); // UTF-8 must survive
    spec.subjectEmail = QStringLiteral("Alice@Example.test");
    spec.upns = { QStringLiteral("alice@corp.example.test") };
    spec.dnsNames = { QStringLiteral("alice.example.test") };
    spec.extendedKeyUsage =
        QStringList { QStringLiteral("1.3.6.1.5.5.7.3.4"), QStringLiteral("1.3.6.1.5.5.7.3.2") };
    spec.ocspUrl = QStringLiteral("http://ocsp.example.test");
    spec.serial = 0x1234ABCD;
    const Issued leaf = TestPki::issue(spec, pki.intermediate);

    auto parsed = parseDer(leaf.der);
    QVERIFY2(parsed.ok(), qPrintable(parsed.ok() ? QString() : parsed.error().message));
    const Certificate &c = parsed->info;
    QCOMPARE(c.der, leaf.der);
    QCOMPARE(c.sha256, QCryptographicHash::hash(leaf.der, QCryptographicHash::Sha256));
    QCOMPARE(c.sha1, QCryptographicHash::hash(leaf.der, QCryptographicHash::Sha1));
    QCOMPARE(c.subject,
             QStringLiteral("emailAddress=Alice@Example.test,CN=Alice Ærøskøbing,O=certsync tests"));
    QCOMPARE(c.issuer, QStringLiteral("CN=certsync Test Issuing CA,O=certsync tests"));
    QCOMPARE(c.serialHex, QStringLiteral("1234ABCD"));
    QVERIFY(c.notBefore < QDateTime::currentDateTimeUtc());
    QCOMPARE(c.notAfter.timeSpec(), Qt::UTC);
    QVERIFY(qAbs(c.notAfter.secsTo(QDateTime::currentDateTimeUtc().addDays(365))) < 120);
    QCOMPARE(c.emailSans, QStringList { QStringLiteral("alice@example.test") });
    QCOMPARE(c.subjectEmails, QStringList { QStringLiteral("Alice@Example.test") });
    QCOMPARE(c.emails(), QStringList { QStringLiteral("alice@example.test") }); // lower-cased, de-duplicated
    QCOMPARE(c.upnSans, QStringList { QStringLiteral("alice@corp.example.test") });
    QCOMPARE(c.dnsSans, QStringList { QStringLiteral("alice.example.test") });
    QVERIFY(c.hasKeyUsage);
    QCOMPARE(c.keyUsage, quint16(DigitalSignature | NonRepudiation | KeyAgreement));
    QCOMPARE(c.keyUsageNames(),
             (QStringList { QStringLiteral("digitalSignature"), QStringLiteral("nonRepudiation"),
                            QStringLiteral("keyAgreement") }));
    QVERIFY(c.hasExtendedKeyUsage);
    QCOMPARE(c.extendedKeyUsages,
             (QStringList { QStringLiteral("1.3.6.1.5.5.7.3.4"), QStringLiteral("1.3.6.1.5.5.7.3.2") }));
    QCOMPARE(c.extendedKeyUsageNames().first(), QStringLiteral("E-mail protection"));
    QVERIFY(c.hasEmailProtection());
    QVERIFY(!c.isCa);
    QCOMPARE(c.keyType, KeyType::Ec);
    QCOMPARE(c.keyBits, 256);
    QCOMPARE(c.curve, QStringLiteral("prime256v1"));
    QCOMPARE(c.keyDescription(), QStringLiteral("EC 256 (prime256v1)"));
    QCOMPARE(c.signatureAlgorithm, QStringLiteral("sha256WithRSAEncryption"));
    QCOMPARE(c.signatureDigest, QStringLiteral("SHA256"));
    QCOMPARE(c.subjectKeyId.size(), 20);
    QCOMPARE(c.authorityKeyId, parseDer(pki.intermediate.der)->info.subjectKeyId);
    QCOMPARE(c.crlUrls, QStringList { QStringLiteral("http://pki.example.test/issuing.crl") });
    QCOMPARE(c.caIssuersUrls, QStringList { QStringLiteral("http://pki.example.test/issuing.cer") });
    QCOMPARE(c.ocspUrls, QStringList { QStringLiteral("http://ocsp.example.test") });
    QVERIFY(!c.selfIssued);
    QVERIFY(!c.selfSigned);
}

void TestCertificate::rsaKeyAndSha1Signature()
{
    CertSpec spec = goodLeafSpec(QStringLiteral("bob@example.test"), KeyKind::Rsa1024);
    spec.digest = QStringLiteral("SHA1");
    const Issued leaf = TestPki::issue(spec, StandardPki::instance().ecIntermediate);
    auto parsed = parseDer(leaf.der);
    QVERIFY(parsed.ok());
    QCOMPARE(parsed->info.keyType, KeyType::Rsa);
    QCOMPARE(parsed->info.keyBits, 1024);
    QVERIFY(parsed->info.curve.isEmpty());
    QCOMPARE(parsed->info.signatureAlgorithm, QStringLiteral("ecdsa-with-SHA1"));
    QCOMPARE(parsed->info.signatureDigest, QStringLiteral("SHA1"));
    QCOMPARE(parsed->info.keyUsage, quint16(DigitalSignature | NonRepudiation | KeyEncipherment));
}

void TestCertificate::caCertificate()
{
    auto root = parseDer(StandardPki::instance().root.der);
    QVERIFY(root.ok());
    QVERIFY(root->info.isCa);
    QVERIFY(root->info.selfIssued);
    QVERIFY(root->info.selfSigned);
    QCOMPARE(root->info.pathLength, -1);
    auto inter = parseDer(StandardPki::instance().intermediate.der);
    QVERIFY(inter->info.isCa);
    QCOMPARE(inter->info.pathLength, 0);
    QVERIFY(!inter->info.selfIssued);
}

void TestCertificate::rejectsGarbage_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("expected");
    const QByteArray good = StandardPki::instance().intermediate.der;
    QTest::newRow("empty") << QByteArray() << QStringLiteral("empty value");
    QTest::newRow("text") << QByteArray("hello, world") << QStringLiteral("not a DER X.509 certificate");
    QTest::newRow("truncated") << good.left(good.size() / 2) << QStringLiteral("not a DER X.509 certificate");
    QTest::newRow("trailing bytes") << good + QByteArray("\0\0", 2) << QStringLiteral("2 unexpected bytes");
    QByteArray flipped = good;
    flipped[4] = char(0x02); // a tag the TBSCertificate sequence cannot have
    QTest::newRow("wrong inner tag") << flipped << QStringLiteral("not a DER X.509 certificate");
}

void TestCertificate::rejectsGarbage()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, expected);
    auto parsed = parseDer(bytes);
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().code, QStringLiteral("parse_error"));
    QVERIFY2(parsed.error().message.contains(expected), qPrintable(parsed.error().message));
}

void TestCertificate::readsPemBundles()
{
    const StandardPki &pki = StandardPki::instance();
    const QByteArray bundle =
        "junk before\n" + TestPki::pemOf({ &pki.root, &pki.intermediate }) + "junk after\n";
    auto certs = parseFileBytes(bundle);
    QVERIFY(certs.ok());
    QCOMPARE(certs->size(), 2);
    QCOMPARE(certs->at(0).info.der, pki.root.der);
    QCOMPARE(certs->at(1).info.der, pki.intermediate.der);
    auto der = parseFileBytes(pki.root.der);
    QVERIFY(der.ok());
    QCOMPARE(der->size(), 1);
    auto none = parseFileBytes("-----BEGIN NOTHING-----\nAAAA\n-----END NOTHING-----\n");
    QVERIFY(!none.ok());
    QVERIFY(none.error().message.contains(QStringLiteral("no PEM certificate")));
}

void TestCertificate::noEkuMeansAnyUse()
{
    CertSpec spec = goodLeafSpec(QStringLiteral("carol@example.test"));
    spec.extendedKeyUsage = std::nullopt;
    spec.keyUsage = 0;
    auto parsed = parseDer(TestPki::issue(spec, StandardPki::instance().intermediate).der);
    QVERIFY(parsed.ok());
    QVERIFY(!parsed->info.hasExtendedKeyUsage);
    QVERIFY(!parsed->info.hasKeyUsage);
    QVERIFY(parsed->info.hasEmailProtection());
}

QTEST_GUILESS_MAIN(TestCertificate)
#include "tst_certificate.moc"
