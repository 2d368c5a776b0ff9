// The real `certsync diff` against slapd through a relay that damages one search result entry (see
// LdapFaultRelay), and certsync-tenantsim holding that user's certificates: an entry libldap cannot
// decode must never look like a user with fewer certificates, whose others a plan would remove.
#include "DirectoryFixture.h"
#include "LdapFaultRelay.h"
#include "SimHarness.h"

#include "engine/Diff.h"
#include "store/StateStore.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

using namespace certsync;
using namespace certsync::testing;

namespace {

const QString TenantId = QStringLiteral("7d2e4f60-1a3b-4c5d-8e9f-0a1b2c3d4e5f");
const QString ClientId = QStringLiteral("3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7");
const QString Secret = QStringLiteral("directory-faults-secret");
constexpr int WaitMs = 120000;

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    [[nodiscard]] QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

// The raw values among `raw` that the policy keeps (a kept Value names its value by digest).
QJsonArray base64(const QList<engine::Value> &kept, const QList<QByteArray> &raw)
{
    QJsonArray out;
    for (const QByteArray &value : raw)
        if (std::any_of(kept.cbegin(), kept.cend(), [&value](const engine::Value &v) {
                return v.sha256 == engine::valueOf(value).sha256;
            }))
            out.append(QString::fromLatin1(value.toBase64()));
    return out;
}

} // namespace

class TestDirectoryFaults : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void undecodableEntryStagesNoRemoval();

private:
    Run certsync(const QStringList &args) const;
    QStringList directory(const QString &ldapUrl) const; // the directory's options, and the state
    QStringList connection(const SimHarness &sim, const QString &ldapUrl) const; // and the tenant's
    qint64 stagedRemovals() const; // removed values over every plan in the state database

    QString m_binary;
    DirectoryFixture m_dir;
    QTemporaryDir m_state;
};

void TestDirectoryFaults::initTestCase()
{
    m_binary = qEnvironmentVariable("CERTSYNC_CLI");
    QVERIFY2(QFileInfo(m_binary).isExecutable(), "CERTSYNC_CLI must name the certsync binary");
    m_dir = DirectoryFixture::fromEnvironment("CERTSYNC_SLAPD_ENV");
    QVERIFY2(m_dir.error.isEmpty(), qPrintable(m_dir.error));
    QVERIFY(m_state.isValid());
}

Run TestDirectoryFaults::certsync(const QStringList &args) const
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("CERTSYNC_TEST_LDAP_PW"), m_dir.password());
    env.insert(QStringLiteral("CERTSYNC_TEST_SECRET"), Secret);
    p.setProcessEnvironment(env);
    p.start(m_binary, args);
    Run r;
    if (!p.waitForFinished(WaitMs)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QStringList TestDirectoryFaults::directory(const QString &ldapUrl) const
{
    return { QStringLiteral("--profile"),      QStringLiteral("ldap"),
             QStringLiteral("--ldap-url"),     ldapUrl,
             QStringLiteral("--no-tls"), // the relay reads the messages
             QStringLiteral("--base-dn"),      m_dir.value(QStringLiteral("BASE_DN")),
             QStringLiteral("--bind-dn"),      m_dir.value(QStringLiteral("READER_DN")),
             QStringLiteral("--password-env"), QStringLiteral("CERTSYNC_TEST_LDAP_PW"),
             QStringLiteral("--page-size"),    QStringLiteral("5"),
             QStringLiteral("--trust"),        m_dir.value(QStringLiteral("TRUST_FILE")),
             QStringLiteral("--crl"),          m_dir.value(QStringLiteral("CRL_FILE")),
             QStringLiteral("--state-dir"),    m_state.path() };
}

QStringList TestDirectoryFaults::connection(const SimHarness &sim, const QString &ldapUrl) const
{
    return directory(ldapUrl) + QStringList { QStringLiteral("--tenant-id"),
                                              TenantId,
                                              QStringLiteral("--client-id"),
                                              ClientId,
                                              QStringLiteral("--client-secret-env"),
                                              QStringLiteral("CERTSYNC_TEST_SECRET"),
                                              QStringLiteral("--authority-url"),
                                              sim.baseUrl() + QStringLiteral("/{tenant}"),
                                              QStringLiteral("--graph-url"),
                                              sim.baseUrl() + QStringLiteral("/v1.0"),
                                              QStringLiteral("--exchange-url"),
                                              sim.baseUrl() + QStringLiteral("/adminapi/beta/{tenant}"),
                                              QStringLiteral("--tenant-ca-file"),
                                              sim.caFile() };
}

qint64 TestDirectoryFaults::stagedRemovals() const
{
    auto state = store::StateStore::open(m_state.filePath(QStringLiteral("certsync.db")));
    if (!state)
        return -1;
    QSqlQuery q((*state)->database());
    if (!q.exec(QStringLiteral("SELECT COALESCE(SUM(removed_values), 0) FROM plans")) || !q.next())
        return -1;
    return q.value(0).toLongLong();
}

void TestDirectoryFaults::undecodableEntryStagesNoRemoval()
{
    // The victim: the first user (by DN) whose userCertificate values the policy keeps; the tenant
    // holds exactly those, as a cloud-mastered mail user, so that an undamaged diff removes nothing.
    const ReadOutcome read = readDirectory(m_dir.readSettings());
    QVERIFY(read.success);
    QList<directory::DirectoryUser> users = read.snapshot->users;
    std::sort(users.begin(), users.end(), [](const auto &a, const auto &b) { return a.dn < b.dn; });
    const directory::DirectoryUser *victim = nullptr;
    for (const directory::DirectoryUser &u : std::as_const(users))
        if (!u.mail.isEmpty()
            && !engine::desiredSet(u.values, certs::Attribute::UserCertificate, {}).kept.isEmpty()) {
            victim = &u;
            break;
        }
    QVERIFY(victim);
    const QList<engine::Value> keptCertificates =
        engine::desiredSet(victim->values, certs::Attribute::UserCertificate, {}).kept;
    const QList<engine::Value> keptSmime =
        engine::desiredSet(victim->values, certs::Attribute::UserSmimeCertificate, {}).kept;
    const QJsonObject tenantUser {
        { QStringLiteral("userPrincipalName"), victim->mail },
        { QStringLiteral("mail"), victim->mail },
        { QStringLiteral("recipientTypeDetails"), QStringLiteral("MailUser") },
        { QStringLiteral("userCertificate"), base64(keptCertificates, victim->userCertificate) },
        { QStringLiteral("userSMimeCertificate"), base64(keptSmime, victim->userSmimeCertificate) }
    };
    SimHarness sim;
    QVERIFY2(sim.start(SimHarness::seed(TenantId, SimHarness::app(ClientId, Secret, {}), { tenantUser })),
             qPrintable(sim.lastError()));

    const QUrl server(m_dir.value(QStringLiteral("LDAP_URL")));
    const QByteArray marker = victim->dn.section(QLatin1Char(','), 0, 0).toUtf8() + ',';
    const QByteArray attribute = m_dir.profile().mapping.userCertificate.toUtf8();

    // Through the relay, nothing damaged: the victim matches by mail and nothing is removed.
    {
        LdapFaultRelay relay(server.host(), quint16(server.port()), "no entry has this in its DN",
                             LdapFaultRelay::Fault::ValueLength, attribute);
        QVERIFY(relay.start());
        const Run diff = certsync(QStringList { QStringLiteral("diff"), QStringLiteral("--json") }
                                  + connection(sim, relay.url()));
        QVERIFY2(diff.exitCode == 0, diff.err.constData());
        QVERIFY2(diff.json().value(QStringLiteral("removed_values")).toInt(-1) == 0, diff.out.constData());
        QCOMPARE(relay.damaged(), 0);
    }
    QCOMPARE(stagedRemovals(), 0);

    // The victim's userCertificate cut short on the way: the read is incomplete, the diff says which
    // entry and why, and stages nothing (a shorter entry would remove the tenant's certificates).
    LdapFaultRelay relay(server.host(), quint16(server.port()), marker, LdapFaultRelay::Fault::ValueLength,
                         attribute);
    QVERIFY(relay.start());
    const Run diff =
        certsync(QStringList { QStringLiteral("diff"), QStringLiteral("--json"), QStringLiteral("--full") }
                 + connection(sim, relay.url()));
    QCOMPARE(relay.damaged(), 1);
    qInfo().noquote() << "the diff says:" << diff.err.trimmed();
    QVERIFY2(diff.exitCode != 0, diff.out.constData());
    QVERIFY2(diff.err.contains(victim->dn.toUtf8()), diff.err.constData());
    QVERIFY2(diff.err.contains("could not be decoded"), diff.err.constData());
    QVERIFY2(diff.err.contains("Decoding error"), diff.err.constData());
    QCOMPARE(stagedRemovals(), 0);

    // The inventory the same way: no file, and the entry named.
    const QString csv = m_state.filePath(QStringLiteral("inventory.csv"));
    const Run inventory = certsync(QStringList { QStringLiteral("inventory"), QStringLiteral("--full") }
                                   + directory(relay.url()) + QStringList { QStringLiteral("--csv"), csv });
    QCOMPARE(relay.damaged(), 2);
    QVERIFY2(inventory.exitCode != 0, inventory.out.constData());
    QVERIFY2(inventory.err.contains(victim->dn.toUtf8()), inventory.err.constData());
    QVERIFY(!QFile::exists(csv));
}

QTEST_GUILESS_MAIN(TestDirectoryFaults)
#include "tst_directory_faults.moc"
