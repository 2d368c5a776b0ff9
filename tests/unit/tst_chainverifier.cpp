// Chain building and verification against configured anchors, intermediates and CRLs.
#include "TestPki.h"
#include "certs/ChainVerifier.h"

#include <QTemporaryDir>
#include <QTest>

using namespace certsync;
using namespace certsync::certs;
using namespace certsync::testing;

class TestChainVerifier : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void verdicts_data();
    void verdicts();
    void crlCheckedOnlyWhereKnown();
    void loadErrorsNameTheFile();
    void bundleSplitsAnchorsFromIntermediates();
    void fastPathMatchesFullVerification();
    void forgedIntermediateIsNoShortcut();
    void crlCheckedOnceGivesOpenSslsVerdicts();

private:
    QTemporaryDir m_dir;
    QString m_rootFile;
    QString m_intermediatesFile;
    QString m_crlFile;
    Issued m_hiddenIntermediate; // issued by the root but never offered to chain building
    Issued m_revoked;
};

void TestChainVerifier::initTestCase()
{
    QVERIFY(m_dir.isValid());
    const StandardPki &pki = StandardPki::instance();
    m_rootFile = m_dir.filePath(QStringLiteral("root.pem"));
    m_intermediatesFile = m_dir.filePath(QStringLiteral("intermediates.pem"));
    m_crlFile = m_dir.filePath(QStringLiteral("issuing.crl"));
    QVERIFY(TestPki::writeFile(m_rootFile, pki.root.pem()));
    QVERIFY(TestPki::writeFile(m_intermediatesFile, TestPki::pemOf({ &pki.intermediate })));
    CertSpec hidden;
    hidden.commonName = QStringLiteral("Hidden Issuing CA");
    hidden.ca = true;
    hidden.keySlot = 7;
    m_hiddenIntermediate = TestPki::issue(hidden, pki.root);
    m_revoked = TestPki::issue(goodLeafSpec(QStringLiteral("revoked@example.test")), pki.intermediate);
    QVERIFY(TestPki::writeFile(m_crlFile, TestPki::crlDer(pki.intermediate, { &m_revoked })));
}

void TestChainVerifier::verdicts_data()
{
    QTest::addColumn<QByteArray>("leafDer");
    QTest::addColumn<QList<QByteArray>>("bag");
    QTest::addColumn<bool>("withCrl");
    QTest::addColumn<int>("status");
    QTest::addColumn<int>("chainLength");
    QTest::addColumn<int>("opensslError");

    const StandardPki &pki = StandardPki::instance();
    const QByteArray good =
        TestPki::issue(goodLeafSpec(QStringLiteral("a@example.test")), pki.intermediate).der;
    const QByteArray viaEc =
        TestPki::issue(goodLeafSpec(QStringLiteral("b@example.test")), pki.ecIntermediate).der;
    CertSpec expiredSpec = goodLeafSpec(QStringLiteral("c@example.test"));
    expiredSpec.notBeforeDays = -400;
    expiredSpec.notAfterDays = -10;
    const QByteArray expired = TestPki::issue(expiredSpec, pki.intermediate).der;
    const QByteArray hidden =
        TestPki::issue(goodLeafSpec(QStringLiteral("d@example.test")), m_hiddenIntermediate).der;
    const QByteArray foreign =
        TestPki::issue(goodLeafSpec(QStringLiteral("e@example.test")), pki.otherRoot).der;
    CertSpec selfSpec = goodLeafSpec(QStringLiteral("f@example.test"));
    const QByteArray self = TestPki::selfSigned(selfSpec).der;
    const QByteArray forged =
        TestPki::issueWithBadSignature(goodLeafSpec(QStringLiteral("g@example.test")), pki.intermediate).der;

    const auto T = int(ChainStatus::Trusted);
    QTest::newRow("intermediate from the trust settings")
        << good << QList<QByteArray> {} << false << T << 3 << 0;
    QTest::newRow("intermediate from the bag")
        << viaEc << QList<QByteArray> { pki.ecIntermediate.der } << false << T << 3 << 0;
    QTest::newRow("expired leaf: the chain is still trusted")
        << expired << QList<QByteArray> {} << false << T << 3 << 0;
    QTest::newRow("missing intermediate")
        << hidden << QList<QByteArray> {} << false << int(ChainStatus::Incomplete) << 1
        << int(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    QTest::newRow("missing intermediate, offered in the bag")
        << hidden << QList<QByteArray> { m_hiddenIntermediate.der } << false << T << 3 << 0;
    QTest::newRow("foreign root") << foreign << QList<QByteArray> { pki.otherRoot.der } << false
                                  << int(ChainStatus::Untrusted) << 2
                                  << int(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
    QTest::newRow("self-signed leaf") << self << QList<QByteArray> {} << false << int(ChainStatus::Untrusted)
                                      << 1 << int(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    QTest::newRow("forged signature") << forged << QList<QByteArray> {} << false << int(ChainStatus::Invalid)
                                      << 3 << int(X509_V_ERR_CERT_SIGNATURE_FAILURE);
    QTest::newRow("revoked") << m_revoked.der << QList<QByteArray> {} << true << int(ChainStatus::Revoked)
                             << 3 << int(X509_V_ERR_CERT_REVOKED);
    QTest::newRow("CRL lists others only") << good << QList<QByteArray> {} << true << T << 3 << 0;
}

void TestChainVerifier::verdicts()
{
    QFETCH(QByteArray, leafDer);
    QFETCH(QList<QByteArray>, bag);
    QFETCH(bool, withCrl);
    QFETCH(int, status);
    QFETCH(int, chainLength);
    QFETCH(int, opensslError);

    TrustSettings settings;
    settings.anchorFiles = { m_rootFile };
    settings.intermediateFiles = { m_intermediatesFile };
    if (withCrl)
        settings.crlFiles = { m_crlFile };
    auto trust = TrustStore::load(settings);
    QVERIFY2(trust.ok(), qPrintable(trust.ok() ? QString() : trust.error().message));
    QCOMPARE(trust->anchorCount(), 1);

    auto leaf = parseDer(leafDer);
    QVERIFY(leaf.ok());
    std::vector<ParsedCertificate> parsedBag;
    std::vector<X509 *> bagHandles;
    for (const QByteArray &der : bag) {
        parsedBag.push_back(std::move(parseDer(der).value()));
        bagHandles.push_back(parsedBag.back().handle.get());
    }
    const ChainResult result = ChainVerifier(*trust).verify(leaf->handle.get(), bagHandles);
    QCOMPARE(chainStatusName(result.status), chainStatusName(ChainStatus(status)));
    QCOMPARE(result.chain.size(), chainLength);
    QCOMPARE(result.opensslError, opensslError);
    QCOMPARE(result.chain.first().subject, leaf->info.subject);
    if (result.trusted()) {
        QVERIFY(result.chain.last().isAnchor);
        QCOMPARE(result.chain.last().subject, QStringLiteral("CN=certsync Test Root CA,O=certsync tests"));
        QVERIFY(result.message.isEmpty());
    } else {
        QVERIFY(!result.message.isEmpty());
        QVERIFY(!result.chain.first().problems.isEmpty() || !result.chain.last().problems.isEmpty());
    }
    if (ChainStatus(status) == ChainStatus::Revoked) {
        QVERIFY(result.chain.first().revoked);
        QVERIFY(result.revocationChecked);
    }
}

void TestChainVerifier::crlCheckedOnlyWhereKnown()
{
    TrustSettings settings;
    settings.anchorFiles = { m_rootFile };
    settings.intermediateFiles = { m_intermediatesFile };
    settings.crlFiles = { m_crlFile };
    auto trust = TrustStore::load(settings);
    QVERIFY(trust.ok());
    const StandardPki &pki = StandardPki::instance();
    // A leaf of the EC issuing CA: no CRL for that issuer, so trusted but not revocation-checked.
    auto leaf =
        parseDer(TestPki::issue(goodLeafSpec(QStringLiteral("h@example.test")), pki.ecIntermediate).der);
    auto ec = parseDer(pki.ecIntermediate.der);
    const ChainResult result = ChainVerifier(*trust).verify(leaf->handle.get(), { ec->handle.get() });
    QCOMPARE(result.status, ChainStatus::Trusted);
    QVERIFY(!result.revocationChecked);
    for (const ChainElement &element : result.chain) // "no CRL" is not a problem of any certificate
        QVERIFY2(element.problems.isEmpty(), qPrintable(element.problems.join(u';')));
    // Nor for the configured intermediate verified up front, whose own CRL nobody configured.
    auto other =
        parseDer(TestPki::issue(goodLeafSpec(QStringLiteral("i@example.test")), pki.intermediate).der);
    const ChainResult viaConfigured = ChainVerifier(*trust).verify(other->handle.get());
    QCOMPARE(viaConfigured.status, ChainStatus::Trusted);
    QVERIFY(viaConfigured.revocationChecked);
    QCOMPARE(viaConfigured.chain.size(), 3);
    for (const ChainElement &element : viaConfigured.chain)
        QVERIFY2(element.problems.isEmpty(), qPrintable(element.problems.join(u';')));
}

void TestChainVerifier::loadErrorsNameTheFile()
{
    TrustSettings missing;
    missing.anchorFiles = { m_dir.filePath(QStringLiteral("nope.pem")) };
    auto a = TrustStore::load(missing);
    QVERIFY(!a.ok());
    QCOMPARE(a.error().code, QStringLiteral("trust_file"));
    QVERIFY2(a.error().message.contains(QStringLiteral("nope.pem")), qPrintable(a.error().message));

    const QString garbage = m_dir.filePath(QStringLiteral("garbage.pem"));
    QVERIFY(TestPki::writeFile(garbage, "this is not a certificate"));
    TrustSettings bad;
    bad.anchorFiles = { garbage };
    auto b = TrustStore::load(bad);
    QVERIFY(!b.ok());
    QVERIFY2(b.error().message.contains(QStringLiteral("garbage.pem")), qPrintable(b.error().message));

    TrustSettings badCrl;
    badCrl.crlFiles = { garbage };
    auto c = TrustStore::load(badCrl);
    QVERIFY(!c.ok());
    QVERIFY2(c.error().message.contains(QStringLiteral("no readable CRL")), qPrintable(c.error().message));
}

void TestChainVerifier::bundleSplitsAnchorsFromIntermediates()
{
    const StandardPki &pki = StandardPki::instance();
    const QString bundle = m_dir.filePath(QStringLiteral("bundle.pem"));
    QVERIFY(
        TestPki::writeFile(bundle, TestPki::pemOf({ &pki.intermediate, &pki.root, &pki.ecIntermediate })));
    TrustSettings settings;
    settings.bundleFiles = { bundle };
    auto trust = TrustStore::load(settings);
    QVERIFY(trust.ok());
    QCOMPARE(trust->anchorCount(), 1);
    QCOMPARE(trust->intermediates().size(), size_t(2));
}

void TestChainVerifier::fastPathMatchesFullVerification()
{
    const StandardPki &pki = StandardPki::instance();
    TrustSettings configured; // the issuing CA is configured: verified once, then a shortcut
    configured.anchorFiles = { m_rootFile };
    configured.intermediateFiles = { m_intermediatesFile };
    TrustSettings bare; // nothing but the anchor: every chain is built and verified in full
    bare.anchorFiles = { m_rootFile };
    auto fastTrust = TrustStore::load(configured);
    auto fullTrust = TrustStore::load(bare);
    QVERIFY(fastTrust.ok() && fullTrust.ok());
    const ChainVerifier fast(*fastTrust);
    const ChainVerifier full(*fullTrust);
    QCOMPARE(fast.preverifiedIntermediates(), 1);
    QCOMPARE(full.preverifiedIntermediates(), 0);

    auto leaf =
        parseDer(TestPki::issue(goodLeafSpec(QStringLiteral("k@example.test")), pki.intermediate).der);
    auto inter = parseDer(pki.intermediate.der);
    const ChainResult a = fast.verify(leaf->handle.get());
    const ChainResult b = full.verify(leaf->handle.get(), { inter->handle.get() });
    QCOMPARE(a.status, ChainStatus::Trusted);
    QCOMPARE(b.status, ChainStatus::Trusted);
    QCOMPARE(a.chain.size(), 3);
    QCOMPARE(b.chain.size(), 3);
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(a.chain.at(i).subject, b.chain.at(i).subject);
        QCOMPARE(a.chain.at(i).sha256, b.chain.at(i).sha256);
        QCOMPARE(a.chain.at(i).isAnchor, b.chain.at(i).isAnchor);
        QCOMPARE(a.chain.at(i).isAnchor, i == 2);
    }
    // The configured intermediate checked on its own: trusted, with the root above it.
    const ChainResult self = fast.verify(inter->handle.get(), {}, ChainVerifier::Role::Issuer);
    QCOMPARE(self.status, ChainStatus::Trusted);
    QCOMPARE(self.chain.size(), 2);
    QVERIFY(!self.chain.first().isAnchor);
    QVERIFY(self.chain.last().isAnchor);
}

void TestChainVerifier::forgedIntermediateIsNoShortcut()
{
    const StandardPki &pki = StandardPki::instance();
    CertSpec forgedSpec;
    forgedSpec.commonName = QStringLiteral("Forged Issuing CA");
    forgedSpec.ca = true;
    forgedSpec.keySlot = 8;
    const Issued forged = TestPki::issueWithBadSignature(forgedSpec, pki.root);
    const QString file = m_dir.filePath(QStringLiteral("forged.pem"));
    QVERIFY(TestPki::writeFile(file, forged.pem()));
    TrustSettings settings;
    settings.anchorFiles = { m_rootFile };
    settings.intermediateFiles = { file };
    auto trust = TrustStore::load(settings);
    QVERIFY(trust.ok());
    const ChainVerifier verifier(*trust);
    QCOMPARE(verifier.preverifiedIntermediates(), 0);
    auto leaf = parseDer(TestPki::issue(goodLeafSpec(QStringLiteral("l@example.test")), forged).der);
    const ChainResult result = verifier.verify(leaf->handle.get());
    QCOMPARE(result.status, ChainStatus::Invalid);
    QCOMPARE(result.opensslError, int(X509_V_ERR_CERT_SIGNATURE_FAILURE));
    QCOMPARE(result.chain.size(), 3);
}

// On the fast path a CRL's signature is checked once, when the verifier is made, not for every leaf
// (checkCrlOnce): every verdict must stay what OpenSSL's own check gives, for a good CRL and for one
// that carries the issuing CA's name but another key's signature.
void TestChainVerifier::crlCheckedOnceGivesOpenSslsVerdicts()
{
    const StandardPki &pki = StandardPki::instance();
    CertSpec impostorSpec; // the issuing CA's name, another key
    impostorSpec.commonName = QStringLiteral("certsync Test Issuing CA");
    impostorSpec.ca = true;
    impostorSpec.key = KeyKind::Rsa2048;
    impostorSpec.keySlot = 9;
    const Issued impostor = TestPki::issue(impostorSpec, pki.root);
    QCOMPARE(X509_NAME_cmp(X509_get_subject_name(impostor.cert.get()),
                           X509_get_subject_name(pki.intermediate.cert.get())),
             0);
    const QString forgedCrl = m_dir.filePath(QStringLiteral("forged.crl"));
    QVERIFY(TestPki::writeFile(forgedCrl, TestPki::crlDer(impostor, { &m_revoked })));

    const Issued good = TestPki::issue(goodLeafSpec(QStringLiteral("m@example.test")), pki.intermediate);
    auto inter = parseDer(pki.intermediate.der);
    struct Case
    {
        const char *name;
        QString crl;
        const Issued *leaf;
        ChainStatus status;
        int opensslError;
    };
    const Case cases[] = {
        { "good CRL, good leaf", m_crlFile, &good, ChainStatus::Trusted, 0 },
        { "good CRL, revoked leaf", m_crlFile, &m_revoked, ChainStatus::Revoked, X509_V_ERR_CERT_REVOKED },
        { "forged CRL, good leaf", forgedCrl, &good, ChainStatus::Invalid, X509_V_ERR_CRL_SIGNATURE_FAILURE },
        { "forged CRL, revoked leaf", forgedCrl, &m_revoked, ChainStatus::Revoked, X509_V_ERR_CERT_REVOKED },
    };
    for (const Case &c : cases) {
        TrustSettings configured; // fast path: the issuing CA verified up front
        configured.anchorFiles = { m_rootFile };
        configured.intermediateFiles = { m_intermediatesFile };
        configured.crlFiles = { c.crl };
        TrustSettings bare = configured; // every chain built and checked by OpenSSL alone
        bare.intermediateFiles.clear();
        auto fastTrust = TrustStore::load(configured);
        auto fullTrust = TrustStore::load(bare);
        QVERIFY(fastTrust.ok() && fullTrust.ok());
        const ChainVerifier fast(*fastTrust);
        QCOMPARE(fast.preverifiedIntermediates(), 1);
        auto leaf = parseDer(c.leaf->der);
        // Twice on the fast path: the second answer comes after the first has been remembered.
        for (int round = 0; round < 2; ++round) {
            const ChainResult a = fast.verify(leaf->handle.get());
            const ChainResult b =
                ChainVerifier(*fullTrust).verify(leaf->handle.get(), { inter->handle.get() });
            const QByteArray what = QByteArray(c.name) + ", round " + QByteArray::number(round);
            QVERIFY2(a.status == c.status, what.constData());
            QVERIFY2(b.status == c.status, what.constData());
            QVERIFY2(a.opensslError == c.opensslError, what.constData());
            QVERIFY2(b.opensslError == c.opensslError, what.constData());
            QVERIFY2(a.revocationChecked && b.revocationChecked, what.constData());
            QVERIFY2(a.chain.size() == 3 && b.chain.size() == 3, what.constData());
            for (int i = 0; i < 3; ++i) {
                const QString detail = QString::fromUtf8(what) + u": " + a.chain.at(i).problems.join(u';')
                    + u" / " + b.chain.at(i).problems.join(u';');
                QVERIFY2(a.chain.at(i).problems == b.chain.at(i).problems, qPrintable(detail));
                QVERIFY2(a.chain.at(i).revoked == b.chain.at(i).revoked, what.constData());
            }
        }
    }
}

QTEST_GUILESS_MAIN(TestChainVerifier)
#include "tst_chainverifier.moc"
