// The JWT client assertion, checked against the openssl command-line tool: RS256 signatures are
// deterministic and must equal `openssl dgst -sha256 -sign`; PS256 ones are randomised and must
// verify with `openssl dgst -sigopt rsa_padding_mode:pss`.
#include "TestPki.h"
#include "tenant/ClientAssertion.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <openssl/pem.h>

using namespace certsync;
using namespace certsync::tenant;
using namespace certsync::testing;

namespace {

QByteArray unb64url(const QByteArray &b)
{
    return QByteArray::fromBase64(b, QByteArray::Base64UrlEncoding);
}

QByteArray keyPem(EVP_PKEY *key)
{
    ossl::BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    char *data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return QByteArray(data, int(n));
}

} // namespace

class TestClientAssertion : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void rs256MatchesOpensslCli();
    void ps256VerifiesWithOpensslCli();
    void claimsAreTheDocumentedOnes();
    void refusesLongLifetime();
    void refusesNonRsaKey();
    void refusesKeyOfAnotherCertificate();

private:
    // Runs openssl with `args`; returns stdout, fails the test when it exits non-zero and `mustSucceed`.
    QByteArray openssl(const QStringList &args, int *exitCode = nullptr);
    AssertionClaims fixedClaims() const;

    QTemporaryDir m_dir;
    QString m_openssl;
    Issued m_cert;
    QString m_keyFile;
    QString m_certFile;
    QString m_pubFile;
};

QByteArray TestClientAssertion::openssl(const QStringList &args, int *exitCode)
{
    QProcess p;
    p.start(m_openssl, args);
    if (!p.waitForFinished(30000))
        qFatal("openssl did not finish");
    if (exitCode)
        *exitCode = p.exitCode();
    else if (p.exitCode() != 0)
        qWarning("openssl %s: %s", qPrintable(args.join(QLatin1Char(' '))),
                 p.readAllStandardError().constData());
    return p.readAllStandardOutput();
}

AssertionClaims TestClientAssertion::fixedClaims() const
{
    AssertionClaims c;
    c.clientId = QStringLiteral("6731de76-14a6-49ae-97bc-6eba6914391e");
    c.audience = QStringLiteral(
        "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token");
    c.issuedAt = QDateTime(QDate(2026, 11, 28), QTime(9, 0), Qt::UTC);
    c.lifetimeSeconds = 600;
    c.jti = QStringLiteral("0f5c6e2a-6b1e-4c1e-9d1f-2a3b4c5d6e7f");
    return c;
}

void TestClientAssertion::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
    QVERIFY2(!m_openssl.isEmpty(),
             "the openssl command-line tool is needed (packaging/install-deps.sh installs it)");
    CertSpec spec;
    spec.commonName = QStringLiteral("certsync app credential");
    spec.key = KeyKind::Rsa2048;
    spec.keySlot = 5;
    spec.extendedKeyUsage = std::nullopt;
    m_cert = TestPki::selfSigned(spec);
    m_keyFile = m_dir.filePath(QStringLiteral("key.pem"));
    m_certFile = m_dir.filePath(QStringLiteral("cert.pem"));
    m_pubFile = m_dir.filePath(QStringLiteral("pub.pem"));
    QVERIFY(TestPki::writeFile(m_keyFile, keyPem(m_cert.key.get())));
    QVERIFY(TestPki::writeFile(m_certFile, m_cert.pem()));
    int rc = -1;
    openssl({ QStringLiteral("pkey"), QStringLiteral("-in"), m_keyFile, QStringLiteral("-pubout"),
              QStringLiteral("-out"), m_pubFile },
            &rc);
    QCOMPARE(rc, 0);
}

void TestClientAssertion::rs256MatchesOpensslCli()
{
    auto credential = ClientCredential::fromPemFiles(m_certFile, m_keyFile);
    QVERIFY2(credential.ok(), qPrintable(credential.ok() ? QString() : credential.error().toString()));
    auto jwt = buildClientAssertion(*credential, fixedClaims(), AssertionAlgorithm::Rs256);
    QVERIFY(jwt.ok());
    const QList<QByteArray> parts = jwt->split('.');
    QCOMPARE(parts.size(), 3);

    // x5t: base64url of the SHA-1 of the DER, from openssl's fingerprint.
    const QByteArray fp =
        openssl({ QStringLiteral("x509"), QStringLiteral("-in"), m_certFile, QStringLiteral("-noout"),
                  QStringLiteral("-fingerprint"), QStringLiteral("-sha1") });
    const QByteArray sha1 = QByteArray::fromHex(fp.mid(fp.indexOf('=') + 1).trimmed().replace(":", ""));
    QCOMPARE(sha1.size(), 20);
    const QByteArray x5t = sha1.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    QCOMPARE(unb64url(parts[0]), QByteArray(R"({"alg":"RS256","typ":"JWT","x5t":")" + x5t + "\"}"));

    const QString input = m_dir.filePath(QStringLiteral("rs256.txt"));
    const QString sig = m_dir.filePath(QStringLiteral("rs256.sig"));
    QVERIFY(TestPki::writeFile(input, parts[0] + '.' + parts[1]));
    int rc = -1;
    openssl({ QStringLiteral("dgst"), QStringLiteral("-sha256"), QStringLiteral("-sign"), m_keyFile,
              QStringLiteral("-out"), sig, input },
            &rc);
    QCOMPARE(rc, 0);
    QFile f(sig);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray expected = f.readAll();
    QCOMPARE(expected.size(), 256);
    QCOMPARE(unb64url(parts[2]).toHex(), expected.toHex());
}

void TestClientAssertion::ps256VerifiesWithOpensslCli()
{
    auto credential = ClientCredential::fromPemFiles(m_certFile, m_keyFile);
    QVERIFY(credential.ok());
    auto first = buildClientAssertion(*credential, fixedClaims(), AssertionAlgorithm::Ps256);
    auto second = buildClientAssertion(*credential, fixedClaims(), AssertionAlgorithm::Ps256);
    QVERIFY(first.ok() && second.ok());
    QVERIFY2(first.value() != second.value(), "PSS signatures are randomised");

    const QByteArray fp =
        openssl({ QStringLiteral("x509"), QStringLiteral("-in"), m_certFile, QStringLiteral("-noout"),
                  QStringLiteral("-fingerprint"), QStringLiteral("-sha256") });
    const QByteArray sha256 = QByteArray::fromHex(fp.mid(fp.indexOf('=') + 1).trimmed().replace(":", ""));
    QCOMPARE(sha256.size(), 32);

    for (const QByteArray &jwt : { first.value(), second.value() }) {
        const QList<QByteArray> parts = jwt.split('.');
        QCOMPARE(unb64url(parts[0]),
                 QByteArray(R"({"alg":"PS256","typ":"JWT","x5t#S256":")"
                            + sha256.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals)
                            + "\"}"));
        const QString input = m_dir.filePath(QStringLiteral("ps256.txt"));
        const QString sig = m_dir.filePath(QStringLiteral("ps256.sig"));
        QVERIFY(TestPki::writeFile(input, parts[0] + '.' + parts[1]));
        QVERIFY(TestPki::writeFile(sig, unb64url(parts[2])));
        const QStringList verify { QStringLiteral("dgst"),
                                   QStringLiteral("-sha256"),
                                   QStringLiteral("-sigopt"),
                                   QStringLiteral("rsa_padding_mode:pss"),
                                   QStringLiteral("-sigopt"),
                                   QStringLiteral("rsa_pss_saltlen:32"),
                                   QStringLiteral("-sigopt"),
                                   QStringLiteral("rsa_mgf1_md:sha256"),
                                   QStringLiteral("-verify"),
                                   m_pubFile,
                                   QStringLiteral("-signature"),
                                   sig,
                                   input };
        int rc = -1;
        const QByteArray out = openssl(verify, &rc);
        QCOMPARE(rc, 0);
        QVERIFY(out.contains("Verified OK"));
        // The same check must be able to fail: one changed byte of the signed input.
        QVERIFY(TestPki::writeFile(input, parts[0] + '.' + parts[1] + ' '));
        openssl(verify, &rc);
        QVERIFY(rc != 0);
    }
}

void TestClientAssertion::claimsAreTheDocumentedOnes()
{
    auto credential = ClientCredential::fromPemFiles(m_certFile, m_keyFile);
    QVERIFY(credential.ok());
    const AssertionClaims claims = fixedClaims();
    auto jwt = buildClientAssertion(*credential, claims, AssertionAlgorithm::Ps256);
    QVERIFY(jwt.ok());
    const QByteArray payload = unb64url(jwt->split('.').at(1));
    const qint64 iat = claims.issuedAt.toSecsSinceEpoch();
    QCOMPARE(iat, qint64(1795856400));
    QCOMPARE(
        payload,
        QByteArray(
            R"({"aud":"https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token",)"
            R"("exp":1795857000,"iat":1795856400,"iss":"6731de76-14a6-49ae-97bc-6eba6914391e",)"
            R"("jti":"0f5c6e2a-6b1e-4c1e-9d1f-2a3b4c5d6e7f","nbf":1795856400,"sub":"6731de76-14a6-49ae-97bc-6eba6914391e"})"));
}

void TestClientAssertion::refusesLongLifetime()
{
    auto credential = ClientCredential::fromPemFiles(m_certFile, m_keyFile);
    QVERIFY(credential.ok());
    AssertionClaims claims = fixedClaims();
    claims.lifetimeSeconds = 601;
    auto jwt = buildClientAssertion(*credential, claims, AssertionAlgorithm::Ps256);
    QVERIFY(!jwt.ok());
    QCOMPARE(jwt.error().code, QStringLiteral("tenant.credential"));
}

void TestClientAssertion::refusesNonRsaKey()
{
    CertSpec spec;
    spec.key = KeyKind::EcP256;
    spec.keySlot = 6;
    const Issued ec = TestPki::selfSigned(spec);
    auto credential = ClientCredential::fromPem(ec.pem(), keyPem(ec.key.get()));
    QVERIFY(!credential.ok());
    QVERIFY(credential.error().message.contains(QStringLiteral("RSA")));
}

void TestClientAssertion::refusesKeyOfAnotherCertificate()
{
    CertSpec spec;
    spec.key = KeyKind::Rsa2048;
    spec.keySlot = 7;
    const Issued other = TestPki::selfSigned(spec);
    auto credential = ClientCredential::fromPem(m_cert.pem(), keyPem(other.key.get()));
    QVERIFY(!credential.ok());
    QVERIFY(credential.error().message.contains(QStringLiteral("does not belong")));
}

QTEST_GUILESS_MAIN(TestClientAssertion)
#include "tst_clientassertion.moc"
