// The tenant client against certsync-tenantsim over HTTPS: authentication, reads, writes, and the
// faults Microsoft documents (throttling, outages, lost answers). Assertions look at both sides:
// what the client returns and what the simulator's access log and counters say happened.
#include "SimHarness.h"
#include "TestPki.h"
#include "jobs/Job.h"
#include "store/StateStore.h"
#include "tenant/ClientAssertion.h"
#include "tenant/ExchangeClient.h"
#include "tenant/GraphClient.h"
#include "tenant/StoredTenantRead.h"
#include "tenant/TenantHttp.h"
#include "tenant/TenantSnapshot.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QTest>
#include <QUuid>

#include <openssl/pem.h>

using namespace certsync;
using namespace certsync::tenant;
using namespace certsync::testing;

namespace {

const QString TenantId = QStringLiteral("0b6d6a4c-3f0e-4a8e-9d55-7d2c1f6e2a10");
const QString ClientId = QStringLiteral("6731de76-14a6-49ae-97bc-6eba6914391e");
const QString Secret = QStringLiteral("s3cr&t+with=odd~chars");
constexpr int CloudUsers = 25;
constexpr int SyncedUsers = 5;
constexpr int WaitMs = 30000;

QByteArray keyPem(EVP_PKEY *key)
{
    ossl::BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    char *data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return QByteArray(data, int(n));
}

QString cloudUpn(int i)
{
    return QStringLiteral("cloud%1@contoso.test").arg(i, 2, 10, QLatin1Char('0'));
}

QString syncedUpn(int i)
{
    return QStringLiteral("synced%1@contoso.test").arg(i);
}

QString objectGuid(int i)
{
    return QStringLiteral("{00112233-4455-6677-8899-aabbccddee%1}").arg(i, 2, 16, QLatin1Char('0'));
}

// objectGUID's bytes as AD stores them (first three fields little-endian), base64: written out
// by hand here so that the simulator's conversion is checked, not repeated.
QString expectedImmutableId(int i)
{
    QByteArray b = QByteArray::fromHex("33221100554477668899aabbccddee") + char(i);
    return QString::fromLatin1(b.toBase64());
}

template<typename T> struct Awaited
{
    std::optional<T> value;
    auto sink()
    {
        return [this](T v) { value.emplace(std::move(v)); };
    }
};

} // namespace

class TestTenantClient : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void init();

    void secretAuthentication();
    void certificateAuthentication_data();
    void certificateAuthentication();
    void droppedTokenIsRetriedWithAFreshAssertion();
    void badSecret();
    void assertionChecks_data();
    void assertionChecks();
    void keyOfAnotherCertificateStaysLocal();
    void tlsNeedsTheConfiguredCa();
    void expiredTokenIsRefreshedOnce();
    void pagingOverSeveralPages();
    void deltaAndExpiredDeltaLink();
    void deltaLinkPersistsBetweenRuns();
    void batchWithMixedResults();
    void batchRefusals();
    void throttleStormAppliesEverythingOnce();
    void rateCeilingHoldsTheWholeService();
    void serviceUnavailableIsRetried();
    void retryAfterPastTheCapEndsTheRequest();
    void retryAfterBeyondIntRangeFailsTheRequest();
    void droppedGraphWriteIsReadBeforeRetry();
    void droppedExchangeWriteIsReadBeforeRetry();
    void exchangeRefusesSyncedObject();
    void exchangeRequestsNameTheAnchorMailbox();
    void exchangeWarningsReachTheLog();
    void exchangeErrorTextFromDetailsFirst_data();
    void exchangeErrorTextFromDetailsFirst();
    void exchangeRefusesSixteenthValue();
    void exchangeRoundTripsCertificates_data();
    void exchangeRoundTripsCertificates();
    void snapshotJobJoinsUsersAndRecipients();
    void snapshotJobCancels();
    // Last: it adds recipients, which the snapshot cases would count.
    void exchangeAddRemoveMatchesReplace_data();
    void exchangeAddRemoveMatchesReplace();

private:
    TenantSettings secretSettings() const;
    TenantSettings certificateSettings(AssertionAlgorithm alg) const;
    QList<QStringList> logSince(qsizetype from) const;
    QJsonObject writesOf(const QString &userId);
    QString idOf(const QString &upn);
    QNetworkReply *postToken(QNetworkAccessManager &nam, const QByteArray &form);

    SimHarness m_sim;
    QTemporaryDir m_dir;
    Issued m_appCert;
    Issued m_smimeA;
    Issued m_smimeB;
    QString m_certFile;
    QString m_keyFile;
    qsizetype m_logMark = 0;
    QHash<QString, QString> m_ids; // upn -> Graph id
};

TenantSettings TestTenantClient::secretSettings() const
{
    TenantSettings s;
    s.tenantId = TenantId;
    s.clientId = ClientId;
    s.clientSecret = Secret;
    s.authorityUrl = m_sim.baseUrl() + QStringLiteral("/{tenant}");
    s.graphUrl = m_sim.baseUrl() + QStringLiteral("/v1.0");
    s.exchangeUrl = m_sim.baseUrl() + QStringLiteral("/adminapi/beta/{tenant}");
    s.caFile = m_sim.caFile();
    s.backoffBaseMs = 50; // keep the suite quick; Retry-After values come from the simulator
    s.backoffMaxMs = 400;
    s.maxAttempts = 6;
    s.timeoutMs = 15000;
    return s;
}

TenantSettings TestTenantClient::certificateSettings(AssertionAlgorithm alg) const
{
    TenantSettings s = secretSettings();
    s.clientSecret.clear();
    s.clientCertificateFile = m_certFile;
    s.clientKeyFile = m_keyFile;
    s.assertionAlgorithm = alg;
    return s;
}

QList<QStringList> TestTenantClient::logSince(qsizetype from) const
{
    return m_sim.accessLog().mid(from);
}

QJsonObject TestTenantClient::writesOf(const QString &userId)
{
    return m_sim.stats().value(QStringLiteral("writes")).toObject().value(userId).toObject();
}

QString TestTenantClient::idOf(const QString &upn)
{
    return m_ids.value(upn);
}

void TestTenantClient::initTestCase()
{
    QVERIFY(m_dir.isValid());
    CertSpec appSpec;
    appSpec.commonName = QStringLiteral("certsync tenant app");
    appSpec.key = KeyKind::Rsa2048;
    appSpec.keySlot = 11;
    appSpec.extendedKeyUsage = std::nullopt;
    m_appCert = TestPki::selfSigned(appSpec);
    m_certFile = m_dir.filePath(QStringLiteral("app.pem"));
    m_keyFile = m_dir.filePath(QStringLiteral("app.key"));
    QVERIFY(TestPki::writeFile(m_certFile, m_appCert.pem()));
    QVERIFY(TestPki::writeFile(m_keyFile, keyPem(m_appCert.key.get())));

    const StandardPki &pki = StandardPki::instance();
    m_smimeA = TestPki::issue(goodLeafSpec(QStringLiteral("cloud00@contoso.test")), pki.intermediate);
    m_smimeB = TestPki::issue(goodLeafSpec(QStringLiteral("cloud00@contoso.test")), pki.intermediate);

    QList<QJsonObject> users;
    for (int i = 0; i < CloudUsers; ++i) {
        QJsonObject u { { QStringLiteral("userPrincipalName"), cloudUpn(i) },
                        { QStringLiteral("mail"), cloudUpn(i) },
                        { QStringLiteral("recipientTypeDetails"),
                          i % 2 ? QStringLiteral("MailUser") : QStringLiteral("UserMailbox") } };
        if (i == 0)
            u.insert(QStringLiteral("userSMimeCertificate"),
                     QJsonArray { QString::fromLatin1(m_smimeA.der.toBase64()) });
        users.append(u);
    }
    for (int i = 0; i < SyncedUsers; ++i) {
        users.append(QJsonObject { { QStringLiteral("userPrincipalName"), syncedUpn(i) },
                                   { QStringLiteral("mail"), syncedUpn(i) },
                                   { QStringLiteral("objectGuid"), objectGuid(i) },
                                   { QStringLiteral("recipientTypeDetails"), QStringLiteral("UserMailbox") },
                                   { QStringLiteral("userCertificate"),
                                     QJsonArray { QString::fromLatin1(m_smimeB.der.toBase64()) } } });
    }
    // A user without any Exchange recipient.
    users.append(
        QJsonObject { { QStringLiteral("userPrincipalName"), QStringLiteral("nomail@contoso.test") } });
    const QJsonObject seed =
        SimHarness::seed(TenantId, SimHarness::app(ClientId, Secret, { m_appCert.der }), users);
    QVERIFY2(m_sim.start(seed,
                         { QStringLiteral("--page-size"), QStringLiteral("10"),
                           QStringLiteral("--delta-page-size"), QStringLiteral("7"),
                           QStringLiteral("--exchange-page-size"), QStringLiteral("8") }),
             qPrintable(m_sim.lastError()));

    const QJsonObject state = m_sim.admin("GET", QStringLiteral("/admin/state"));
    for (const QJsonValue &v : state.value(QStringLiteral("users")).toArray())
        m_ids.insert(v.toObject().value(QStringLiteral("userPrincipalName")).toString(),
                     v.toObject().value(QStringLiteral("id")).toString());
    QCOMPARE(m_ids.size(), CloudUsers + SyncedUsers + 1);
}

void TestTenantClient::init()
{
    const QJsonObject faults =
        m_sim.setFaults({ { QStringLiteral("throttleRate"), 0 },
                          { QStringLiteral("unavailableRate"), 0 },
                          { QStringLiteral("dropRate"), 0 },
                          { QStringLiteral("throttleNext"), 0 },
                          { QStringLiteral("unavailableNext"), 0 },
                          { QStringLiteral("dropNextWrites"), 0 },
                          { QStringLiteral("latencyMs"), 0 },
                          { QStringLiteral("rateLimit"), 0 },
                          { QStringLiteral("retryAfterSeconds"), 1 },
                          { QStringLiteral("exchangeCulture"), QStringLiteral("en-US") },
                          { QStringLiteral("exchangeErrorShape"), QStringLiteral("full") },
                          { QStringLiteral("exchangeWarning"), QString() } });
    QVERIFY2(!faults.contains(QStringLiteral("error")),
             qPrintable(faults.value(QStringLiteral("error")).toString()));
    m_logMark = m_sim.accessLog().size();
}

void TestTenantClient::secretAuthentication()
{
    TenantHttp http(secretSettings());
    Awaited<TenantResult<QByteArray>> token;
    http.token(Service::Graph, token.sink());
    QTRY_VERIFY_WITH_TIMEOUT(token.value.has_value(), WaitMs);
    QVERIFY2(token.value->ok(), qPrintable(token.value->ok() ? QString() : token.value->error().toString()));
    QCOMPARE(token.value->value().count('.'), 2);

    // Cached: a second ask does not reach the authority.
    Awaited<TenantResult<QByteArray>> again;
    http.token(Service::Graph, again.sink());
    QVERIFY(again.value.has_value());
    QCOMPARE(again.value->value(), token.value->value());
    QCOMPARE(http.stats().tokenRequests, 1);

    const auto log = logSince(m_logMark);
    QCOMPARE(log.size(), 1);
    QCOMPARE(log[0][1], QStringLiteral("POST"));
    QCOMPARE(log[0][2], QStringLiteral("/%1/oauth2/v2.0/token").arg(TenantId));
    QCOMPARE(log[0][3], QStringLiteral("200"));
    QCOMPARE(log[0][6], QStringLiteral("secret"));
    QVERIFY(!QUuid(log[0][5]).isNull()); // our client-request-id reached the service
    // No secret in the access log, whatever the simulator writes.
    QVERIFY(!m_sim.accessLog().isEmpty());
    QFile raw(m_sim.accessLogPath());
    QVERIFY(raw.open(QIODevice::ReadOnly));
    QVERIFY(!raw.readAll().contains(Secret.toUtf8()));
}

void TestTenantClient::certificateAuthentication_data()
{
    QTest::addColumn<AssertionAlgorithm>("alg");
    QTest::newRow("PS256 + x5t#S256") << AssertionAlgorithm::Ps256;
    QTest::newRow("RS256 + x5t") << AssertionAlgorithm::Rs256;
}

void TestTenantClient::certificateAuthentication()
{
    QFETCH(AssertionAlgorithm, alg);
    TenantHttp http(certificateSettings(alg));
    GraphClient graph(&http);
    Awaited<TenantResult<GraphUser>> user;
    graph.getUser(cloudUpn(3), user.sink());
    QTRY_VERIFY_WITH_TIMEOUT(user.value.has_value(), WaitMs);
    QVERIFY2(user.value->ok(), qPrintable(user.value->ok() ? QString() : user.value->error().toString()));
    QCOMPARE(user.value->value().userPrincipalName, cloudUpn(3));
    const auto log = logSince(m_logMark);
    QCOMPARE(log.size(), 2);
    QCOMPARE(log[0][6], QStringLiteral("certificate"));
    QCOMPARE(log[1][1], QStringLiteral("GET"));
    QCOMPARE(log[1][3], QStringLiteral("200"));
}

void TestTenantClient::droppedTokenIsRetriedWithAFreshAssertion()
{
    // The authority honours the first token request, spending its jti, and the answer is lost. The
    // retry must carry a new assertion: the same one would be refused as a replay (AADSTS700025).
    m_sim.setFaults({ { QStringLiteral("dropNextTokens"), 1 } });
    TenantHttp http(certificateSettings(AssertionAlgorithm::Ps256));
    GraphClient graph(&http);
    Awaited<TenantResult<GraphUser>> user;
    graph.getUser(cloudUpn(4), user.sink());
    QTRY_VERIFY_WITH_TIMEOUT(user.value.has_value(), WaitMs);
    QVERIFY2(user.value->ok(), qPrintable(user.value->ok() ? QString() : user.value->error().toString()));
    const auto log = logSince(m_logMark);
    QCOMPARE(log.size(), 3);
    QCOMPARE(log[0][6], QStringLiteral("dropped"));
    QCOMPARE(log[1][3], QStringLiteral("200"));
    QCOMPARE(log[1][6], QStringLiteral("certificate"));
    QCOMPARE(log[2][1], QStringLiteral("GET"));
}

void TestTenantClient::badSecret()
{
    TenantSettings s = secretSettings();
    s.clientSecret = QStringLiteral("not-the-secret");
    TenantHttp http(s);
    GraphClient graph(&http);
    Awaited<TenantResult<GraphUser>> user;
    graph.getUser(cloudUpn(1), user.sink());
    QTRY_VERIFY_WITH_TIMEOUT(user.value.has_value(), WaitMs);
    QVERIFY(!user.value->ok());
    const TenantError &e = user.value->error();
    QCOMPARE(e.source, TenantError::Source::Authority);
    QCOMPARE(e.httpStatus, 401);
    QCOMPARE(e.code, QStringLiteral("invalid_client"));
    QCOMPARE(e.aadstsCodes, QList<int> { 7000215 });
    QVERIFY(!QUuid(e.traceId).isNull());
    QVERIFY(!QUuid(e.correlationId).isNull());
    QVERIFY(e.message.startsWith(QStringLiteral("AADSTS7000215: Invalid client secret provided.")));
    QVERIFY(!e.message.contains(QStringLiteral("Trace ID"))); // the ids are fields, not noise in the sentence
    QVERIFY(e.toString().contains(e.traceId));
    QCOMPARE(e.toError().code, QStringLiteral("tenant.authority.invalid_client"));
    // Not retried: one token request, and no Graph request without a token.
    const auto log = logSince(m_logMark);
    QCOMPARE(log.size(), 1);
    QCOMPARE(log[0][3], QStringLiteral("401"));
}

QNetworkReply *TestTenantClient::postToken(QNetworkAccessManager &nam, const QByteArray &form)
{
    QNetworkRequest request(QUrl(m_sim.baseUrl() + QStringLiteral("/%1/oauth2/v2.0/token").arg(TenantId)));
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    ssl.addCaCertificates(QSslCertificate::fromPath(m_sim.caFile()));
    request.setSslConfiguration(ssl);
    request.setHeader(QNetworkRequest::ContentTypeHeader,
                      QByteArrayLiteral("application/x-www-form-urlencoded"));
    return nam.post(request, form);
}

void TestTenantClient::assertionChecks_data()
{
    QTest::addColumn<QString>("tamper");
    QTest::addColumn<int>("aadsts");
    QTest::newRow("signed by another key") << QStringLiteral("signature") << 700027;
    QTest::newRow("expired") << QStringLiteral("expired") << 700024;
    QTest::newRow("wrong audience") << QStringLiteral("audience") << 700212;
    QTest::newRow("wrong issuer") << QStringLiteral("issuer") << 700021;
    QTest::newRow("replayed jti") << QStringLiteral("replay") << 700025;
}

// The simulator's checks of client assertions, fed assertions the client would never build.
void TestTenantClient::assertionChecks()
{
    QFETCH(QString, tamper);
    QFETCH(int, aadsts);
    ClientCredential credential;
    credential.certificateDer = m_appCert.der;
    // Slot 11 holds the registered certificate's key; slot 12 is a stranger's.
    credential.key = TestPki::key(KeyKind::Rsa2048, tamper == QStringLiteral("signature") ? 12 : 11);
    AssertionClaims claims;
    claims.clientId = tamper == QStringLiteral("issuer") ? QStringLiteral("someone-else") : ClientId;
    claims.audience = tamper == QStringLiteral("audience")
        ? QStringLiteral("https://login.microsoftonline.com/%1/oauth2/v2.0/token").arg(TenantId)
        : m_sim.baseUrl() + QStringLiteral("/%1/oauth2/v2.0/token").arg(TenantId);
    claims.issuedAt =
        QDateTime::currentDateTimeUtc().addSecs(tamper == QStringLiteral("expired") ? -3600 : 0);
    claims.jti = QUuid::createUuid().toString(QUuid::WithoutBraces);
    auto jwt = buildClientAssertion(credential, claims, AssertionAlgorithm::Ps256);
    QVERIFY(jwt.ok());
    const QByteArray form = "grant_type=client_credentials&client_id=" + ClientId.toLatin1()
        + "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
          "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_"
          "assertion="
        + jwt.value();
    QNetworkAccessManager nam;
    if (tamper == QStringLiteral("replay")) {
        QNetworkReply *first = postToken(nam, form);
        QSignalSpy done(first, &QNetworkReply::finished);
        QVERIFY(done.wait(WaitMs));
        QCOMPARE(first->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        first->deleteLater();
    }
    QNetworkReply *reply = postToken(nam, form);
    QSignalSpy done(reply, &QNetworkReply::finished);
    QVERIFY(done.wait(WaitMs));
    const TenantError e = TenantError::fromAuthority(
        reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), reply->readAll());
    reply->deleteLater();
    QCOMPARE(e.httpStatus, 401);
    QCOMPARE(e.code, QStringLiteral("invalid_client"));
    QCOMPARE(e.aadstsCodes, QList<int> { aadsts });
}

void TestTenantClient::keyOfAnotherCertificateStaysLocal()
{
    const QString otherKey = m_dir.filePath(QStringLiteral("other.key"));
    QVERIFY(TestPki::writeFile(otherKey, keyPem(TestPki::key(KeyKind::Rsa2048, 12).get())));
    TenantSettings s = certificateSettings(AssertionAlgorithm::Ps256);
    s.clientKeyFile = otherKey;
    TenantHttp http(s);
    GraphClient graph(&http);
    Awaited<TenantResult<GraphUser>> user;
    graph.getUser(cloudUpn(1), user.sink());
    QTRY_VERIFY_WITH_TIMEOUT(user.value.has_value(), WaitMs);
    QVERIFY(!user.value->ok());
    QCOMPARE(user.value->error().source, TenantError::Source::Configuration);
    QVERIFY(user.value->error().message.contains(QStringLiteral("does not belong")));
    QCOMPARE(logSince(m_logMark).size(), 0); // nothing was sent
}

void TestTenantClient::tlsNeedsTheConfiguredCa()
{
    TenantSettings s = secretSettings();
    s.caFile.clear();
    TenantHttp http(s);
    Awaited<TenantResult<QByteArray>> token;
    http.token(Service::Graph, token.sink());
    QTRY_VERIFY_WITH_TIMEOUT(token.value.has_value(), WaitMs);
    QVERIFY(!token.value->ok());
    QCOMPARE(token.value->error().source, TenantError::Source::Tls);
    // The refusal names the certificate, so that a person can check it against the real server's.
    const QString message = token.value->error().message;
    const auto served = QSslCertificate::fromPath(secretSettings().caFile);
    QVERIFY(!served.isEmpty());
    QVERIFY2(message.contains(QStringLiteral("SHA-256 ")) && message.contains(QStringLiteral("subject ")),
             qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("issuer ") + served.first().subjectDisplayName()),
             qPrintable(message));
    QCOMPARE(logSince(m_logMark).size(), 0); // the handshake failed before any request
}

void TestTenantClient::expiredTokenIsRefreshedOnce()
{
    TenantHttp http(secretSettings());
    GraphClient graph(&http);
    Awaited<TenantResult<GraphUser>> first;
    graph.getUser(cloudUpn(2), first.sink());
    QTRY_VERIFY_WITH_TIMEOUT(first.value.has_value(), WaitMs);
    QVERIFY(first.value->ok());
    QCOMPARE(http.stats().tokenRequests, 1);

    QCOMPARE(
        m_sim.admin("POST", QStringLiteral("/admin/expire-tokens")).value(QStringLiteral("expired")).toInt()
            >= 1,
        true);
    const qsizetype mark = m_sim.accessLog().size();
    Awaited<TenantResult<GraphUser>> second;
    graph.getUser(cloudUpn(2), second.sink());
    QTRY_VERIFY_WITH_TIMEOUT(second.value.has_value(), WaitMs);
    QVERIFY2(second.value->ok(),
             qPrintable(second.value->ok() ? QString() : second.value->error().toString()));
    QCOMPARE(http.stats().tokenRequests, 2);
    QCOMPARE(http.stats().refreshesAfter401, 1);
    const auto log = logSince(mark);
    QCOMPARE(log.size(), 3);
    QCOMPARE(log[0][3], QStringLiteral("401"));
    QCOMPARE(log[0][6], QStringLiteral("InvalidAuthenticationToken"));
    QVERIFY(log[1][2].endsWith(QStringLiteral("/oauth2/v2.0/token")));
    QCOMPARE(log[2][3], QStringLiteral("200"));

    // A token refused again right after a refresh is not refreshed in a loop: the 401 surfaces.
    TenantSettings s = secretSettings();
    s.graphScope = QStringLiteral("https://outlook.office365.com/.default"); // a token for the wrong audience
    TenantHttp wrong(s);
    GraphClient wrongGraph(&wrong);
    Awaited<TenantResult<GraphUser>> third;
    wrongGraph.getUser(cloudUpn(2), third.sink());
    QTRY_VERIFY_WITH_TIMEOUT(third.value.has_value(), WaitMs);
    QVERIFY(!third.value->ok());
    QCOMPARE(third.value->error().httpStatus, 401);
    QCOMPARE(third.value->error().code, QStringLiteral("InvalidAuthenticationToken"));
    QCOMPARE(wrong.stats().refreshesAfter401, 1);
    QCOMPARE(wrong.stats().tokenRequests, 2);
}

void TestTenantClient::pagingOverSeveralPages()
{
    TenantHttp http(secretSettings());
    GraphClient graph(&http);
    QList<int> pages;
    Awaited<TenantResult<QList<GraphUser>>> users;
    graph.listUsers(
        [&pages](int n) {
            pages.append(n);
            return true;
        },
        users.sink());
    QTRY_VERIFY_WITH_TIMEOUT(users.value.has_value(), WaitMs);
    QVERIFY(users.value->ok());
    const QList<GraphUser> &list = users.value->value();
    QCOMPARE(list.size(), CloudUsers + SyncedUsers + 1);
    QCOMPARE(pages, (QList<int> { 10, 20, 30, 31 })); // the simulator caps pages at 10
    QSet<QString> ids;
    for (const GraphUser &u : list)
        ids.insert(u.id);
    QCOMPARE(ids.size(), list.size()); // no user twice across pages
    for (const GraphUser &u : list) {
        if (u.userPrincipalName.startsWith(QStringLiteral("synced"))) {
            const int i = u.userPrincipalName.mid(6, 1).toInt();
            QCOMPARE(u.onPremisesImmutableId, expectedImmutableId(i));
            QCOMPARE(u.onPremisesSyncEnabled, std::optional<bool>(true));
        } else {
            QVERIFY(u.onPremisesImmutableId.isEmpty());
            QCOMPARE(u.onPremisesSyncEnabled, std::optional<bool>());
        }
    }
    const auto log = logSince(m_logMark);
    int userPages = 0;
    for (const QStringList &line : log) {
        if (line[2].startsWith(QStringLiteral("/v1.0/users?"))) {
            ++userPages;
            QVERIFY(line[2].contains(QStringLiteral("$select=id,userPrincipalName")));
            QVERIFY(line[2].contains(QStringLiteral("$top=")));
        }
    }
    QCOMPARE(userPages, 4);
}

void TestTenantClient::deltaAndExpiredDeltaLink()
{
    TenantHttp http(secretSettings());
    GraphClient graph(&http);
    Awaited<TenantResult<UserDelta>> initial;
    graph.readDelta({}, {}, initial.sink());
    QTRY_VERIFY_WITH_TIMEOUT(initial.value.has_value(), WaitMs);
    QVERIFY(initial.value->ok());
    QCOMPARE(initial.value->value().changed.size(), CloudUsers + SyncedUsers + 1); // over 5 pages of 7
    const QString link = initial.value->value().deltaLink;
    QVERIFY(link.contains(QStringLiteral("$deltatoken=")));

    // One user changes, one is deleted: the next round carries exactly those.
    const QString changedId = idOf(cloudUpn(20));
    const QString deletedId = idOf(cloudUpn(21));
    QVERIFY(!m_sim
                 .admin("POST", QStringLiteral("/admin/users"),
                        { { QStringLiteral("id"), changedId },
                          { QStringLiteral("mail"), QStringLiteral("renamed@contoso.test") } })
                 .contains(QStringLiteral("error")));
    QVERIFY(!m_sim.admin("DELETE", QStringLiteral("/admin/users/") + deletedId)
                 .contains(QStringLiteral("error")));
    Awaited<TenantResult<UserDelta>> next;
    graph.readDelta(link, {}, next.sink());
    QTRY_VERIFY_WITH_TIMEOUT(next.value.has_value(), WaitMs);
    QVERIFY(next.value->ok());
    QCOMPARE(next.value->value().changed.size(), 1);
    QCOMPARE(next.value->value().changed.first().id, changedId);
    QCOMPARE(next.value->value().changed.first().mail, QStringLiteral("renamed@contoso.test"));
    QCOMPARE(next.value->value().removedIds, QStringList { deletedId });

    // The delta token expires: syncStateNotFound, typed.
    m_sim.admin("POST", QStringLiteral("/admin/expire-delta"));
    Awaited<TenantResult<UserDelta>> expired;
    graph.readDelta(next.value->value().deltaLink, {}, expired.sink());
    QTRY_VERIFY_WITH_TIMEOUT(expired.value.has_value(), WaitMs);
    QVERIFY(!expired.value->ok());
    QCOMPARE(expired.value->error().code, errc::SyncStateNotFound);
    QCOMPARE(expired.value->error().httpStatus, 400); // BadRequest, as Microsoft documents for users

    // The snapshot job then reads in full, by itself.
    TenantSnapshot previous;
    previous.deltaLink = next.value->value().deltaLink;
    jobs::JobRunner runner;
    auto *job = new TenantSnapshotJob(secretSettings(), { previous, false });
    QSignalSpy ready(job, &TenantSnapshotJob::snapshotReady);
    QSignalSpy finished(job, &jobs::Job::finished);
    runner.run(job);
    QVERIFY(finished.wait(WaitMs));
    QCOMPARE(finished.first().at(0).toBool(), true);
    QCOMPARE(ready.size(), 1);
    const auto snapshot = ready.first().at(0).value<TenantSnapshot>();
    QVERIFY(snapshot.fellBackToFullRead);
    QVERIFY(!snapshot.incremental);
    QCOMPARE(snapshot.users.size(), CloudUsers + SyncedUsers); // one was deleted
    QVERIFY(!snapshot.deltaLink.isEmpty());

    // Put the deleted user back for the other tests.
    QVERIFY(!m_sim
                 .admin("POST", QStringLiteral("/admin/users"),
                        { { QStringLiteral("id"), deletedId },
                          { QStringLiteral("userPrincipalName"), cloudUpn(21) },
                          { QStringLiteral("mail"), cloudUpn(21) },
                          { QStringLiteral("recipientTypeDetails"), QStringLiteral("MailUser") } })
                 .contains(QStringLiteral("error")));
}

// A read as `certsync diff` makes it: the link and users come from the state database and go back.
static TenantSnapshot readThroughState(const TenantSettings &settings, store::StateStore &state, QString *why,
                                       QStringList *log)
{
    StoredTenantRead stored = loadTenantRead(state, settings);
    *why = stored.why;
    jobs::JobRunner runner;
    auto *job = new TenantSnapshotJob(settings, { stored.previous, false });
    QSignalSpy ready(job, &TenantSnapshotJob::snapshotReady);
    QSignalSpy finished(job, &jobs::Job::finished);
    QObject::connect(job, &jobs::Job::logRecord, job,
                     [log](const jobs::LogRecord &r) { log->append(r.message); });
    runner.run(job);
    if (!finished.wait(WaitMs) || ready.size() != 1)
        return {};
    const auto snapshot = ready.first().at(0).value<TenantSnapshot>();
    if (!saveTenantRead(state, settings, snapshot).ok())
        return {};
    return snapshot;
}

void TestTenantClient::deltaLinkPersistsBetweenRuns()
{
    QTemporaryDir dir;
    auto opened = store::StateStore::open(dir.filePath(QStringLiteral("certsync.db")));
    QVERIFY(opened.ok());
    store::StateStore &state = **opened;
    const TenantSettings settings = secretSettings();
    // The key names the tenant and the $select: a different select finds no link.
    QVERIFY(storedReadKey(settings).contains(TenantId));
    QVERIFY(storedReadKey(settings).contains(GraphClient::userSelect().join(QLatin1Char(','))));

    // First run: nothing stored, so every user is read, and the link is stored.
    QString why;
    QStringList log;
    const TenantSnapshot first = readThroughState(settings, state, &why, &log);
    QVERIFY2(why.contains(QStringLiteral("no stored delta link")), qPrintable(why));
    QVERIFY(!first.incremental);
    QCOMPARE(first.users.size(), CloudUsers + SyncedUsers + 1);
    QVERIFY(!state.mark(storedReadKey(settings)).isEmpty());

    // Second run, after one change: only the stored link is asked (no list of users), and the
    // round carries the one change, merged into the stored users.
    const QString changedId = idOf(cloudUpn(22));
    QVERIFY(!m_sim
                 .admin("POST", QStringLiteral("/admin/users"),
                        { { QStringLiteral("id"), changedId },
                          { QStringLiteral("mail"), QStringLiteral("moved@contoso.test") } })
                 .contains(QStringLiteral("error")));
    const qsizetype mark = m_sim.accessLog().size();
    const TenantSnapshot second = readThroughState(settings, state, &why, &log);
    QVERIFY(why.isEmpty());
    QVERIFY(second.incremental);
    QCOMPARE(second.changedUsers, 1);
    QCOMPARE(second.removedUsers, 0);
    QCOMPARE(second.users.size(), first.users.size());
    QVERIFY(second.find(changedId));
    QCOMPARE(second.find(changedId)->user.mail, QStringLiteral("moved@contoso.test"));
    QCOMPARE(second.find(idOf(cloudUpn(23)))->user.mail, first.find(idOf(cloudUpn(23)))->user.mail);
    int deltaRequests = 0;
    for (const QStringList &line : logSince(mark)) {
        const QString path = line[2].section(QLatin1Char('?'), 0, 0);
        QVERIFY2(path != QStringLiteral("/v1.0/users"), qPrintable(line.join(QLatin1Char(' '))));
        if (path == QStringLiteral("/v1.0/users/delta")) {
            QVERIFY(!line[2].contains(QStringLiteral("$deltatoken=latest")));
            deltaRequests += line[3] == QStringLiteral("200");
        }
    }
    QCOMPARE(deltaRequests, 1);
    QVERIFY(second.deltaLink != first.deltaLink);

    // The token is invalidated: the next run falls back to a full read, says why, and stores a
    // new link that the run after uses again.
    m_sim.admin("POST", QStringLiteral("/admin/expire-delta"));
    log.clear();
    const TenantSnapshot third = readThroughState(settings, state, &why, &log);
    QVERIFY(third.fellBackToFullRead);
    QVERIFY(!third.incremental);
    QCOMPARE(third.users.size(), first.users.size());
    QVERIFY2(log.join(QLatin1Char('\n')).contains(QStringLiteral("syncStateNotFound")),
             qPrintable(log.join(QLatin1Char('\n'))));
    const TenantSnapshot fourth = readThroughState(settings, state, &why, &log);
    QVERIFY(fourth.incremental);
    QCOMPARE(fourth.changedUsers, 0);
    QCOMPARE(fourth.users.size(), first.users.size());

    // An unknown token (not one the service issued) is answered the same way: a full read.
    TenantSnapshot bogus = fourth;
    bogus.deltaLink = m_sim.baseUrl() + QStringLiteral("/v1.0/users/delta?$deltatoken=bm90aGluZw");
    QVERIFY(saveTenantRead(state, settings, bogus).ok());
    const TenantSnapshot fifth = readThroughState(settings, state, &why, &log);
    QVERIFY(why.isEmpty());
    QVERIFY(fifth.fellBackToFullRead);
    QCOMPARE(fifth.users.size(), first.users.size());

    // A stored link without its users (a damaged database) is not used.
    QVERIFY(state.saveSnapshot(storedReadKey(settings), QByteArray("damaged")).ok());
    const TenantSnapshot sixth = readThroughState(settings, state, &why, &log);
    QVERIFY2(why.contains(QStringLiteral("no matching stored users")), qPrintable(why));
    QVERIFY(!sixth.incremental && !sixth.fellBackToFullRead);
    QCOMPARE(sixth.users.size(), first.users.size());
}

void TestTenantClient::batchWithMixedResults()
{
    TenantHttp http(secretSettings());
    GraphClient graph(&http);
    m_sim.setFaults({ { QStringLiteral("throttleNext"), 1 } }); // the first item is throttled on its own
    const QString cloudId = idOf(cloudUpn(5));
    const QString syncedId = idOf(syncedUpn(1));
    const QList<BatchRequest> requests {
        { QStringLiteral("a"), "GET",
          QStringLiteral("/users/") + idOf(cloudUpn(4)) + QStringLiteral("?$select=id,mail"), std::nullopt },
        { QStringLiteral("b"), "GET", QStringLiteral("/users/no-such-user"), std::nullopt },
        { QStringLiteral("c"), "PATCH", QStringLiteral("/users/") + cloudId,
          QJsonObject {
              { QStringLiteral("authorizationInfo"),
                QJsonObject { { QStringLiteral("certificateUserIds"),
                                QJsonArray { QStringLiteral("X509:<PN>cloud05@contoso.test") } } } } } },
        { QStringLiteral("d"), "PATCH", QStringLiteral("/users/") + syncedId,
          QJsonObject {
              { QStringLiteral("authorizationInfo"),
                QJsonObject { { QStringLiteral("certificateUserIds"),
                                QJsonArray { QStringLiteral("X509:<PN>synced1@contoso.test") } } } } } },
    };
    Awaited<QList<BatchResponse>> responses;
    graph.batch(requests, responses.sink());
    QTRY_VERIFY_WITH_TIMEOUT(responses.value.has_value(), WaitMs);
    const QList<BatchResponse> &r = *responses.value;
    QCOMPARE(r.size(), 4);
    QCOMPARE(r[0].id, QStringLiteral("a"));
    QCOMPARE(r[0].status, 200);
    QCOMPARE(r[0].attempts, 2); // throttled once, alone, then answered
    QCOMPARE(r[0].body.value(QStringLiteral("mail")).toString(), cloudUpn(4));
    QCOMPARE(r[1].status, 404);
    QVERIFY(r[1].error.has_value());
    QCOMPARE(r[1].error->code, QStringLiteral("Request_ResourceNotFound"));
    QCOMPARE(r[1].attempts, 1);
    QCOMPARE(r[2].status, 204);
    QVERIFY(!r[2].error.has_value());
    QCOMPARE(r[3].status, 400);
    QCOMPARE(r[3].error->code, QStringLiteral("Request_BadRequest"));
    QVERIFY(r[3].error->message.contains(QStringLiteral("on-premises mastered")));
    QVERIFY(!r[3].error->requestId.isEmpty());
    QCOMPARE(writesOf(cloudId).value(QStringLiteral("graph")).toInt(), 1);
    QVERIFY(writesOf(syncedId).isEmpty());

    // On the wire: two $batch requests, the second with the throttled item only.
    int batches = 0;
    int itemA = 0;
    for (const QStringList &line : logSince(m_logMark)) {
        batches += line[2] == QStringLiteral("/v1.0/$batch");
        itemA += line[1] == QStringLiteral("batch:GET") && line[2].contains(idOf(cloudUpn(4)));
    }
    QCOMPARE(batches, 2);
    QCOMPARE(itemA, 2);

    // More than 20 requests are split: 45 reads make three $batch calls.
    QList<BatchRequest> many;
    for (int i = 0; i < 45; ++i)
        many.append(
            { QStringLiteral("r%1").arg(i), "GET",
              QStringLiteral("/users/") + idOf(cloudUpn(i % CloudUsers)) + QStringLiteral("?$select=id"),
              std::nullopt });
    const qsizetype mark = m_sim.accessLog().size();
    Awaited<QList<BatchResponse>> all;
    graph.batch(many, all.sink());
    QTRY_VERIFY_WITH_TIMEOUT(all.value.has_value(), WaitMs);
    QCOMPARE(all.value->size(), 45);
    for (int i = 0; i < 45; ++i) {
        QCOMPARE(all.value->at(i).id, QStringLiteral("r%1").arg(i));
        QCOMPARE(all.value->at(i).status, 200);
        QCOMPARE(all.value->at(i).body.value(QStringLiteral("id")).toString(),
                 idOf(cloudUpn(i % CloudUsers)));
    }
    batches = 0;
    for (const QStringList &line : logSince(mark))
        batches += line[2] == QStringLiteral("/v1.0/$batch");
    QCOMPARE(batches, 3);
}

// What the simulator refuses in a batch, as Graph does; sent raw, since the client never sends these.
void TestTenantClient::batchRefusals()
{
    TenantHttp http(secretSettings());
    auto send = [&http, this](const QJsonArray &items) {
        TenantRequest request;
        request.verb = "POST";
        request.url = QUrl(m_sim.baseUrl() + QStringLiteral("/v1.0/$batch"));
        request.body = QJsonDocument(QJsonObject { { QStringLiteral("requests"), items } }).toJson();
        Awaited<TenantResult<TenantResponse>> reply;
        http.send(request, reply.sink());
        if (!QTest::qWaitFor([&reply] { return reply.value.has_value(); }, WaitMs))
            return decltype(reply.value)();
        return reply.value;
    };
    QJsonArray tooMany;
    for (int i = 0; i < 21; ++i)
        tooMany.append(QJsonObject { { QStringLiteral("id"), QString::number(i) },
                                     { QStringLiteral("method"), QStringLiteral("GET") },
                                     { QStringLiteral("url"), QStringLiteral("/users") } });
    auto answer = send(tooMany);
    QVERIFY(answer.has_value());
    auto r = *answer;
    QVERIFY(!r.ok());
    QCOMPARE(r.error().httpStatus, 400);
    QCOMPARE(r.error().code, QStringLiteral("BadRequest"));
    QVERIFY(r.error().message.contains(QStringLiteral("between 1 and 20")));

    const QJsonArray noContentType { QJsonObject {
        { QStringLiteral("id"), QStringLiteral("1") },
        { QStringLiteral("method"), QStringLiteral("PATCH") },
        { QStringLiteral("url"), QString(QStringLiteral("/users/") + idOf(cloudUpn(6))) },
        { QStringLiteral("body"),
          QJsonObject { { QStringLiteral("authorizationInfo"), QJsonObject {} } } } } };
    answer = send(noContentType);
    QVERIFY(answer.has_value());
    r = *answer;
    QVERIFY(!r.ok());
    QCOMPARE(r.error().httpStatus, 400);
    QCOMPARE(r.error().message,
             QStringLiteral("Write request id : 1 does not contain Content-Type header or body."));
    QVERIFY(writesOf(idOf(cloudUpn(6))).isEmpty());
}

void TestTenantClient::throttleStormAppliesEverythingOnce()
{
    TenantSettings s = secretSettings();
    s.maxConcurrency = 4;
    TenantHttp http(s);
    ExchangeClient exchange(&http);
    GraphClient graph(&http);
    // The first 15 API requests are refused with Retry-After: 1; each change must still land once.
    const int injectedBefore = m_sim.stats().value(QStringLiteral("injected429")).toInt();
    m_sim.setFaults({ { QStringLiteral("throttleNext"), 15 }, { QStringLiteral("retryAfterSeconds"), 1 } });
    const int n = 10;
    QList<std::optional<TenantResult<WriteReceipt>>> results(n);
    for (int i = 0; i < n; ++i) {
        const int user = 7 + i;
        const QString upn = cloudUpn(user);
        RecipientCertificateChange change;
        change.identity = upn;
        change.recipientTypeDetails = user % 2 ? QStringLiteral("MailUser") : QStringLiteral("UserMailbox");
        change.userSMimeCertificate = QList<QByteArray> { m_smimeA.der, m_smimeB.der };
        exchange.setCertificates(
            change, [&results, i](TenantResult<WriteReceipt> r) { results[i].emplace(std::move(r)); });
    }
    QTRY_VERIFY_WITH_TIMEOUT(
        std::all_of(results.cbegin(), results.cend(), [](const auto &r) { return r.has_value(); }), WaitMs);
    int retried = 0;
    for (int i = 0; i < n; ++i) {
        QVERIFY2(results[i]->ok(), qPrintable(results[i]->ok() ? QString() : results[i]->error().toString()));
        QVERIFY(!results[i]->value().confirmedByRead);
        retried += results[i]->value().attempts > 1;
        QCOMPARE(writesOf(idOf(cloudUpn(7 + i))).value(QStringLiteral("exchange")).toInt(), 1);
    }
    QVERIFY(retried >= 1);
    QCOMPARE(http.stats().throttled, 15);
    QCOMPARE(m_sim.stats().value(QStringLiteral("injected429")).toInt() - injectedBefore, 15);
    int applied = 0;
    for (const QStringList &line : logSince(m_logMark))
        applied += line[6] == QStringLiteral("applied");
    QCOMPARE(applied, n);

    // And the values are what was sent.
    Awaited<TenantResult<ExchangeRecipient>> back;
    exchange.getRecipient(cloudUpn(8), back.sink());
    QTRY_VERIFY_WITH_TIMEOUT(back.value.has_value(), WaitMs);
    QVERIFY(back.value->ok());
    QCOMPARE(back.value->value().userSMimeCertificate, (QList<QByteArray> { m_smimeA.der, m_smimeB.der }));
}

// Over the ceiling, a long Retry-After holds every new request to the service, so a long queue
// does not collect one 429 per change; everything still lands exactly once.
void TestTenantClient::rateCeilingHoldsTheWholeService()
{
    TenantSettings s = secretSettings();
    s.maxConcurrency = 4;
    // The simulator's Retry-After is the rest of the window, rounded up to whole seconds: on a slow
    // build (ASan) the tenth request can land in the window's last second, and a Retry-After of 1
    // is below the default gate of 2 s. What is tested here is the hold, so every Retry-After holds.
    s.throttleGateSeconds = 1;
    TenantHttp http(s);
    GraphClient graph(&http);
    Awaited<TenantResult<QByteArray>> token;
    http.token(Service::Graph, token.sink());
    QTRY_VERIFY_WITH_TIMEOUT(token.value.has_value(), WaitMs);
    const QJsonObject before = m_sim.stats();
    const qsizetype windowsBefore = before.value(QStringLiteral("windows")).toArray().size();
    m_sim.setFaults({ { QStringLiteral("rateLimit"), 10 }, { QStringLiteral("rateWindowMs"), 2000 } });
    const int n = 30;
    QList<std::optional<TenantResult<WriteReceipt>>> results(n);
    for (int i = 0; i < n; ++i) {
        graph.setCertificateUserIds(
            { idOf(cloudUpn(i % 18)) /* later tests count writes of cloud18.. */,
              { QStringLiteral("X509:<SKI>%1").arg(i, 4, 16, QLatin1Char('0')) } },
            [&results, i](TenantResult<WriteReceipt> r) { results[i].emplace(std::move(r)); });
    }
    QTRY_VERIFY_WITH_TIMEOUT(
        std::all_of(results.cbegin(), results.cend(), [](const auto &r) { return r.has_value(); }), WaitMs);
    for (const auto &r : results)
        QVERIFY2(r->ok(), qPrintable(r->ok() ? QString() : r->error().toString()));
    const QJsonObject after = m_sim.stats();
    const QJsonArray windows = after.value(QStringLiteral("windows")).toArray();
    QCOMPARE(windows.size() - windowsBefore, 3);
    for (qsizetype i = windowsBefore; i < windows.size(); ++i)
        QCOMPARE(windows[i].toObject().value(QStringLiteral("accepted")).toInt(), 10);
    const int ceiling429 = after.value(QStringLiteral("ceiling429")).toInt()
        - before.value(QStringLiteral("ceiling429")).toInt();
    // Without the hold every queued change would collect a 429 (20 or more); with it, at most the
    // requests already in flight when the limit was hit, per window change.
    QVERIFY2(ceiling429 <= 2 * s.maxConcurrency, qPrintable(QString::number(ceiling429)));
    QVERIFY(ceiling429 >= 1);
}

void TestTenantClient::serviceUnavailableIsRetried()
{
    TenantHttp http(secretSettings());
    GraphClient graph(&http);
    Awaited<TenantResult<QByteArray>> token;
    http.token(Service::Graph, token.sink());
    QTRY_VERIFY_WITH_TIMEOUT(token.value.has_value(), WaitMs);
    const qsizetype mark = m_sim.accessLog().size();
    m_sim.setFaults({ { QStringLiteral("unavailableNext"), 2 } });
    Awaited<TenantResult<GraphUser>> user;
    graph.getUser(cloudUpn(9), user.sink());
    QTRY_VERIFY_WITH_TIMEOUT(user.value.has_value(), WaitMs);
    QVERIFY(user.value->ok());
    QCOMPARE(http.stats().unavailable, 2);
    const auto log = logSince(mark);
    QCOMPARE(log.size(), 3);
    QCOMPARE(log[0][3], QStringLiteral("503"));
    QCOMPARE(log[1][3], QStringLiteral("503"));
    QCOMPARE(log[2][3], QStringLiteral("200"));
    QVERIFY(log[0][5] != log[2][5]); // a client-request-id per attempt

    // With the attempts used up, the 503 surfaces, typed.
    TenantSettings s = secretSettings();
    s.maxAttempts = 2;
    TenantHttp limited(s);
    GraphClient limitedGraph(&limited);
    m_sim.setFaults({ { QStringLiteral("unavailableNext"), 5 } });
    Awaited<TenantResult<GraphUser>> failed;
    limitedGraph.getUser(cloudUpn(9), failed.sink());
    QTRY_VERIFY_WITH_TIMEOUT(failed.value.has_value(), WaitMs);
    QVERIFY(!failed.value->ok());
    QCOMPARE(failed.value->error().httpStatus, 503);
    QCOMPARE(failed.value->error().code, errc::Throttled);
    QCOMPARE(failed.value->error().attempts, 2);
}

void TestTenantClient::retryAfterPastTheCapEndsTheRequest()
{
    // 4,000,000 s is past int's range in milliseconds: it once wrapped to a negative delay and the
    // request was sent again at once, attempt after attempt. Now nothing is sent again: the request
    // fails at once, saying how long the service asked for, and a batch item the same way.
    TenantSettings s = secretSettings();
    s.maxRetryAfterSeconds = 300;
    TenantHttp http(s);
    GraphClient graph(&http);
    ExchangeClient exchange(&http);
    Awaited<TenantResult<QByteArray>> token;
    http.token(Service::Graph, token.sink());
    QTRY_VERIFY_WITH_TIMEOUT(token.value.has_value(), WaitMs);
    Awaited<TenantResult<QByteArray>> exoToken;
    http.token(Service::Exchange, exoToken.sink());
    QTRY_VERIFY_WITH_TIMEOUT(exoToken.value.has_value(), WaitMs);

    m_sim.setFaults({ { QStringLiteral("retryAfterSeconds"), 4000000 } });
    for (int round = 0; round < 3; ++round) {
        const qsizetype mark = m_sim.accessLog().size();
        m_sim.setFaults({ { QStringLiteral("throttleNext"), 1 } });
        TenantError error;
        if (round == 0) {
            Awaited<TenantResult<GraphUser>> user;
            graph.getUser(cloudUpn(9), user.sink());
            QTRY_VERIFY_WITH_TIMEOUT(user.value.has_value(), WaitMs);
            QVERIFY(!user.value->ok());
            error = user.value->error();
        } else if (round == 1) {
            Awaited<TenantResult<ExchangeRecipient>> recipient;
            exchange.getRecipient(cloudUpn(9), recipient.sink());
            QTRY_VERIFY_WITH_TIMEOUT(recipient.value.has_value(), WaitMs);
            QVERIFY(!recipient.value->ok());
            error = recipient.value->error();
        } else {
            // A batch: whether the batch or its item is throttled, nothing is sent again.
            Awaited<QList<BatchResponse>> answers;
            graph.batch({ BatchRequest { QStringLiteral("1"), "GET",
                                         QStringLiteral("/users/") + idOf(cloudUpn(9)), std::nullopt } },
                        answers.sink());
            QTRY_VERIFY_WITH_TIMEOUT(answers.value.has_value(), WaitMs);
            QCOMPARE(answers.value->size(), 1);
            QVERIFY(answers.value->first().error.has_value());
            error = *answers.value->first().error;
        }
        QCOMPARE(error.code, errc::Throttled);
        QCOMPARE(error.retryAfterSeconds, qint64(4000000));
        QVERIFY2(error.message.contains(QStringLiteral("throttled for 4000000 s")),
                 qPrintable(error.message));
        // Asked once, never again (a batch logs its item and itself).
        QCOMPARE(logSince(mark).size(), round == 2 ? 2 : 1);
    }
}

// Found while writing fuzz_tenant (its Retry-After seeds): a Retry-After in seconds was multiplied into
// milliseconds as an int, so one of 2,147,484 s (about 25 days) or more overflowed: undefined
// behaviour, in practice a negative delay. TenantHttp then started no timer at all and the request
// never finished; a $batch item went again at once. Both must fail as throttled, as any Retry-After
// beyond maxRetryAfterSeconds does. Regression inputs: tests/fuzz/corpus/tenant/regress-retry-after-*.
void TestTenantClient::retryAfterBeyondIntRangeFailsTheRequest()
{
    TenantHttp http(secretSettings());
    GraphClient graph(&http);
    Awaited<TenantResult<QByteArray>> token;
    http.token(Service::Graph, token.sink());
    QTRY_VERIFY_WITH_TIMEOUT(token.value.has_value(), WaitMs);
    m_sim.setFaults(
        { { QStringLiteral("throttleNext"), 1 }, { QStringLiteral("retryAfterSeconds"), 2147484 } });
    Awaited<TenantResult<GraphUser>> user;
    graph.getUser(cloudUpn(9), user.sink());
    QTRY_VERIFY_WITH_TIMEOUT(user.value.has_value(), WaitMs);
    QVERIFY(!user.value->ok());
    QCOMPARE(user.value->error().httpStatus, 429);
    QCOMPARE(user.value->error().code, errc::Throttled);
    QCOMPARE(user.value->error().attempts, 1);

    // The same inside $batch: the item fails as throttled instead of going again at once. (A new
    // client: the first one now holds every Graph request for the longest Retry-After it accepts.)
    TenantHttp batchHttp(secretSettings());
    GraphClient batchGraph(&batchHttp);
    m_sim.setFaults(
        { { QStringLiteral("throttleNext"), 1 }, { QStringLiteral("retryAfterSeconds"), 2147484 } });
    Awaited<QList<BatchResponse>> responses;
    batchGraph.batch(
        { { QStringLiteral("a"), "GET", QStringLiteral("/users/") + idOf(cloudUpn(4)), std::nullopt } },
        responses.sink());
    QTRY_VERIFY_WITH_TIMEOUT(responses.value.has_value(), WaitMs);
    QCOMPARE(responses.value->size(), 1);
    const BatchResponse &item = responses.value->first();
    QCOMPARE(item.status, 429);
    QCOMPARE(item.attempts, 1);
    QVERIFY(item.error.has_value());
    QCOMPARE(item.error->code, errc::Throttled);
}

void TestTenantClient::droppedGraphWriteIsReadBeforeRetry()
{
    TenantHttp http(secretSettings());
    GraphClient graph(&http);
    const QString id = idOf(cloudUpn(18));
    m_sim.setFaults({ { QStringLiteral("dropNextWrites"), 1 } });
    Awaited<TenantResult<WriteReceipt>> receipt;
    graph.setCertificateUserIds({ id, { QStringLiteral("X509:<RFC822>cloud18@contoso.test") } },
                                receipt.sink());
    QTRY_VERIFY_WITH_TIMEOUT(receipt.value.has_value(), WaitMs);
    QVERIFY2(receipt.value->ok(),
             qPrintable(receipt.value->ok() ? QString() : receipt.value->error().toString()));
    QVERIFY(receipt.value->value().confirmedByRead);
    QCOMPARE(writesOf(id).value(QStringLiteral("graph")).toInt(), 1);
    QStringList sequence;
    for (const QStringList &line : logSince(m_logMark))
        if (line[2].contains(id))
            sequence << line[1] + QLatin1Char(' ') + line[3] + QLatin1Char(' ') + line[6];
    QCOMPARE(sequence, (QStringList { QStringLiteral("PATCH 204 dropped"), QStringLiteral("GET 200 ") }));

    // Batched writes too: the whole batch answer is lost; each item is checked, none written twice.
    const QString a = idOf(cloudUpn(19));
    const QString b = idOf(cloudUpn(20));
    m_sim.setFaults({ { QStringLiteral("dropNextWrites"), 1 } });
    Awaited<QList<TenantResult<WriteReceipt>>> batched;
    graph.setCertificateUserIdsBatched({ { a, { QStringLiteral("X509:<PN>cloud19@contoso.test") } },
                                         { b, { QStringLiteral("X509:<PN>cloud20@contoso.test") } } },
                                       batched.sink());
    QTRY_VERIFY_WITH_TIMEOUT(batched.value.has_value(), WaitMs);
    QCOMPARE(batched.value->size(), 2);
    for (const auto &r : *batched.value) {
        QVERIFY(r.ok());
        QVERIFY(r.value().confirmedByRead);
    }
    QCOMPARE(writesOf(a).value(QStringLiteral("graph")).toInt(), 1);
    QCOMPARE(writesOf(b).value(QStringLiteral("graph")).toInt(), 1);
}

void TestTenantClient::droppedExchangeWriteIsReadBeforeRetry()
{
    TenantHttp http(secretSettings());
    ExchangeClient exchange(&http);
    const QString upn = cloudUpn(22);
    m_sim.setFaults({ { QStringLiteral("dropNextWrites"), 1 } });
    RecipientCertificateChange change;
    change.identity = upn;
    change.recipientTypeDetails = QStringLiteral("UserMailbox");
    change.userCertificate = QList<QByteArray> { m_smimeB.der };
    Awaited<TenantResult<WriteReceipt>> receipt;
    exchange.setCertificates(change, receipt.sink());
    QTRY_VERIFY_WITH_TIMEOUT(receipt.value.has_value(), WaitMs);
    QVERIFY2(receipt.value->ok(),
             qPrintable(receipt.value->ok() ? QString() : receipt.value->error().toString()));
    QVERIFY(receipt.value->value().confirmedByRead);
    QCOMPARE(writesOf(idOf(upn)).value(QStringLiteral("exchange")).toInt(), 1);
    QStringList notes;
    for (const QStringList &line : logSince(m_logMark))
        if (line[2].endsWith(QStringLiteral("/InvokeCommand")))
            notes << line[3] + QLatin1Char(' ') + line[6];
    QCOMPARE(notes, (QStringList { QStringLiteral("200 dropped"), QStringLiteral("200 ") }));
}

void TestTenantClient::exchangeRequestsNameTheAnchorMailbox()
{
    m_sim.admin("POST", QStringLiteral("/admin/reset-stats"));
    TenantHttp http(secretSettings());
    ExchangeClient exchange(&http);
    Awaited<TenantResult<QByteArray>> store;
    exchange.getSmimeIssuingCa(store.sink());
    QTRY_VERIFY_WITH_TIMEOUT(store.value.has_value(), WaitMs);
    QVERIFY2(store.value->ok(), qPrintable(store.value->ok() ? QString() : store.value->error().toString()));
    Awaited<TenantResult<ExchangeRecipient>> recipient;
    exchange.getRecipient(cloudUpn(1), recipient.sink());
    QTRY_VERIFY_WITH_TIMEOUT(recipient.value.has_value(), WaitMs);
    QVERIFY2(recipient.value->ok(),
             qPrintable(recipient.value->ok() ? QString() : recipient.value->error().toString()));
    // Every InvokeCommand the simulator saw named the organisation's system mailbox, as the Exchange
    // module's public clients do; none went without.
    const QJsonObject anchors = m_sim.stats().value(QStringLiteral("exchangeAnchors")).toObject();
    const QString expected =
        QStringLiteral("APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@") + TenantId;
    QCOMPARE(anchors.keys(), QStringList { expected });
    QCOMPARE(anchors.value(expected).toInt(), 3); // Get-SmimeConfig, Get-Recipient, Get-MailUser
}

void TestTenantClient::exchangeWarningsReachTheLog()
{
    const QString warning = QStringLiteral(
        "WARNING: The command completed successfully but no settings of 'SmimeConfig' have been "
        "modified.");
    QVERIFY(!m_sim.setFaults({ { QStringLiteral("exchangeWarning"), warning } })
                 .contains(QStringLiteral("error")));
    TenantHttp http(secretSettings());
    ExchangeClient exchange(&http);
    QList<jobs::LogRecord> records;
    connect(&http, &TenantHttp::logRecord, this, [&records](const jobs::LogRecord &r) { records.append(r); });
    Awaited<TenantResult<QByteArray>> store;
    exchange.getSmimeIssuingCa(store.sink());
    QTRY_VERIFY_WITH_TIMEOUT(store.value.has_value(), WaitMs);
    QVERIFY2(store.value->ok(),
             qPrintable(store.value->ok() ? QString()
                                          : store.value->error().toString())); // a warning is no failure
    const auto found = std::find_if(records.cbegin(), records.cend(), [&](const jobs::LogRecord &r) {
        return r.level == jobs::LogRecord::Level::Warning && r.message.contains(warning);
    });
    QVERIFY2(found != records.cend(), "the warning is in the log");
    QVERIFY2(found->message.contains(QStringLiteral("Get-SmimeConfig")), qPrintable(found->message));
    QCOMPARE(found->channel, QStringLiteral("exchange"));
    QVERIFY(!found->requestId.isEmpty() && !found->clientRequestId.isEmpty());
}

void TestTenantClient::exchangeErrorTextFromDetailsFirst_data()
{
    QTest::addColumn<QString>("shape");
    QTest::newRow("message and details") << QStringLiteral("full");
    QTest::newRow("generic message, the text in details") << QStringLiteral("details");
    QTest::newRow("generic message, the text in internalException") << QStringLiteral("internalException");
}

void TestTenantClient::exchangeErrorTextFromDetailsFirst()
{
    QFETCH(QString, shape);
    QVERIFY(!m_sim.setFaults({ { QStringLiteral("exchangeErrorShape"), shape } })
                 .contains(QStringLiteral("error")));
    TenantHttp http(secretSettings());
    ExchangeClient exchange(&http);
    Awaited<TenantResult<ExchangeRecipient>> recipient;
    exchange.getRecipient(QStringLiteral("nobody@contoso.test"), recipient.sink());
    QTRY_VERIFY_WITH_TIMEOUT(recipient.value.has_value(), WaitMs);
    QVERIFY(!recipient.value->ok());
    const TenantError &e = recipient.value->error();
    QCOMPARE(e.httpStatus, 404);
    QCOMPARE(e.code, QStringLiteral("notFound"));
    QCOMPARE(e.innerCode,
             QStringLiteral("Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"));
    // The person reads what went wrong, not "An error has occurred.", and without the type's bars.
    QVERIFY2(e.message.startsWith(QStringLiteral("The operation couldn't be performed because object "
                                                 "'nobody@contoso.test' couldn't be found")),
             qPrintable(e.message));
}

void TestTenantClient::exchangeRefusesSyncedObject()
{
    TenantHttp http(secretSettings());
    ExchangeClient exchange(&http);
    QList<jobs::LogRecord> records;
    connect(&http, &TenantHttp::logRecord, this, [&records](const jobs::LogRecord &r) { records.append(r); });
    RecipientCertificateChange change;
    change.identity = syncedUpn(2);
    change.recipientTypeDetails = QStringLiteral("UserMailbox");
    change.userSMimeCertificate = QList<QByteArray> { m_smimeA.der };
    Awaited<TenantResult<WriteReceipt>> receipt;
    exchange.setCertificates(change, receipt.sink());
    QTRY_VERIFY_WITH_TIMEOUT(receipt.value.has_value(), WaitMs);
    QVERIFY(!receipt.value->ok());
    const TenantError &e = receipt.value->error();
    QCOMPARE(e.source, TenantError::Source::Exchange);
    QCOMPARE(e.code, errc::SyncedObject);
    QCOMPARE(e.httpStatus, 400);
    QCOMPARE(e.innerCode, QStringLiteral("Microsoft.Exchange.Management.Tasks.RecipientTaskException"));
    QVERIFY2(e.message.startsWith(QStringLiteral(
                 "Exchange Online refuses to change UserSMimeCertificate on synced2@contoso.test: "
                 "the object is synchronised from on-premises (IsDirSynced)")),
             qPrintable(e.message));
    QVERIFY(!e.requestId.isEmpty());
    QVERIFY(!e.outcomeUnknown);
    QCOMPARE(e.toError().code, QStringLiteral("tenant.exchange.syncedObject"));
    QVERIFY(writesOf(idOf(syncedUpn(2))).isEmpty());
    auto invokeStatuses = [this](qsizetype from) {
        QStringList statuses;
        for (const QStringList &line : logSince(from))
            if (line[2].endsWith(QStringLiteral("/InvokeCommand")))
                statuses.append(line[3]);
        return statuses;
    };
    // The refused write is not retried; one read of the recipient confirms IsDirSynced.
    QCOMPARE(invokeStatuses(m_logMark), (QStringList { QStringLiteral("400"), QStringLiteral("200") }));

    // The same refusal worded in another language (the admin's culture) is recognised all the same:
    // the client does not depend on the English message.
    QVERIFY(!m_sim.setFaults({ { QStringLiteral("exchangeCulture"), QStringLiteral("de-DE") } })
                 .contains(QStringLiteral("error")));
    qsizetype mark = m_sim.accessLog().size();
    Awaited<TenantResult<WriteReceipt>> german;
    exchange.setCertificates(change, german.sink());
    QTRY_VERIFY_WITH_TIMEOUT(german.value.has_value(), WaitMs);
    m_sim.setFaults({ { QStringLiteral("exchangeCulture"), QStringLiteral("en-US") } });
    QVERIFY(!german.value->ok());
    QCOMPARE(german.value->error().code, errc::SyncedObject);
    QVERIFY(german.value->error().message.contains(QStringLiteral("synchronisiert")));
    QCOMPARE(invokeStatuses(mark).size(), 2);

    // A change that knows the recipient is synced needs no read to explain the refusal.
    change.isDirSynced = true;
    mark = m_sim.accessLog().size();
    Awaited<TenantResult<WriteReceipt>> known;
    exchange.setCertificates(change, known.sink());
    QTRY_VERIFY_WITH_TIMEOUT(known.value.has_value(), WaitMs);
    QCOMPARE(known.value->error().code, errc::SyncedObject);
    QCOMPARE(invokeStatuses(mark), QStringList { QStringLiteral("400") });
    QVERIFY(writesOf(idOf(syncedUpn(2))).isEmpty());
}

void TestTenantClient::exchangeRefusesSixteenthValue()
{
    TenantHttp http(secretSettings());
    ExchangeClient exchange(&http);
    RecipientCertificateChange change;
    change.identity = cloudUpn(23);
    change.recipientTypeDetails = QStringLiteral("MailUser");
    QList<QByteArray> sixteen;
    for (int i = 0; i < 16; ++i)
        sixteen.append(i % 2 ? m_smimeA.der : m_smimeB.der);
    change.userCertificate = sixteen;
    Awaited<TenantResult<WriteReceipt>> receipt;
    exchange.setCertificates(change, receipt.sink());
    QTRY_VERIFY_WITH_TIMEOUT(receipt.value.has_value(), WaitMs);
    QVERIFY(!receipt.value->ok());
    QCOMPARE(receipt.value->error().innerCode,
             QStringLiteral("Microsoft.Exchange.Data.DataValidationException"));
    QVERIFY(receipt.value->error().message.contains(QStringLiteral("maximum length is 15")));

    sixteen.removeLast();
    change.userCertificate = sixteen;
    Awaited<TenantResult<WriteReceipt>> fifteen;
    exchange.setCertificates(change, fifteen.sink());
    QTRY_VERIFY_WITH_TIMEOUT(fifteen.value.has_value(), WaitMs);
    QVERIFY(fifteen.value->ok());
}

void TestTenantClient::exchangeRoundTripsCertificates_data()
{
    QTest::addColumn<ByteArrayEncoding>("encoding");
    QTest::newRow("base64 strings") << ByteArrayEncoding::Base64String;
    QTest::newRow("number arrays") << ByteArrayEncoding::NumberArray;
}

void TestTenantClient::exchangeRoundTripsCertificates()
{
    QFETCH(ByteArrayEncoding, encoding);
    TenantSettings s = secretSettings();
    s.exchangeByteEncoding = encoding;
    TenantHttp http(s);
    ExchangeClient exchange(&http);
    const QString upn = cloudUpn(24);
    RecipientCertificateChange change;
    change.identity = upn;
    change.recipientTypeDetails = QStringLiteral("UserMailbox");
    change.userCertificate = QList<QByteArray> { m_smimeA.der };
    change.userSMimeCertificate = QList<QByteArray> { TestPki::pkcs7Signed(m_smimeA, {}) };
    Awaited<TenantResult<WriteReceipt>> receipt;
    exchange.setCertificates(change, receipt.sink());
    QTRY_VERIFY_WITH_TIMEOUT(receipt.value.has_value(), WaitMs);
    QVERIFY2(receipt.value->ok(),
             qPrintable(receipt.value->ok() ? QString() : receipt.value->error().toString()));
    Awaited<TenantResult<ExchangeRecipient>> back;
    exchange.getRecipient(upn, back.sink());
    QTRY_VERIFY_WITH_TIMEOUT(back.value.has_value(), WaitMs);
    QVERIFY(back.value->ok());
    QCOMPARE(back.value->value().userCertificate, *change.userCertificate);
    QCOMPARE(back.value->value().userSMimeCertificate, *change.userSMimeCertificate);
    QCOMPARE(back.value->value().externalDirectoryObjectId, idOf(upn));
    QVERIFY(!back.value->value().isDirSynced);
}

void TestTenantClient::exchangeAddRemoveMatchesReplace_data()
{
    QTest::addColumn<ByteArrayEncoding>("encoding");
    QTest::newRow("base64") << ByteArrayEncoding::Base64String;
    QTest::newRow("numbers") << ByteArrayEncoding::NumberArray;
}

void TestTenantClient::exchangeAddRemoveMatchesReplace()
{
    // The publisher sends the difference (GenericHashTable Add/Remove) after reading the recipient:
    // from the state it read, the result is the replace's; a value someone else added between the
    // read and the write survives, where a replace would drop it.
    QFETCH(ByteArrayEncoding, encoding);
    const CertSpec otherSpec = [] {
        CertSpec s = goodLeafSpec(QStringLiteral("other@contoso.test"));
        s.keySlot = 41;
        return s;
    }();
    const QByteArray other = TestPki::selfSigned(otherSpec).der;
    auto seedRecipient = [&](const QString &upn, const QList<QByteArray> &values) {
        QJsonArray list;
        for (const QByteArray &v : values)
            list.append(QString::fromLatin1(v.toBase64()));
        const QJsonObject r =
            m_sim.admin("POST", QStringLiteral("/admin/users"),
                        QJsonObject { { QStringLiteral("userPrincipalName"), upn },
                                      { QStringLiteral("mail"), upn },
                                      { QStringLiteral("recipientTypeDetails"), QStringLiteral("MailUser") },
                                      { QStringLiteral("userCertificate"), list } });
        return !r.contains(QStringLiteral("error"));
    };
    auto published = [&](const QString &upn) {
        QList<QByteArray> values;
        for (const QJsonValue &v :
             m_sim.admin("GET", QStringLiteral("/admin/state")).value(QStringLiteral("users")).toArray())
            if (v.toObject().value(QStringLiteral("userPrincipalName")).toString() == upn)
                for (const QJsonValue &c : v.toObject().value(QStringLiteral("userCertificate")).toArray())
                    values.append(QByteArray::fromBase64(c.toString().toLatin1()));
        std::sort(values.begin(), values.end());
        return values;
    };
    auto set = [&](const QString &upn, MultiValuedUpdate update, const QList<QByteArray> &before) {
        TenantSettings s = secretSettings();
        s.exchangeByteEncoding = encoding;
        s.exchangeMultiValuedUpdate = update;
        TenantHttp http(s);
        ExchangeClient exchange(&http);
        RecipientCertificateChange change;
        change.identity = upn;
        change.recipientTypeDetails = QStringLiteral("MailUser");
        change.userCertificate = QList<QByteArray> { m_smimeB.der };
        change.userCertificateBefore = before;
        Awaited<TenantResult<WriteReceipt>> receipt;
        exchange.setCertificates(change, receipt.sink());
        QTRY_VERIFY_WITH_TIMEOUT(receipt.value.has_value(), WaitMs);
        QVERIFY2(receipt.value->ok(),
                 qPrintable(receipt.value->ok() ? QString() : receipt.value->error().toString()));
    };
    const QString tag = QString::fromLatin1(QTest::currentDataTag());
    const QString viaReplace = QStringLiteral("replace-%1@contoso.test").arg(tag);
    const QString viaAddRemove = QStringLiteral("addremove-%1@contoso.test").arg(tag);
    QVERIFY(seedRecipient(viaReplace, { m_smimeA.der }));
    QVERIFY(seedRecipient(viaAddRemove, { m_smimeA.der }));
    set(viaReplace, MultiValuedUpdate::Replace, { m_smimeA.der });
    set(viaAddRemove, MultiValuedUpdate::AddRemove, { m_smimeA.der });
    QCOMPARE(published(viaAddRemove), QList<QByteArray> { m_smimeB.der });
    QCOMPARE(published(viaAddRemove), published(viaReplace));

    // Someone else adds a value after the publisher read [A].
    QVERIFY(seedRecipient(viaReplace, { m_smimeA.der, other }));
    QVERIFY(seedRecipient(viaAddRemove, { m_smimeA.der, other }));
    set(viaReplace, MultiValuedUpdate::Replace, { m_smimeA.der });
    set(viaAddRemove, MultiValuedUpdate::AddRemove, { m_smimeA.der });
    QList<QByteArray> kept { m_smimeB.der, other };
    std::sort(kept.begin(), kept.end());
    QCOMPARE(published(viaAddRemove), kept);
    QCOMPARE(published(viaReplace), QList<QByteArray> { m_smimeB.der }); // the replace lost it
}

void TestTenantClient::snapshotJobJoinsUsersAndRecipients()
{
    jobs::JobRunner runner;
    auto *job = new TenantSnapshotJob(certificateSettings(AssertionAlgorithm::Ps256), {});
    QSignalSpy ready(job, &TenantSnapshotJob::snapshotReady);
    QSignalSpy progress(job, &jobs::Job::progress);
    QSignalSpy finished(job, &jobs::Job::finished);
    runner.run(job);
    QVERIFY(finished.wait(WaitMs));
    QVERIFY2(finished.first().at(0).toBool(), qPrintable(finished.first().at(1).toString()));
    QCOMPARE(ready.size(), 1);
    const auto snapshot = ready.first().at(0).value<TenantSnapshot>();
    QCOMPARE(snapshot.users.size(), CloudUsers + SyncedUsers + 1);
    QVERIFY(!snapshot.deltaLink.isEmpty());
    QVERIFY(snapshot.unmatchedRecipients.isEmpty());
    int withRecipient = 0;
    for (const TenantUser &u : snapshot.users)
        withRecipient += u.recipient.has_value();
    QCOMPARE(withRecipient, CloudUsers + SyncedUsers); // all but nomail@
    const TenantUser *synced = snapshot.find(idOf(syncedUpn(3)));
    QVERIFY(synced && synced->recipient);
    QVERIFY(synced->user.isSynced());
    QVERIFY(synced->recipient->isDirSynced);
    QCOMPARE(synced->recipient->userCertificate, QList<QByteArray> { m_smimeB.der });
    const TenantUser *nomail = snapshot.find(idOf(QStringLiteral("nomail@contoso.test")));
    QVERIFY(nomail && !nomail->recipient);
    QVERIFY(progress.size() >= 4 + 2); // user pages, then recipient pages, then done
    QCOMPARE(progress.last().at(0).toLongLong(), qint64(CloudUsers + SyncedUsers + 1));

    // Incremental: nothing changed since, so the delta round is empty and the users are the same.
    auto *again = new TenantSnapshotJob(secretSettings(), { snapshot, false });
    QSignalSpy readyAgain(again, &TenantSnapshotJob::snapshotReady);
    QSignalSpy finishedAgain(again, &jobs::Job::finished);
    runner.run(again);
    QVERIFY(finishedAgain.wait(WaitMs));
    QCOMPARE(readyAgain.size(), 1);
    const auto incremental = readyAgain.first().at(0).value<TenantSnapshot>();
    QVERIFY(incremental.incremental);
    QCOMPARE(incremental.users.size(), snapshot.users.size());
}

void TestTenantClient::snapshotJobCancels()
{
    m_sim.setFaults({ { QStringLiteral("latencyMs"), 150 } });
    jobs::JobRunner runner;
    auto *job = new TenantSnapshotJob(secretSettings(), {});
    QSignalSpy progress(job, &jobs::Job::progress);
    QSignalSpy ready(job, &TenantSnapshotJob::snapshotReady);
    QSignalSpy finished(job, &jobs::Job::finished);
    connect(
        job, &jobs::Job::progress, job, [job] { job->cancel(); }, Qt::DirectConnection);
    runner.run(job);
    QVERIFY(finished.wait(WaitMs));
    QCOMPARE(finished.first().at(0).toBool(), false);
    QCOMPARE(finished.first().at(1).toString(), QStringLiteral("canceled"));
    QCOMPARE(ready.size(), 0);
    QCOMPARE(progress.size(), 1); // stopped after the first page
}

QTEST_GUILESS_MAIN(TestTenantClient)
#include "tst_tenantclient.moc"
