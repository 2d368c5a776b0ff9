// `certsync check WHO` through the real binary, against the seeded directory fixture (slapd or
// Samba AD, by CERTSYNC_DIRECTORY_ENV) and certsync-tenantsim: each way of naming a person, the
// verdict's fields against the seeding manifest, the exit codes, and the tenant's side.
#include "DirectoryFixture.h"
#include "SimHarness.h"
#include "certs/SerializedStore.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTest>

using namespace certsync;
using namespace certsync::testing;

namespace {

const QString TenantId = QStringLiteral("7d0e4c1b-5a2f-4e3d-9c8b-1a2b3c4d5e6f");
const QString ClientId = QStringLiteral("3f2e1d0c-9b8a-4766-8554-433221100fed");
const QString Secret = QStringLiteral("check-suite-secret");

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QString err;
    qint64 elapsedMs = 0;
    [[nodiscard]] QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

} // namespace

class TestCheckCli : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void directoryOnly_data();
    void directoryOnly();
    void namingAUser_data();
    void namingAUser();
    void failuresAndUsage_data();
    void failuresAndUsage();
    void withTenant_data();
    void withTenant();
    void textAnswer();

private:
    Run check(const QStringList &args) const;
    [[nodiscard]] QStringList directoryArgs() const;
    [[nodiscard]] QStringList tenantArgs() const;
    [[nodiscard]] QJsonObject seeded(const QString &name) const; // the manifest's user
    [[nodiscard]] QString leafOf(const QString &name, const QString &attribute) const;

    DirectoryFixture m_dir;
    QString m_binary;
    QJsonObject m_manifest;
    QHash<QString, directory::DirectoryUser> m_users; // by mail
    SimHarness m_sim;
};

void TestCheckCli::initTestCase()
{
    m_binary = qEnvironmentVariable("CERTSYNC_CLI");
    QVERIFY2(QFileInfo(m_binary).isExecutable(), "CERTSYNC_CLI must name the certsync binary");
    m_dir = DirectoryFixture::fromEnvironment("CERTSYNC_DIRECTORY_ENV");
    QVERIFY2(m_dir.error.isEmpty(), qPrintable(m_dir.error));
    m_manifest = m_dir.manifest();
    QVERIFY(!m_manifest.isEmpty());
    const ReadOutcome read = readDirectory(m_dir.readSettings());
    QVERIFY(read.success && read.snapshot && read.snapshot->complete);
    for (const directory::DirectoryUser &u : read.snapshot->users)
        m_users.insert(u.mail, u);

    // good-rsa: synced, published as in the directory; good-ec: a cloud mail user with nothing
    // published; expiring: synced, but Exchange holds only an expired certificate of someone else's;
    // outlook: no Microsoft 365 user at all.
    auto b64 = [](const QList<QByteArray> &values) {
        QJsonArray a;
        for (const QByteArray &v : values)
            a.append(QString::fromLatin1(v.toBase64()));
        return a;
    };
    auto mailOf = [&](const QString &name) { return seeded(name).value(QStringLiteral("mail")).toString(); };
    const directory::DirectoryUser goodRsa = m_users.value(mailOf(QStringLiteral("good-rsa")));
    const directory::DirectoryUser expired = m_users.value(mailOf(QStringLiteral("expired")));
    const directory::DirectoryUser expiring = m_users.value(mailOf(QStringLiteral("expiring")));
    QVERIFY(!goodRsa.userCertificate.isEmpty() && !expired.userCertificate.isEmpty());
    QList<QJsonObject> users;
    users << QJsonObject { { QStringLiteral("userPrincipalName"), goodRsa.mail },
                           { QStringLiteral("mail"), goodRsa.mail },
                           { QStringLiteral("onPremisesImmutableId"), goodRsa.sourceAnchor },
                           { QStringLiteral("onPremisesSyncEnabled"), true },
                           { QStringLiteral("recipientTypeDetails"), QStringLiteral("UserMailbox") },
                           { QStringLiteral("userCertificate"), b64(goodRsa.userCertificate) } };
    users << QJsonObject { { QStringLiteral("userPrincipalName"), mailOf(QStringLiteral("good-ec")) },
                           { QStringLiteral("mail"), mailOf(QStringLiteral("good-ec")) },
                           { QStringLiteral("recipientTypeDetails"), QStringLiteral("MailUser") } };
    users << QJsonObject { { QStringLiteral("userPrincipalName"), expiring.mail },
                           { QStringLiteral("mail"), expiring.mail },
                           { QStringLiteral("onPremisesImmutableId"), expiring.sourceAnchor },
                           { QStringLiteral("onPremisesSyncEnabled"), true },
                           { QStringLiteral("recipientTypeDetails"), QStringLiteral("UserMailbox") },
                           { QStringLiteral("userCertificate"), b64(expired.userCertificate) } };
    // sha1: synced and published as in AD, but its EC issuing CA is not in the S/MIME collection.
    const directory::DirectoryUser sha1 = m_users.value(mailOf(QStringLiteral("sha1")));
    QVERIFY(!sha1.userCertificate.isEmpty());
    users << QJsonObject { { QStringLiteral("userPrincipalName"), sha1.mail },
                           { QStringLiteral("mail"), sha1.mail },
                           { QStringLiteral("onPremisesImmutableId"), sha1.sourceAnchor },
                           { QStringLiteral("onPremisesSyncEnabled"), true },
                           { QStringLiteral("recipientTypeDetails"), QStringLiteral("UserMailbox") },
                           { QStringLiteral("userCertificate"), b64(sha1.userCertificate) } };
    QJsonObject seed = SimHarness::seed(TenantId, SimHarness::app(ClientId, Secret, {}), users);
    // The tenant trusts the fixture's CAs but its EC issuing CA (the SST Set-SmimeConfig was given).
    QFile trustFile(m_dir.value(QStringLiteral("TRUST_FILE")));
    QVERIFY(trustFile.open(QIODevice::ReadOnly));
    auto trusted = certs::parseFileBytes(trustFile.readAll());
    QVERIFY(trusted.ok());
    QList<QByteArray> collection;
    for (const certs::ParsedCertificate &c : *trusted)
        if (!c.info.subject.contains(QLatin1String("EC Issuing CA")))
            collection << c.info.der;
    QVERIFY(collection.size() >= 2 && collection.size() < qsizetype(trusted->size()));
    seed.insert(QStringLiteral("smimeCertificateIssuingCA"),
                QString::fromLatin1(certs::encodeSerializedStore(collection).toBase64()));
    QVERIFY2(m_sim.start(seed), qPrintable(m_sim.lastError()));
}

QJsonObject TestCheckCli::seeded(const QString &name) const
{
    for (const QJsonValue &v : m_manifest.value(QStringLiteral("users")).toArray())
        if (v.toObject().value(QStringLiteral("name")).toString() == name)
            return v.toObject();
    return {};
}

// The SHA-256 of the user's own certificate in the first value of `attribute`, from the manifest:
// the certificate whose expected problems are not those of a CA that came along (first listed).
QString TestCheckCli::leafOf(const QString &name, const QString &attribute) const
{
    for (const QJsonValue &v : seeded(name).value(QStringLiteral("values")).toArray()) {
        const QJsonObject value = v.toObject();
        if (value.value(QStringLiteral("attribute")).toString() != attribute)
            continue;
        const QJsonObject certs = value.value(QStringLiteral("certificates")).toObject();
        if (value.value(QStringLiteral("kind")).toString() == QLatin1String("x509"))
            return certs.keys().value(0);
        // A bag: the leaf is the certificate that is not a CA certificate of the test PKI; the
        // manifest lists certificates by hash, so pick the one the x509 value of the user repeats,
        // else the one whose hash is not any other user's CA (only "outlook" needs this here).
        for (const QJsonValue &other : seeded(name).value(QStringLiteral("values")).toArray())
            if (other.toObject().value(QStringLiteral("kind")).toString() == QLatin1String("x509")) {
                const QString x509 =
                    other.toObject().value(QStringLiteral("certificates")).toObject().keys().value(0);
                if (certs.contains(x509))
                    return x509;
            }
    }
    return {};
}

QStringList TestCheckCli::directoryArgs() const
{
    return { QStringLiteral("--profile"),      m_dir.value(QStringLiteral("FLAVOUR")),
             QStringLiteral("--ldap-url"),     m_dir.value(QStringLiteral("LDAP_URL")),
             QStringLiteral("--base-dn"),      m_dir.value(QStringLiteral("BASE_DN")),
             QStringLiteral("--bind-dn"),      m_dir.value(QStringLiteral("READER_DN")),
             QStringLiteral("--password-env"), QStringLiteral("CERTSYNC_TEST_PASSWORD"),
             QStringLiteral("--ca-file"),      m_dir.value(QStringLiteral("CA_FILE")),
             QStringLiteral("--trust"),        m_dir.value(QStringLiteral("TRUST_FILE")),
             QStringLiteral("--crl"),          m_dir.value(QStringLiteral("CRL_FILE")),
             QStringLiteral("--settings"),     QStringLiteral("/dev/null") };
}

QStringList TestCheckCli::tenantArgs() const
{
    return {
        QStringLiteral("--tenant-id"),         TenantId,
        QStringLiteral("--client-id"),         ClientId,
        QStringLiteral("--client-secret-env"), QStringLiteral("CERTSYNC_TEST_SECRET"),
        QStringLiteral("--authority-url"),     m_sim.baseUrl() + QStringLiteral("/{tenant}"),
        QStringLiteral("--graph-url"),         m_sim.baseUrl() + QStringLiteral("/v1.0"),
        QStringLiteral("--exchange-url"),      m_sim.baseUrl() + QStringLiteral("/adminapi/beta/{tenant}"),
        QStringLiteral("--tenant-ca-file"),    m_sim.caFile()
    };
}

Run TestCheckCli::check(const QStringList &args) const
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("CERTSYNC_TEST_PASSWORD"), m_dir.password());
    env.insert(QStringLiteral("CERTSYNC_TEST_SECRET"), Secret);
    env.remove(QStringLiteral("DBUS_SESSION_BUS_ADDRESS")); // never a real keychain from a test
    p.setProcessEnvironment(env);
    QElapsedTimer timer;
    timer.start();
    p.start(m_binary, QStringList { QStringLiteral("check") } + args);
    Run r;
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.elapsedMs = timer.elapsed();
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = QString::fromUtf8(p.readAllStandardError());
    if (r.exitCode == -1)
        qWarning("certsync check crashed; its stderr:\n%s", qPrintable(r.err));
    return r;
}

void TestCheckCli::directoryOnly_data()
{
    QTest::addColumn<QString>("name"); // the catalogue user, named by mail
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("source"); // attribute of the chosen certificate, empty: none
    QTest::addColumn<QString>("reasons"); // ';'-joined
    QTest::newRow("good RSA certificate") << "good-rsa" << 0 << "userCertificate"
                                          << "";
    QTest::newRow("expired") << "expired" << 5 << ""
                             << "no_usable_certificate;expired";
    QTest::newRow("client authentication only") << "tls-only" << 5 << ""
                                                << "no_usable_certificate;no_email_protection";
    QTest::newRow("Outlook's bag is taken before userCertificate") << "outlook" << 0 << "userSMIMECertificate"
                                                                   << "";
    QTest::newRow("no certificate") << "none" << 5 << ""
                                    << "no_certificate";
    QTest::newRow("garbage in userSMIMECertificate") << "garbage" << 5 << ""
                                                     << "no_certificate";
    QTest::newRow("expiring soon: yes, with the warning") << "expiring" << 0 << "userCertificate"
                                                          << "expiring_soon";
}

void TestCheckCli::directoryOnly()
{
    QFETCH(QString, name);
    QFETCH(int, exitCode);
    QFETCH(QString, source);
    QFETCH(QString, reasons);
    const QString mail = seeded(name).value(QStringLiteral("mail")).toString();
    QVERIFY(!mail.isEmpty());
    const Run r = check(directoryArgs()
                        + QStringList { mail, QStringLiteral("--json"), QStringLiteral("--directory-only") });
    QVERIFY2(r.exitCode == exitCode, qPrintable(QStringLiteral("exit %1: %2").arg(r.exitCode).arg(r.err)));
    qInfo("certsync check %s: %lld ms", qPrintable(mail), r.elapsedMs);
    const QJsonObject o = r.json();
    QCOMPARE(o.value(QStringLiteral("can_encrypt")).toBool(), exitCode == 0);
    QCOMPARE(o.value(QStringLiteral("dn")).toString().toLower(),
             seeded(name).value(QStringLiteral("dn")).toString().toLower());
    QVERIFY(o.value(QStringLiteral("tenant")).isNull());
    const QJsonObject dir = o.value(QStringLiteral("directory")).toObject();
    QCOMPARE(dir.value(QStringLiteral("can_encrypt")).toBool(), exitCode == 0);
    QCOMPARE(dir.value(QStringLiteral("source")).toString(), source);
    QStringList codes;
    for (const QJsonValue &c : dir.value(QStringLiteral("reasons")).toArray())
        codes << c.toString();
    QCOMPARE(codes.join(QLatin1Char(';')), reasons);
    if (source.isEmpty()) {
        QVERIFY(dir.value(QStringLiteral("certificate")).isNull());
    } else {
        const QString expected = leafOf(name, source);
        QVERIFY(!expected.isEmpty());
        QCOMPARE(dir.value(QStringLiteral("certificate")).toString(), expected);
    }
    QVERIFY(!o.value(QStringLiteral("fix")).toString().isEmpty());
}

void TestCheckCli::namingAUser_data()
{
    QTest::addColumn<QString>("who");
    QTest::addColumn<QString>("name"); // the catalogue user expected
    const QString domain = QStringLiteral("@certsync.test");
    QTest::newRow("mail") << QStringLiteral("good-ec") + domain << "good-ec";
    QTest::newRow("mail, other case") << QStringLiteral("GOOD-EC") + domain << "good-ec";
    QTest::newRow("account name") << "good-ec"
                                  << "good-ec";
    QTest::newRow("DN") << QString() << "good-ec";
}

void TestCheckCli::namingAUser()
{
    QFETCH(QString, who);
    QFETCH(QString, name);
    const QString dn = seeded(name).value(QStringLiteral("dn")).toString();
    if (who.isEmpty())
        who = dn;
    const Run r = check(directoryArgs()
                        + QStringList { who, QStringLiteral("--json"), QStringLiteral("--directory-only") });
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QCOMPARE(r.json().value(QStringLiteral("dn")).toString().toLower(), dn.toLower());
    // The answer read one entry: the catalogue user's, whatever the directory's size.
    QCOMPARE(r.json()
                 .value(QStringLiteral("directory"))
                 .toObject()
                 .value(QStringLiteral("certificate"))
                 .toString(),
             leafOf(name, QStringLiteral("userCertificate")));
}

void TestCheckCli::failuresAndUsage_data()
{
    QTest::addColumn<QStringList>("arguments"); // after the directory's
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("error"); // a fragment of stderr
    QTest::newRow("nobody of that name")
        << QStringList { QStringLiteral("nobody@certsync.test"), QStringLiteral("--directory-only") } << 1
        << "no directory user matches 'nobody@certsync.test'";
    // A filter metacharacter is a character, not a wildcard: '*' would otherwise match everyone.
    QTest::newRow("a wildcard is escaped")
        << QStringList { QStringLiteral("*"), QStringLiteral("--directory-only") } << 1
        << "no directory user matches '*'";
    QTest::newRow("a DN that is no entry")
        << QStringList { QStringLiteral("cn=nobody,") + QString(), QStringLiteral("--directory-only") } << 1
        << "directory:";
    QTest::newRow("no WHO") << QStringList { QStringLiteral("--directory-only") } << 2
                            << "name the user to check";
    QTest::newRow("two WHOs") << QStringList { QStringLiteral("a"), QStringLiteral("b"),
                                               QStringLiteral("--directory-only") }
                              << 2 << "name exactly one user";
    QTest::newRow("no tenant and no --directory-only")
        << QStringList { QStringLiteral("good-ec") } << 2 << "--directory-only";
}

void TestCheckCli::failuresAndUsage()
{
    QFETCH(QStringList, arguments);
    QFETCH(int, exitCode);
    QFETCH(QString, error);
    if (arguments.first().startsWith(QLatin1String("cn=nobody,")))
        arguments.first() += m_dir.value(QStringLiteral("BASE_DN"));
    const Run r = check(directoryArgs() + arguments);
    QVERIFY2(r.exitCode == exitCode, qPrintable(QStringLiteral("exit %1: %2").arg(r.exitCode).arg(r.err)));
    QVERIFY2(r.err.contains(error), qPrintable(r.err));
    QVERIFY(r.out.isEmpty());
    QVERIFY(!r.err.contains(m_dir.password()));
}

void TestCheckCli::withTenant_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<bool>("tenantCan");
    QTest::addColumn<QString>("tenantReasons");
    QTest::addColumn<QString>("fix");
    QTest::newRow("published as in the directory") << "good-rsa" << 0 << true << ""
                                                   << "Nothing to fix";
    QTest::newRow("cloud mail user, nothing published")
        << "good-ec" << 5 << false << "no_certificate;not_published"
        << "Run certsync diff";
    QTest::newRow("synced, Exchange holds an expired certificate")
        << "expiring" << 5 << false << "no_usable_certificate;expired;not_published"
        << "Entra Connect";
    QTest::newRow("no Microsoft 365 user") << "outlook" << 5 << false << "not_in_tenant"
                                           << "No Microsoft 365 user";
}

void TestCheckCli::withTenant()
{
    QFETCH(QString, name);
    QFETCH(int, exitCode);
    QFETCH(bool, tenantCan);
    QFETCH(QString, tenantReasons);
    QFETCH(QString, fix);
    const QString mail = seeded(name).value(QStringLiteral("mail")).toString();
    const Run r = check(directoryArgs() + tenantArgs() + QStringList { mail, QStringLiteral("--json") });
    QVERIFY2(r.exitCode == exitCode, qPrintable(QStringLiteral("exit %1: %2").arg(r.exitCode).arg(r.err)));
    qInfo("certsync check %s with the tenant: %lld ms", qPrintable(mail), r.elapsedMs);
    const QJsonObject tenant = r.json().value(QStringLiteral("tenant")).toObject();
    QCOMPARE(tenant.value(QStringLiteral("can_encrypt")).toBool(!tenantCan), tenantCan);
    QStringList codes;
    for (const QJsonValue &c : tenant.value(QStringLiteral("reasons")).toArray())
        codes << c.toString();
    QCOMPARE(codes.join(QLatin1Char(';')), tenantReasons);
    if (tenantCan)
        QCOMPARE(tenant.value(QStringLiteral("certificate")).toString(),
                 leafOf(name, QStringLiteral("userCertificate")));
    QVERIFY2(r.json().value(QStringLiteral("fix")).toString().contains(fix), r.out.constData());
    QVERIFY(!r.err.contains(Secret));
}

void TestCheckCli::textAnswer()
{
    const QString mail = seeded(QStringLiteral("expired")).value(QStringLiteral("mail")).toString();
    const Run r = check(directoryArgs() + QStringList { mail, QStringLiteral("--directory-only") });
    QCOMPARE(r.exitCode, 5);
    const QStringList lines = QString::fromUtf8(r.out).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QVERIFY2(lines.value(0).startsWith(QStringLiteral("No: senders cannot encrypt to ")), r.out.constData());
    QVERIFY(lines.value(0).contains(QStringLiteral("directory: no_usable_certificate, expired")));
    QVERIFY(lines.contains(QStringLiteral("Exchange Online: not checked (no tenant configured)")));
    QVERIFY(lines.last().startsWith(QStringLiteral("Fix: Enrol a new S/MIME encryption certificate")));
}

QTEST_GUILESS_MAIN(TestCheckCli)
#include "tst_check_cli.moc"
