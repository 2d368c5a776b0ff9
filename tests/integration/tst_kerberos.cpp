// SASL GSSAPI binds with a real Kerberos ticket: the Samba AD DC fixture is also a KDC. The test
// writes its own krb5.conf (KRB5_CONFIG) and credential cache (KRB5CCNAME) in a temporary folder,
// gets a ticket with `kinit`, and reads the directory with BindMethod::Gssapi.
//
// The URL names the DC by its address (a host name would need /etc/hosts or DNS): certsync binds
// without libldap's reverse-DNS canonicalisation, so the service principal is ldap/127.0.0.2, which
// the test registers on the DC's account first, as an admin would for an address-only client.
// Samba refuses SASL sign/seal inside TLS and requires it without TLS, so the bind runs on plain
// ldap:// with Kerberos' own encryption (certsync then insists on it: SASL SSF >= 56).
#include "DirectoryFixture.h"

#include "directory/LdapConnection.h"

#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace certsync;
using namespace certsync::directory;
using namespace certsync::testing;

class TestKerberos : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void withoutATicketTheErrorSaysKinit();
    void bindsWithATicket();

private:
    ConnectionProfile kerberosProfile() const;
    QString realm() const { return m_fixture.value(QStringLiteral("ADMIN_DN")).section(QLatin1Char('@'), 1); }

    DirectoryFixture m_fixture;
    QTemporaryDir m_dir;
    QString m_ip;
};

void TestKerberos::initTestCase()
{
    m_fixture = DirectoryFixture::fromEnvironment("CERTSYNC_SAMBA_ENV");
    QVERIFY2(m_fixture.error.isEmpty(), qPrintable(m_fixture.error));
    QVERIFY2(!QStandardPaths::findExecutable(QStringLiteral("kinit")).isEmpty(),
             "kinit is missing: install krb5-user (packaging/install-deps.sh)");
    m_ip = QUrl(m_fixture.value(QStringLiteral("LDAP_URL"))).host();
    QVERIFY(!m_ip.isEmpty());
    QFile conf(m_dir.filePath(QStringLiteral("krb5.conf")));
    QVERIFY(conf.open(QIODevice::WriteOnly));
    conf.write(QStringLiteral("[libdefaults]\n"
                              "  default_realm = %1\n"
                              "  dns_lookup_kdc = false\n"
                              "  dns_lookup_realm = false\n"
                              "  rdns = false\n"
                              "  dns_canonicalize_hostname = false\n"
                              "[realms]\n"
                              "  %1 = {\n"
                              "    kdc = %2\n"
                              "  }\n")
                   .arg(realm(), m_ip)
                   .toUtf8());
    conf.close();
    // Read by the Kerberos library in this process (libldap -> Cyrus SASL -> MIT GSSAPI) and by kinit.
    qputenv("KRB5_CONFIG", QFile::encodeName(conf.fileName()));
    qputenv("KRB5CCNAME", "FILE:" + QFile::encodeName(m_dir.filePath(QStringLiteral("ccache"))));

    // The service principal for the address: ldap/<ip> on the DC's account (idempotent).
    auto admin = LdapConnection::open(m_fixture.profile(true), m_fixture.password(true));
    QVERIFY2(admin.ok(), qPrintable(admin.ok() ? QString() : admin.error().message));
    auto rootDse = (*admin)->readEntry(QString(), { QStringLiteral("dsServiceName") });
    QVERIFY(rootDse.ok());
    const QString server = rootDse->text(QStringLiteral("dsServiceName")).section(QLatin1Char(','), 1);
    auto serverEntry = (*admin)->readEntry(server, { QStringLiteral("serverReference") });
    QVERIFY(serverEntry.ok());
    const QString dc = serverEntry->text(QStringLiteral("serverReference"));
    QVERIFY2(!dc.isEmpty(), qPrintable(server));
    const QByteArray spn = QByteArray("ldap/") + m_ip.toLatin1();
    auto current = (*admin)->readEntry(dc, { QStringLiteral("servicePrincipalName") });
    QVERIFY(current.ok());
    if (!current->values(QStringLiteral("servicePrincipalName")).contains(spn))
        QVERIFY((*admin)->modifyValues(dc, QStringLiteral("servicePrincipalName"), {}, { spn }).ok());
}

ConnectionProfile TestKerberos::kerberosProfile() const
{
    ConnectionProfile p = m_fixture.profile();
    p.bind = BindMethod::Gssapi;
    p.bindDn.clear();
    p.startTls = false; // Kerberos signs and seals (see above)
    return p;
}

void TestKerberos::withoutATicketTheErrorSaysKinit()
{
    QFile::remove(m_dir.filePath(QStringLiteral("ccache")));
    auto connection = LdapConnection::open(kerberosProfile(), QString());
    QVERIFY(!connection.ok());
    QCOMPARE(connection.error().code, QStringLiteral("no_kerberos"));
    QVERIFY2(connection.error().message.contains(QStringLiteral("no Kerberos ticket: run kinit")),
             qPrintable(connection.error().message));
}

void TestKerberos::bindsWithATicket()
{
    // kinit reads the password from standard input when that is no terminal.
    QProcess kinit;
    kinit.start(QStringLiteral("kinit"), { m_fixture.value(QStringLiteral("READER_DN")) });
    QVERIFY(kinit.waitForStarted());
    kinit.write(m_fixture.password().toUtf8() + '\n');
    kinit.closeWriteChannel();
    QVERIFY(kinit.waitForFinished(30000));
    QVERIFY2(kinit.exitCode() == 0, kinit.readAllStandardError().constData());

    // A full read with the ticket sees what a simple bind sees (AD lets no anonymous client search).
    DirectoryReadSettings settings = m_fixture.readSettings();
    const ReadOutcome simple = readDirectory(settings);
    QVERIFY(simple.success);
    settings.profile = kerberosProfile();
    settings.password.clear();
    const ReadOutcome kerberos = readDirectory(settings);
    QVERIFY2(
        kerberos.success && kerberos.snapshot->complete,
        qPrintable(kerberos.snapshot ? kerberos.snapshot->error.message : QStringLiteral("no snapshot")));
    QVERIFY(kerberos.snapshot->users.size() > 10);
    QCOMPARE(kerberos.snapshot->users.size(), simple.snapshot->users.size());

    // The service ticket came from the KDC for ldap/<ip>.
    QProcess klist;
    klist.start(QStringLiteral("klist"));
    QVERIFY(klist.waitForFinished(10000));
    const QByteArray tickets = klist.readAllStandardOutput();
    QVERIFY2(tickets.contains(QByteArray(QByteArray("ldap/") + m_ip.toLatin1())), tickets.constData());
}

QTEST_GUILESS_MAIN(TestKerberos)
#include "tst_kerberos.moc"
