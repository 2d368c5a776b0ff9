// userSMIMECertificate / userCertificate values: PKCS#7 bags, bare certificates, garbage.
#include "TestPki.h"
#include "certs/SmimeValue.h"

#include <QFile>
#include <QTest>

using namespace certsync;
using namespace certsync::certs;
using namespace certsync::testing;

class TestSmimeValue : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void signedBagWithCapabilities();
    void certsOnlyBagPicksByEmail_data();
    void certsOnlyBagPicksByEmail();
    void bareCertificateInSmimeAttribute();
    void pkcs7InUserCertificate();
    void invalidValues_data();
    void invalidValues();
    void outlookFixture();
    void bagReusesKnownCertificates_data();
    void bagReusesKnownCertificates();

private:
    Issued m_leaf;
    Issued m_other;
};

void TestSmimeValue::initTestCase()
{
    m_leaf = TestPki::issue(goodLeafSpec(QStringLiteral("dana@example.test")),
                            StandardPki::instance().intermediate);
    m_other = TestPki::issue(goodLeafSpec(QStringLiteral("erin@example.test")),
                             StandardPki::instance().intermediate);
}

void TestSmimeValue::signedBagWithCapabilities()
{
    const StandardPki &pki = StandardPki::instance();
    // The signer is not first in the bag: the choice must come from the SignerInfo, not the order.
    const QByteArray bytes = TestPki::pkcs7Signed(m_leaf, { &pki.root, &pki.intermediate });
    const DecodedValue value = decodeValue(Attribute::UserSmimeCertificate, bytes);
    QCOMPARE(value.kind, ValueKind::Pkcs7);
    QVERIFY(value.error.isEmpty());
    QVERIFY(value.pkcs7Signed);
    QVERIFY(!value.bareCertificate);
    QCOMPARE(value.certificates.size(), 3);
    QCOMPARE(value.handles.size(), size_t(3));
    QVERIFY(value.userIndex >= 0);
    QCOMPARE(value.certificates.at(value.userIndex).der, m_leaf.der);
    QCOMPARE(value.userChoice, QStringLiteral("signer"));
    QVERIFY(!value.capabilities.isEmpty());
    QStringList oids;
    for (const SmimeCapability &cap : value.capabilities)
        oids.append(cap.oid);
    QVERIFY2(oids.contains(QStringLiteral("2.16.840.1.101.3.4.1.42")),
             qPrintable(oids.join(u' '))); // aes256-CBC
    QCOMPARE(value.capabilities.first().name.isEmpty(), false);

    const DecodedValue noCaps =
        decodeValue(Attribute::UserSmimeCertificate, TestPki::pkcs7Signed(m_leaf, {}, false));
    QCOMPARE(noCaps.kind, ValueKind::Pkcs7);
    QVERIFY(noCaps.capabilities.isEmpty());
    QCOMPARE(noCaps.certificates.size(), 1);
}

void TestSmimeValue::certsOnlyBagPicksByEmail_data()
{
    QTest::addColumn<QStringList>("userEmails");
    QTest::addColumn<QString>("expectedMail");
    QTest::addColumn<QString>("expectedChoice");
    QTest::newRow("by e-mail, first") << QStringList { QStringLiteral("dana@example.test") }
                                      << QStringLiteral("dana@example.test") << QStringLiteral("e-mail");
    QTest::newRow("by e-mail, second") << QStringList { QStringLiteral("erin@example.test") }
                                       << QStringLiteral("erin@example.test") << QStringLiteral("e-mail");
    QTest::newRow("two leaves, no match")
        << QStringList { QStringLiteral("zed@example.test") } << QString() << QString();
}

void TestSmimeValue::certsOnlyBagPicksByEmail()
{
    QFETCH(QStringList, userEmails);
    QFETCH(QString, expectedMail);
    QFETCH(QString, expectedChoice);
    const QByteArray bytes =
        TestPki::pkcs7CertsOnly({ &StandardPki::instance().intermediate, &m_leaf, &m_other });
    const DecodedValue value = decodeValue(Attribute::UserSmimeCertificate, bytes, userEmails);
    QCOMPARE(value.kind, ValueKind::Pkcs7);
    QVERIFY(!value.pkcs7Signed);
    QCOMPARE(value.certificates.size(), 3);
    QCOMPARE(value.userChoice, expectedChoice);
    if (expectedMail.isEmpty()) {
        QCOMPARE(value.userIndex, -1);
    } else {
        QVERIFY(value.userIndex >= 0);
        QCOMPARE(value.certificates.at(value.userIndex).emails(), QStringList { expectedMail });
    }

    const DecodedValue single =
        decodeValue(Attribute::UserSmimeCertificate,
                    TestPki::pkcs7CertsOnly({ &StandardPki::instance().intermediate, &m_leaf }));
    QCOMPARE(single.userChoice, QStringLiteral("only leaf"));
    QCOMPARE(single.certificates.at(single.userIndex).der, m_leaf.der);
}

void TestSmimeValue::bareCertificateInSmimeAttribute()
{
    const DecodedValue value = decodeValue(Attribute::UserSmimeCertificate, m_leaf.der);
    QCOMPARE(value.kind, ValueKind::X509);
    QVERIFY(value.bareCertificate);
    QCOMPARE(value.certificates.size(), 1);
    QCOMPARE(value.userIndex, 0);

    const DecodedValue plain = decodeValue(Attribute::UserCertificate, m_leaf.der);
    QCOMPARE(plain.kind, ValueKind::X509);
    QVERIFY(!plain.bareCertificate); // that is where a bare certificate belongs
}

void TestSmimeValue::pkcs7InUserCertificate()
{
    const DecodedValue value = decodeValue(Attribute::UserCertificate, TestPki::pkcs7Signed(m_leaf, {}));
    QCOMPARE(value.kind, ValueKind::Pkcs7);
    QCOMPARE(value.certificates.first().der, m_leaf.der);
}

void TestSmimeValue::invalidValues_data()
{
    QTest::addColumn<int>("attribute");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("expected");
    const QByteArray bag = TestPki::pkcs7Signed(m_leaf, {});
    const int smime = int(Attribute::UserSmimeCertificate);
    const int user = int(Attribute::UserCertificate);
    QTest::newRow("empty") << smime << QByteArray() << QStringLiteral("empty value");
    QTest::newRow("base64 text instead of DER")
        << smime << m_leaf.der.toBase64() << QStringLiteral("not DER: first byte 0x");
    QTest::newRow("truncated PKCS#7")
        << smime << bag.left(bag.size() - 40) << QStringLiteral("neither PKCS#7");
    QTest::newRow("trailing bytes") << smime << bag + QByteArray(3, '\0')
                                    << QStringLiteral("neither PKCS#7 (3 unexpected bytes");
    QTest::newRow("empty sequence") << user << QByteArray::fromHex("3000")
                                    << QStringLiteral("not an X.509 certificate");
    QTest::newRow("truncated certificate")
        << user << m_leaf.der.left(100) << QStringLiteral("not an X.509 certificate");
}

void TestSmimeValue::invalidValues()
{
    QFETCH(int, attribute);
    QFETCH(QByteArray, bytes);
    QFETCH(QString, expected);
    const DecodedValue value = decodeValue(Attribute(attribute), bytes);
    QCOMPARE(value.kind, ValueKind::Invalid);
    QCOMPARE(value.bytes, bytes); // nothing is lost
    QVERIFY(value.certificates.isEmpty());
    QVERIFY2(value.error.contains(expected), qPrintable(value.error));
}

// A committed value shaped like Outlook's "Publish to GAL": signed, with capabilities, signing time
// and the whole chain (made once with the openssl CLI, see tests/fixtures/README.md).
void TestSmimeValue::outlookFixture()
{
    QFile file(QStringLiteral(CERTSYNC_FIXTURES) + QStringLiteral("/outlook-gal.p7b"));
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.fileName()));
    const DecodedValue value = decodeValue(Attribute::UserSmimeCertificate, file.readAll());
    QCOMPARE(value.kind, ValueKind::Pkcs7);
    QVERIFY(value.pkcs7Signed);
    QCOMPARE(value.certificates.size(), 3);
    QCOMPARE(value.userChoice, QStringLiteral("signer"));
    QCOMPARE(value.certificates.at(value.userIndex).emails(),
             QStringList { QStringLiteral("frank.fixture@example.test") });
    QStringList names;
    for (const SmimeCapability &cap : value.capabilities)
        names.append(cap.name);
    QVERIFY2(names.contains(QStringLiteral("aes-256-cbc")), qPrintable(names.join(u',')));
    QVERIFY2(names.contains(QStringLiteral("des-ede3-cbc")), qPrintable(names.join(u',')));
    bool rc2With128Bits = false;
    for (const SmimeCapability &cap : value.capabilities)
        rc2With128Bits |= cap.name == QLatin1String("rc2-cbc") && cap.parameter == 128;
    QVERIFY(rc2With128Bits);
}

void TestSmimeValue::bagReusesKnownCertificates_data()
{
    const StandardPki &pki = StandardPki::instance();
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("reused"); // whether the known certificate is in the bag
    QTest::addColumn<QByteArray>("knownDer"); // empty: m_leaf
    QTest::newRow("signed, chain") << TestPki::pkcs7Signed(m_leaf, { &pki.root, &pki.intermediate }) << true
                                   << QByteArray();
    QTest::newRow("signed, alone") << TestPki::pkcs7Signed(m_leaf, {}, false) << true << QByteArray();
    QTest::newRow("certs-only") << TestPki::pkcs7CertsOnly({ &pki.intermediate, &m_leaf, &m_other }) << true
                                << QByteArray();
    QTest::newRow("certs-only, with the root")
        << TestPki::pkcs7CertsOnly({ &m_leaf, &pki.root }) << true << QByteArray();
    QTest::newRow("unknown only") << TestPki::pkcs7CertsOnly({ &m_other, &pki.intermediate }) << false
                                  << QByteArray();
    QTest::newRow("no certificates") << TestPki::pkcs7CertsOnly({}) << false << QByteArray();
    QTest::newRow("trailing bytes") << TestPki::pkcs7CertsOnly({ &m_leaf }) + QByteArray(2, '\0') << false
                                    << QByteArray();
    QTest::newRow("truncated") << TestPki::pkcs7CertsOnly({ &m_leaf }).chopped(1) << false << QByteArray();
    QTest::newRow("bare certificate") << m_leaf.der << false << QByteArray();
    QFile file(QStringLiteral(CERTSYNC_FIXTURES) + QStringLiteral("/outlook-gal.p7b"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray outlook = file.readAll();
    QTest::newRow("outlook fixture, other user") << outlook << false << QByteArray();
    const DecodedValue decoded = decodeValue(Attribute::UserSmimeCertificate, outlook);
    QCOMPARE(decoded.kind, ValueKind::Pkcs7);
    QTest::newRow("outlook fixture") << outlook << true << decoded.certificates.at(decoded.userIndex).der;
}

// A bag that repeats a certificate the user's userCertificate holds takes it from there, and decodes
// to exactly what the bag decodes to on its own.
void TestSmimeValue::bagReusesKnownCertificates()
{
    QFETCH(QByteArray, bytes);
    QFETCH(bool, reused);
    QFETCH(QByteArray, knownDer);
    if (knownDer.isEmpty())
        knownDer = m_leaf.der;
    auto known = parseDer(knownDer);
    QVERIFY(known.ok());
    const KnownCertificates knownList { &*known };
    const QStringList emails { QStringLiteral("dana@example.test"),
                               QStringLiteral("frank.fixture@example.test") };
    const DecodedValue alone = decodeValue(Attribute::UserSmimeCertificate, bytes, emails);
    const DecodedValue value =
        decodeValue(Attribute::UserSmimeCertificate, bytes, emails, ossl::LibContext::global(), &knownList);
    QCOMPARE(value.kind, alone.kind);
    QCOMPARE(value.error, alone.error);
    QCOMPARE(value.bytes, bytes);
    QCOMPARE(value.bareCertificate, alone.bareCertificate);
    QCOMPARE(value.pkcs7Signed, alone.pkcs7Signed);
    QCOMPARE(value.userIndex, alone.userIndex);
    QCOMPARE(value.userChoice, alone.userChoice);
    QCOMPARE(value.capabilities.size(), alone.capabilities.size());
    for (int i = 0; i < value.capabilities.size(); ++i) {
        QCOMPARE(value.capabilities.at(i).oid, alone.capabilities.at(i).oid);
        QCOMPARE(value.capabilities.at(i).parameter, alone.capabilities.at(i).parameter);
    }
    QCOMPARE(value.certificates.size(), alone.certificates.size());
    QCOMPARE(value.handles.size(), alone.handles.size());
    int fromKnown = 0;
    for (int i = 0; i < value.certificates.size(); ++i) {
        const Certificate &a = value.certificates.at(i);
        const Certificate &b = alone.certificates.at(i);
        QCOMPARE(a.der, b.der);
        QCOMPARE(a.sha256, b.sha256);
        QCOMPARE(a.sha1, b.sha1);
        QCOMPARE(a.subject, b.subject);
        QCOMPARE(a.serialHex, b.serialHex);
        QCOMPARE(a.emails(), b.emails());
        QCOMPARE(a.isCa, b.isCa);
        QCOMPARE(a.keyDescription(), b.keyDescription());
        QCOMPARE(X509_cmp(value.handles[size_t(i)].get(), alone.handles[size_t(i)].get()), 0);
        const bool isKnown = value.knownIndex.value(i, -1) == 0;
        QCOMPARE(isKnown, a.der == knownDer && value.kind == ValueKind::Pkcs7 && reused);
        if (isKnown) // the very same decoded certificate, not a second decoding of it
            QCOMPARE(value.handles[size_t(i)].get(), known->handle.get());
        fromKnown += isKnown;
    }
    QCOMPARE(fromKnown > 0, reused);
}

QTEST_GUILESS_MAIN(TestSmimeValue)
#include "tst_smimevalue.moc"
