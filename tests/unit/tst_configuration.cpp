// The settings file and the keychain: a save/load round trip that keeps every key, proof that no
// secret reaches the file, clear errors for bad files, and the keychain both where none is
// available (no D-Bus session here) and, under tests/fixtures/keyring.sh, for real.
#include "config/Configuration.h"
#include "config/SecretStore.h"

#include <QDirIterator>
#include <QFile>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace certsync;

namespace {
// QVERIFY2 evaluates its message even on success: only ask a failed result for its error.
template<typename R> QByteArray why(const R &r)
{
    return r.ok() ? QByteArray() : r.error().message.toUtf8();
}
} // namespace

class TestConfiguration : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void roundTripKeepsEveryKey();
    void secretsNeverReachTheFile();
    void unconfiguredSectionsAreRemoved();
    void badFilesAreRefusedByKey_data();
    void badFilesAreRefusedByKey();
    void keychainUnavailable();
    void keychainRoundTrip();
    void transportInTheClear_data();
    void transportInTheClear();
    void approvalSettingsRoundTrip();

private:
    static config::Configuration sample();
    QTemporaryDir m_dir;
};

void TestConfiguration::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    config::SecretStore::setServiceName(QStringLiteral("certsync-test"));
}

config::Configuration TestConfiguration::sample()
{
    config::Configuration c;
    directory::ConnectionProfile d;
    d.kind = directory::SourceKind::GenericLdap;
    d.mapping = directory::AttributeMapping::defaults(d.kind);
    d.mapping.mail = QStringLiteral("rfc822Mailbox");
    d.url = QStringLiteral("ldap://ldap.example.test:1389");
    d.startTls = false;
    d.baseDn = QStringLiteral("ou=people,dc=example,dc=test");
    d.filter = QStringLiteral("(&(objectClass=inetOrgPerson)(mail=*))");
    d.bind = directory::BindMethod::Simple;
    d.bindDn = QStringLiteral("cn=reader,dc=example,dc=test");
    d.caFile = QStringLiteral("/etc/certsync/ldap-ca.pem");
    d.serverCertificateSha256 = QStringLiteral("ab:cd:ef");
    d.connectTimeoutMs = 3000;
    d.operationTimeoutMs = 45000;
    d.pageSize = 250;
    c.directory = d;
    c.trust.bundleFiles = { QStringLiteral("/etc/certsync/bundle.pem") };
    c.trust.anchorFiles = { QStringLiteral("/a/root1.pem"), QStringLiteral("/a/root2.pem") };
    c.trust.intermediateFiles = { QStringLiteral("/a/sub.pem") };
    c.trust.crlFiles = { QStringLiteral("/a/sub.crl") };
    tenant::TenantSettings t;
    t.tenantId = QStringLiteral("contoso.onmicrosoft.com");
    t.clientId = QStringLiteral("11111111-2222-3333-4444-555555555555");
    t.clientCertificateFile = QStringLiteral("/etc/certsync/app.pem");
    t.clientKeyFile = QStringLiteral("/etc/certsync/app.key");
    t.authorityUrl = QStringLiteral("https://127.0.0.1:8443/{tenant}");
    t.graphUrl = QStringLiteral("https://127.0.0.1:8443/graph/v1.0");
    t.exchangeUrl = QStringLiteral("https://127.0.0.1:8443/adminapi/beta/{tenant}");
    t.caFile = QStringLiteral("/etc/certsync/tenant-ca.pem");
    c.tenant = t;
    c.credential = config::TenantCredential::Certificate;
    c.policy.warningDays = 45;
    c.policy.engine.dropExpired = false;
    c.policy.engine.dropRevoked = false;
    c.policy.engine.requireSmimeSuitable = true;
    c.policy.engine.maxValues = 10;
    config::setCertificateUserIdForms(c.policy.engine, QStringLiteral("both"));
    c.policy.engine.consistencyGuidAnchor = true;
    c.policy.deletionThreshold = 42;
    c.policy.staging = true;
    return c;
}

void TestConfiguration::roundTripKeepsEveryKey()
{
    const QString path = m_dir.filePath(QStringLiteral("roundtrip.conf"));
    const config::Configuration saved = sample();
    QVERIFY(config::saveFile(saved, path).ok());
    auto loaded = config::loadFile(path);
    QVERIFY2(loaded.ok(), why(loaded).constData());
    const config::Configuration &c = *loaded;
    QVERIFY(c.directory.has_value());
    const directory::ConnectionProfile &d = *c.directory;
    QCOMPARE(d.kind, directory::SourceKind::GenericLdap);
    QCOMPARE(d.url, saved.directory->url);
    QCOMPARE(d.startTls, false);
    QCOMPARE(d.baseDn, saved.directory->baseDn);
    QCOMPARE(d.filter, saved.directory->filter);
    QCOMPARE(d.bind, directory::BindMethod::Simple);
    QCOMPARE(d.bindDn, saved.directory->bindDn);
    QCOMPARE(d.caFile, saved.directory->caFile);
    QCOMPARE(d.serverCertificateSha256, QStringLiteral("ab:cd:ef"));
    QCOMPARE(d.connectTimeoutMs, 3000);
    QCOMPARE(d.operationTimeoutMs, 45000);
    QCOMPARE(d.pageSize, 250);
    QCOMPARE(d.mapping.mail, QStringLiteral("rfc822Mailbox"));
    QCOMPARE(d.mapping.userCertificate, QStringLiteral("userCertificate;binary"));
    QCOMPARE(d.mapping.attributes(), saved.directory->mapping.attributes());
    QCOMPARE(c.trust.bundleFiles, saved.trust.bundleFiles);
    QCOMPARE(c.trust.anchorFiles, saved.trust.anchorFiles);
    QCOMPARE(c.trust.intermediateFiles, saved.trust.intermediateFiles);
    QCOMPARE(c.trust.crlFiles, saved.trust.crlFiles);
    QVERIFY(c.tenant.has_value());
    QCOMPARE(c.credential, config::TenantCredential::Certificate);
    QCOMPARE(c.tenant->tenantId, saved.tenant->tenantId);
    QCOMPARE(c.tenant->clientId, saved.tenant->clientId);
    QCOMPARE(c.tenant->clientCertificateFile, saved.tenant->clientCertificateFile);
    QCOMPARE(c.tenant->clientKeyFile, saved.tenant->clientKeyFile);
    QCOMPARE(c.tenant->authorityUrl, saved.tenant->authorityUrl);
    QCOMPARE(c.tenant->graphUrl, saved.tenant->graphUrl);
    QCOMPARE(c.tenant->exchangeUrl, saved.tenant->exchangeUrl);
    QCOMPARE(c.tenant->caFile, saved.tenant->caFile);
    QCOMPARE(c.policy.warningDays, 45);
    QCOMPARE(c.policy.engine.dropExpired, false);
    QCOMPARE(c.policy.engine.dropRevoked, false);
    QCOMPARE(c.policy.engine.requireSmimeSuitable, true);
    QCOMPARE(c.policy.engine.maxValues, 10);
    QCOMPARE(c.policy.engine.certificateUserIds, true);
    QCOMPARE(int(c.policy.engine.certificateUserIdForms),
             int(engine::IssuerAndSerial | engine::SubjectKeyId));
    QCOMPARE(c.policy.engine.consistencyGuidAnchor, true);
    QCOMPARE(c.policy.deletionThreshold, 42);
    QCOMPARE(c.policy.staging, true);

    // The documented keys, readable by a person (and by the CLI's stagingSetting of old).
    const QSettings raw(path, QSettings::IniFormat);
    QCOMPARE(raw.value(QStringLiteral("version")).toInt(), config::settingsVersion);
    QCOMPARE(raw.value(QStringLiteral("directory/kind")).toString(), QStringLiteral("ldap"));
    QCOMPARE(raw.value(QStringLiteral("directory/bind")).toString(), QStringLiteral("simple"));
    QCOMPARE(raw.value(QStringLiteral("tenant/credential")).toString(), QStringLiteral("certificate"));
    QCOMPARE(raw.value(QStringLiteral("policy/certificateUserIds")).toString(), QStringLiteral("both"));
    QCOMPARE(raw.value(QStringLiteral("sync/staging")).toBool(), true);
}

void TestConfiguration::secretsNeverReachTheFile()
{
    const QString path = m_dir.filePath(QStringLiteral("secrets.conf"));
    config::Configuration c = sample();
    c.credential = config::TenantCredential::Secret;
    c.tenant->clientSecret = QStringLiteral("client-secret-MUST-NOT-LEAK");
    c.tenant->clientKeyPassphrase = "passphrase-MUST-NOT-LEAK";
    QVERIFY(config::saveFile(c, path).ok());
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray bytes = file.readAll();
    QVERIFY(bytes.contains("tenantId=contoso.onmicrosoft.com"));
    QVERIFY(!bytes.contains("MUST-NOT-LEAK"));
    QVERIFY(!bytes.toLower().contains("password"));
    QVERIFY(!bytes.toLower().contains("secret="));
    auto loaded = config::loadFile(path);
    QVERIFY(loaded.ok());
    QVERIFY(loaded->tenant->clientSecret.isEmpty());
    QVERIFY(loaded->tenant->clientKeyPassphrase.isEmpty());
    // The certificate files of a secret credential are not kept either.
    QVERIFY(loaded->tenant->clientCertificateFile.isEmpty());

    // What the directory read and the tenant get: the secret given, next to the file's settings.
    const config::Secrets secrets { QStringLiteral("bind-pw"), QStringLiteral("app-secret"), {} };
    const auto tenant = config::tenantSettings(*loaded, secrets);
    QVERIFY(tenant.has_value());
    QCOMPARE(tenant->clientSecret, QStringLiteral("app-secret"));
    QVERIFY(!tenant->usesCertificate());
}

void TestConfiguration::unconfiguredSectionsAreRemoved()
{
    const QString path = m_dir.filePath(QStringLiteral("sections.conf"));
    QVERIFY(config::saveFile(sample(), path).ok());
    config::Configuration none; // no directory, no tenant
    QVERIFY(config::saveFile(none, path).ok());
    auto loaded = config::loadFile(path);
    QVERIFY(loaded.ok());
    QVERIFY(!loaded->directory.has_value());
    QVERIFY(!loaded->tenant.has_value());
    QCOMPARE(loaded->policy.warningDays, 30);
    // Written by hand: an unquoted DN (QSettings reads the commas as a list) is still one DN.
    QFile hand(path);
    QVERIFY(hand.open(QIODevice::WriteOnly | QIODevice::Truncate));
    hand.write("[directory]\nurl=ldaps://"
               "dc1\nbaseDn=DC=example,DC=com\nbindDn=CN=reader,CN=Users,DC=example,DC=com\n");
    hand.close();
    auto handWritten = config::loadFile(path);
    QVERIFY(handWritten.ok());
    QCOMPARE(handWritten->directory->baseDn, QStringLiteral("DC=example,DC=com"));
    QCOMPARE(handWritten->directory->bindDn, QStringLiteral("CN=reader,CN=Users,DC=example,DC=com"));
    auto missing = config::loadFile(m_dir.filePath(QStringLiteral("does-not-exist.conf")));
    QVERIFY(missing.ok());
    QVERIFY(!missing->directory.has_value());
}

void TestConfiguration::badFilesAreRefusedByKey_data()
{
    QTest::addColumn<QByteArray>("ini");
    QTest::addColumn<QString>("expected");
    QTest::newRow("newer version") << QByteArray("version=7\n")
                                   << QStringLiteral("written by a newer certsync");
    QTest::newRow("kind") << QByteArray("[directory]\nurl=ldaps://x\nkind=novell\n")
                          << QStringLiteral("directory/kind has the value 'novell'; it takes ad or ldap");
    QTest::newRow("bind") << QByteArray("[directory]\nurl=ldaps://x\nbind=ntlm\n")
                          << QStringLiteral("directory/bind has the value 'ntlm'");
    QTest::newRow("page size") << QByteArray("[directory]\nurl=ldaps://x\npageSize=0\n")
                               << QStringLiteral(
                                      "directory/pageSize has the value '0'; it takes a whole number "
                                      "from 1 to 100000");
    QTest::newRow("credential") << QByteArray("[tenant]\ntenantId=t\ncredential=password\n")
                                << QStringLiteral("tenant/credential has the value 'password'");
    QTest::newRow("boolean") << QByteArray("[sync]\nstaging=perhaps\n")
                             << QStringLiteral(
                                    "sync/staging has the value 'perhaps'; it takes true or false");
    QTest::newRow("forms") << QByteArray("[policy]\ncertificateUserIds=all\n")
                           << QStringLiteral("policy/certificateUserIds has the value 'all'");
}

void TestConfiguration::badFilesAreRefusedByKey()
{
    QFETCH(QByteArray, ini);
    QFETCH(QString, expected);
    const QString path = m_dir.filePath(QStringLiteral("bad.conf"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(ini);
    file.close();
    auto loaded = config::loadFile(path);
    QVERIFY(!loaded.ok());
    QCOMPARE(loaded.error().code, QStringLiteral("config"));
    QVERIFY2(loaded.error().message.contains(expected), qPrintable(loaded.error().message));
}

// Where no keychain is available: the message says so and what to do; the secret is still usable
// for the session; nothing is written to disk.
void TestConfiguration::keychainUnavailable()
{
    if (!qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS"))
        QSKIP("a D-Bus session bus is present: this case runs in tst_configuration (without one)");
    config::SecretStore store;
    std::optional<Result<void>> written;
    store.write(config::Secret::BindPassword, QStringLiteral("session-only-SECRET"),
                [&](Result<void> r) { written = std::move(r); });
    QTRY_VERIFY_WITH_TIMEOUT(written.has_value(), 10000);
    QVERIFY(!written->ok());
    const QString message = written->error().message;
    QCOMPARE(written->error().code, QStringLiteral("keychain"));
    QVERIFY2(message.startsWith(QStringLiteral("no OS keychain is available: there is no D-Bus session bus")),
             qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("kept for this session only")), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("--password-env VAR")), qPrintable(message));

    // The session keeps it.
    auto read = config::SecretStore::readNow(config::Secret::BindPassword);
    QVERIFY(read.ok());
    QCOMPARE(*read, QStringLiteral("session-only-SECRET"));
    // A secret never stored reports the missing keychain on read.
    auto other = config::SecretStore::readNow(config::Secret::ClientSecret);
    QVERIFY(!other.ok());
    QVERIFY(other.error().message.startsWith(QStringLiteral("no OS keychain is available")));
    QVERIFY(other.error().message.contains(QStringLiteral("--client-secret-env VAR")));
    QVERIFY(
        !other.error().message.contains(QStringLiteral("kept for this session"))); // a read stores nothing

    // Nothing on disk holds it (QtKeychain's plain-text fallback stays off).
    for (const auto location : { QStandardPaths::GenericConfigLocation, QStandardPaths::AppDataLocation,
                                 QStandardPaths::GenericDataLocation }) {
        QDirIterator it(QStandardPaths::writableLocation(location), QDir::Files,
                        QDirIterator::Subdirectories);
        while (it.hasNext()) {
            QFile f(it.next());
            if (f.open(QIODevice::ReadOnly))
                QVERIFY2(!f.readAll().contains("session-only-SECRET"), qPrintable(f.fileName()));
        }
    }
    // Deleting it forgets the session copy too.
    std::optional<Result<void>> deleted;
    store.write(config::Secret::BindPassword, QString(), [&](Result<void> r) { deleted = std::move(r); });
    QTRY_VERIFY(deleted.has_value());
    QVERIFY(!config::SecretStore::readNow(config::Secret::BindPassword).ok());
}

// Against a real Secret Service: tests/fixtures/keyring.sh under dbus-run-session (CTest entry
// tst_configuration_keyring, which sets CERTSYNC_REQUIRE_KEYRING so that this cannot skip there).
void TestConfiguration::keychainRoundTrip()
{
    if (qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS")) {
        if (qEnvironmentVariableIsSet("CERTSYNC_REQUIRE_KEYRING"))
            QFAIL("CERTSYNC_REQUIRE_KEYRING is set but there is no D-Bus session bus");
        QSKIP("no D-Bus session bus: this case runs in tst_configuration_keyring");
    }
    config::SecretStore store;
    std::optional<Result<void>> written;
    store.write(config::Secret::ClientSecret, QStringLiteral("real-keyring-secret"),
                [&](Result<void> r) { written = std::move(r); });
    QTRY_VERIFY_WITH_TIMEOUT(written.has_value(), 20000);
    QVERIFY2(written->ok(), why(*written).constData());
    auto read = config::SecretStore::readNow(config::Secret::ClientSecret);
    QVERIFY2(read.ok(), why(read).constData());
    QCOMPARE(*read, QStringLiteral("real-keyring-secret"));
    // An entry never written reads as empty, not as an error.
    auto none = config::SecretStore::readNow(config::Secret::KeyPassphrase);
    QVERIFY2(none.ok(), why(none).constData());
    QVERIFY(none->isEmpty());
    std::optional<Result<void>> deleted;
    store.write(config::Secret::ClientSecret, QString(), [&](Result<void> r) { deleted = std::move(r); });
    QTRY_VERIFY_WITH_TIMEOUT(deleted.has_value(), 20000);
    QVERIFY2(deleted->ok(), why(*deleted).constData());
    auto gone = config::SecretStore::readNow(config::Secret::ClientSecret);
    QVERIFY(gone.ok());
    QVERIFY(gone->isEmpty());
}

void TestConfiguration::transportInTheClear_data()
{
    QTest::addColumn<QString>("ldapUrl");
    QTest::addColumn<bool>("startTls");
    QTest::addColumn<QString>("bind"); // simple, gssapi, anonymous
    QTest::addColumn<QString>("graphUrl");
    QTest::addColumn<bool>("allowed");
    const QString https = QStringLiteral("https://graph.microsoft.com/v1.0");
    QTest::newRow("StartTLS") << "ldap://dc1.example.com" << true << "simple" << https << true;
    QTest::newRow("ldaps") << "ldaps://dc1.example.com" << false << "simple" << https << true;
    QTest::newRow("plain, remote") << "ldap://dc1.example.com" << false << "simple" << https << false;
    QTest::newRow("plain, remote, anonymous") << "ldap://192.0.2.7" << false << "anonymous" << https << false;
    QTest::newRow("plain, remote, Kerberos")
        << "ldap://dc1.example.com" << false << "gssapi" << https << true;
    QTest::newRow("plain, 127.0.0.2") << "ldap://127.0.0.2:389" << false << "simple" << https << true;
    QTest::newRow("plain, ::1") << "ldap://[::1]:389" << false << "simple" << https << true;
    QTest::newRow("plain, localhost") << "ldap://localhost" << false << "simple" << https << true;
    QTest::newRow("http Graph, remote") << "ldaps://dc1" << false << "simple"
                                        << "http://graph.example.com/v1.0" << false;
    QTest::newRow("http Graph, loopback") << "ldaps://dc1" << false << "simple"
                                          << "http://127.0.0.1:8443/v1.0" << true;
    QTest::newRow("ftp Graph") << "ldaps://dc1" << false << "simple"
                               << "ftp://127.0.0.1/v1.0" << false;
}

// No credential in the clear: plain LDAP only to loopback or with Kerberos; http:// only to loopback.
void TestConfiguration::transportInTheClear()
{
    QFETCH(QString, ldapUrl);
    QFETCH(bool, startTls);
    QFETCH(QString, bind);
    QFETCH(QString, graphUrl);
    QFETCH(bool, allowed);
    config::Configuration c = sample();
    c.directory->url = ldapUrl;
    c.directory->startTls = startTls;
    c.directory->bind = *config::bindMethodFromName(bind);
    c.tenant->graphUrl = graphUrl;
    const auto checked = config::checkTransport(c);
    QCOMPARE(checked.ok(), allowed);
    if (!allowed) {
        QCOMPARE(checked.error().code, QStringLiteral("usage"));
        QVERIFY2(checked.error().message.contains(QStringLiteral("refusing")),
                 qPrintable(checked.error().message));
    }
}

void TestConfiguration::approvalSettingsRoundTrip()
{
    config::Configuration c = sample();
    QVERIFY(c.policy.requireSecondPerson); // four-eyes unless turned off
    c.policy.requireSecondPerson = false;
    c.policy.approvers = { QStringLiteral("alice"), QStringLiteral("%certsync-admins") };
    const QString path = m_dir.filePath(QStringLiteral("approval.ini"));
    QVERIFY(config::saveFile(c, path).ok());
    auto back = config::loadFile(path);
    QVERIFY(back.ok());
    QCOMPARE(back->policy.requireSecondPerson, false);
    QCOMPARE(back->policy.approvers, c.policy.approvers);
    const auto guards = config::guardSettings(*back);
    QCOMPARE(guards.first(), qMakePair(QStringLiteral("four-eyes"), QStringLiteral("off")));
}

QTEST_GUILESS_MAIN(TestConfiguration)
#include "tst_configuration.moc"
