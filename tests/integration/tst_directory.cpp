// The directory reader against a real server: slapd or a Samba AD DC, started by a CTest fixture.
// The same suite runs against both (CERTSYNC_DIRECTORY_ENV names the fixture's server.env).
#include "DirectoryFixture.h"
#include "LdapFaultRelay.h"
#include "TestPki.h"

#include "directory/LdapConnection.h"
#include "directory/StoredDirectory.h"
#include "store/StateStore.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QPointer>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QUrl>

#include <atomic>
#include <csignal>

using namespace certsync;
using namespace certsync::directory;
using namespace certsync::testing;

namespace {

QString sha256Hex(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

QStringList sortedShas(const QList<QByteArray> &values)
{
    QStringList out;
    for (const QByteArray &v : values)
        out.append(sha256Hex(v));
    out.sort();
    return out;
}

// Every row the inventory would show for a user, as "sha problems", sorted: independent of the order
// in which a server returns values.
QStringList rowsOf(const DirectoryUser &user)
{
    QStringList rows;
    for (const certs::AnalyzedValue &value : user.values) {
        if (value.kind == certs::ValueKind::Invalid)
            rows.append(QString::fromLatin1(value.sha256.toHex()) + QLatin1Char(' ')
                        + value.valueProblems.codes());
        for (int i = 0; i < value.certificates.size(); ++i)
            rows.append(value.certificates.at(i).certificate.sha256Hex() + QLatin1Char(' ')
                        + value.problemsOf(i).codes());
    }
    rows.sort();
    return rows;
}

QStringList plantedRows(const QJsonObject &user)
{
    QStringList rows;
    for (const QJsonValue &v : user.value(QStringLiteral("values")).toArray()) {
        const QJsonObject certificates = v.toObject().value(QStringLiteral("certificates")).toObject();
        for (auto it = certificates.begin(); it != certificates.end(); ++it) {
            QStringList codes;
            for (const QJsonValue &code : it.value().toArray())
                codes.append(code.toString());
            rows.append(it.key() + QLatin1Char(' ') + codes.join(QLatin1Char(';')));
        }
    }
    rows.sort();
    return rows;
}

QStringList plantedShas(const QJsonObject &user, const QString &attribute)
{
    QStringList out;
    for (const QJsonValue &v : user.value(QStringLiteral("values")).toArray())
        if (v.toObject().value(QStringLiteral("attribute")).toString() == attribute)
            out.append(v.toObject().value(QStringLiteral("sha256")).toString());
    out.sort();
    return out;
}

QString colonHex(const QString &hex)
{
    QString out;
    for (int i = 0; i < hex.size(); i += 2)
        out += (i ? QStringLiteral(":") : QString()) + hex.mid(i, 2);
    return out;
}

} // namespace

class TestDirectory : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void fullReadMatchesSeed();
    void pagedReadOverSeveralPages();
    void ldapsAndPinnedCertificate();
    void untrustedServerRefused();
    void wrongPassword();
    void unencryptedOrAnonymous();
    void addAndRemoveValuesByBytes_data();
    void addAndRemoveValuesByBytes();
    void insufficientRights();
    void incrementalReadSeesOnlyTheChange();
    void cancelMidRead();
    void sizeLimit();
    void serverPausedCanceledTimedOutAndGone();
    void undecodableEntryMakesTheReadIncomplete_data();
    void undecodableEntryMakesTheReadIncomplete();
    void changeDuringReadIsSeenByTheNextRead();
    void renamedUserReplacesItsStoredRow();

private:
    QString readerDn() const;

    DirectoryFixture m_fixture;
    QJsonObject m_manifest;
    int m_directoryUsers = 0; // users the reader sees with the default filter
};

void TestDirectory::initTestCase()
{
    m_fixture = DirectoryFixture::fromEnvironment("CERTSYNC_DIRECTORY_ENV");
    QVERIFY2(m_fixture.error.isEmpty(), qPrintable(m_fixture.error));
    m_manifest = m_fixture.manifest();
    QVERIFY(!m_manifest.value(QStringLiteral("users")).toArray().isEmpty());
    QVERIFY(m_fixture.trust());
    qInfo() << "directory:" << m_fixture.value(QStringLiteral("FLAVOUR"))
            << m_fixture.value(QStringLiteral("LDAP_URL"));
}

QString TestDirectory::readerDn() const
{
    return m_fixture.isActiveDirectory()
        ? QStringLiteral("CN=reader,CN=Users,") + m_fixture.value(QStringLiteral("BASE_DN"))
        : m_fixture.value(QStringLiteral("READER_DN"));
}

void TestDirectory::fullReadMatchesSeed()
{
    const ReadOutcome outcome = readDirectory(m_fixture.readSettings());
    QVERIFY(outcome.finished);
    QVERIFY2(outcome.success, qPrintable(outcome.snapshot ? outcome.snapshot->error.message : QString()));
    const DirectorySnapshot &snapshot = *outcome.snapshot;
    QVERIFY(snapshot.complete);
    QVERIFY(!snapshot.incremental);
    QVERIFY(snapshot.mark.isValid());
    QCOMPARE(snapshot.users.size(), outcome.streamed.size());
    QVERIFY(snapshot.serverCertificate.has_value());
    QCOMPARE(snapshot.serverCertificate->sha256Hex, m_fixture.value(QStringLiteral("SERVER_SHA256")));
    m_directoryUsers = int(snapshot.users.size());

    QHash<QString, const DirectoryUser *> byDn;
    for (const DirectoryUser &user : snapshot.users)
        byDn.insert(user.dn.toLower(), &user);
    const QJsonArray planted = m_manifest.value(QStringLiteral("users")).toArray();
    int certificateRows = 0;
    for (const QJsonValue &value : planted) {
        const QJsonObject p = value.toObject();
        const QString name = p.value(QStringLiteral("name")).toString();
        const DirectoryUser *user = byDn.value(p.value(QStringLiteral("dn")).toString().toLower());
        QVERIFY2(user, qPrintable(QStringLiteral("seeded user %1 was not read").arg(name)));
        QCOMPARE(user->mail, p.value(QStringLiteral("mail")).toString());
        QCOMPARE(sortedShas(user->userCertificate), plantedShas(p, QStringLiteral("userCertificate")));
        QCOMPARE(sortedShas(user->userSmimeCertificate),
                 plantedShas(p, QStringLiteral("userSMIMECertificate")));
        if (name == QLatin1String("many")) {
            // Which two are over the limit depends on the server's value order; that two are does not.
            QCOMPARE(user->userCertificate.size(), 17);
            QCOMPARE(rowsOf(*user).filter(QStringLiteral("over_limit")).size(), 2);
        } else {
            QCOMPARE(rowsOf(*user), plantedRows(p));
        }
        certificateRows += int(rowsOf(*user).size());
        // OpenLDAP has no notion of a disabled account.
        QCOMPARE(user->disabled,
                 m_fixture.isActiveDirectory() && p.value(QStringLiteral("disabled")).toBool());
        if (m_fixture.isActiveDirectory()) {
            QCOMPARE(QByteArray::fromBase64(user->sourceAnchor.toLatin1()).size(), 16); // objectGUID
            QCOMPARE(user->userPrincipalName, name + QStringLiteral("@certsync.test"));
            QCOMPARE(user->accountName, name.left(20));
            QVERIFY(user->proxyAddresses.contains(QStringLiteral("SMTP:") + user->mail));
            QVERIFY(user->changeNumber > 0);
        } else {
            QVERIFY2(QRegularExpression(
                         QStringLiteral("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"))
                         .match(user->sourceAnchor)
                         .hasMatch(),
                     qPrintable(user->sourceAnchor));
            QCOMPARE(user->accountName, name);
        }
        QVERIFY(user->changed.isValid());
        QVERIFY(user->changed <= QDateTime::currentDateTimeUtc().addSecs(5));
    }
    QVERIFY(certificateRows > 60);
    // Every problem code the product knows was planted and found.
    QStringList found;
    for (const DirectoryUser &user : snapshot.users)
        for (const QString &row : rowsOf(user))
            found += row.section(QLatin1Char(' '), 1).split(QLatin1Char(';'), Qt::SkipEmptyParts);
    for (certs::Problem problem : certs::allProblems())
        if (!certs::isTenantProblem(problem)) // judged against the tenant, never in a directory read
            QVERIFY2(found.contains(certs::problemCode(problem)), qPrintable(certs::problemCode(problem)));
}

void TestDirectory::pagedReadOverSeveralPages()
{
    DirectoryReadSettings settings = m_fixture.readSettings();
    settings.profile.pageSize = 7;
    const ReadOutcome outcome = readDirectory(settings);
    QVERIFY(outcome.success);
    const DirectorySnapshot &snapshot = *outcome.snapshot;
    QVERIFY(snapshot.users.size() >= m_manifest.value(QStringLiteral("users")).toArray().size());
    const int fullPages = int((snapshot.entries + 6) / 7);
    // A server may or may not send a last, empty page when the entries fill the pages exactly.
    QVERIFY2(snapshot.pages == fullPages || snapshot.pages == fullPages + 1,
             qPrintable(QString::number(snapshot.pages)));
    QVERIFY(snapshot.pages >= 6);
    QCOMPARE(int(snapshot.users.size()), m_directoryUsers);
    QSet<QString> dns;
    for (const DirectoryUser &user : snapshot.users)
        dns.insert(user.dn.toLower());
    QCOMPARE(dns.size(), snapshot.users.size()); // no user twice across page boundaries
}

void TestDirectory::ldapsAndPinnedCertificate()
{
    const QString sha = m_fixture.value(QStringLiteral("SERVER_SHA256"));
    ConnectionProfile profile = m_fixture.profile();
    profile.url = m_fixture.value(QStringLiteral("LDAPS_URL"));
    auto viaLdaps = LdapConnection::open(profile, m_fixture.password());
    QVERIFY2(viaLdaps.ok(), qPrintable(viaLdaps.ok() ? QString() : viaLdaps.error().message));
    QCOMPARE((*viaLdaps)->serverCertificate()->sha256Hex, sha);

    // No CA at all: the pin alone decides, in any notation.
    profile = m_fixture.profile();
    profile.caFile.clear();
    profile.serverCertificateSha256 = colonHex(sha).toUpper();
    auto pinned = LdapConnection::open(profile, m_fixture.password());
    QVERIFY2(pinned.ok(), qPrintable(pinned.ok() ? QString() : pinned.error().message));
    auto root = (*pinned)->readEntry(QString(), { QStringLiteral("namingContexts") });
    QVERIFY(root.ok());

    QString wrong = sha;
    wrong[0] = wrong[0] == QLatin1Char('0') ? QLatin1Char('1') : QLatin1Char('0');
    profile.serverCertificateSha256 = wrong;
    auto refused = LdapConnection::open(profile, m_fixture.password());
    QVERIFY(!refused.ok());
    QCOMPARE(refused.error().code, QStringLiteral("tls"));
    QVERIFY2(refused.error().message.contains(QStringLiteral("not the pinned one")),
             qPrintable(refused.error().message));
    QVERIFY(refused.error().message.contains(colonHex(sha)));

    profile.serverCertificateSha256 = QStringLiteral("abcd");
    auto malformed = LdapConnection::open(profile, m_fixture.password());
    QVERIFY(!malformed.ok());
    QCOMPARE(malformed.error().code, QStringLiteral("config"));
}

void TestDirectory::untrustedServerRefused()
{
    for (const QString &url :
         { m_fixture.value(QStringLiteral("LDAP_URL")), m_fixture.value(QStringLiteral("LDAPS_URL")) }) {
        ConnectionProfile profile = m_fixture.profile();
        profile.url = url;
        profile.caFile = m_fixture.value(QStringLiteral("OTHER_CA_FILE"));
        auto refused = LdapConnection::open(profile, m_fixture.password());
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().code, QStringLiteral("tls"));
        const QString message = refused.error().message;
        QVERIFY2(message.contains(QStringLiteral("CN=certsync test directory server")), qPrintable(message));
        QVERIFY2(message.contains(colonHex(m_fixture.value(QStringLiteral("SERVER_SHA256")))),
                 qPrintable(message));
        QVERIFY(!message.contains(m_fixture.password()));
    }
    // And the job reports it as an incomplete snapshot, not as an empty directory.
    DirectoryReadSettings settings = m_fixture.readSettings();
    settings.profile.caFile = m_fixture.value(QStringLiteral("OTHER_CA_FILE"));
    const ReadOutcome outcome = readDirectory(settings);
    QVERIFY(outcome.finished);
    QVERIFY(!outcome.success);
    QVERIFY(!outcome.snapshot->complete);
    QCOMPARE(outcome.snapshot->error.code, QStringLiteral("tls"));
    QVERIFY(outcome.snapshot->users.isEmpty());
}

void TestDirectory::wrongPassword()
{
    auto refused = LdapConnection::open(m_fixture.profile(), QStringLiteral("not-the-password"));
    QVERIFY(!refused.ok());
    QCOMPARE(refused.error().code, QStringLiteral("bad_credentials"));
    QVERIFY2(refused.error().message.contains(QStringLiteral("check the bind DN/UPN and the password")),
             qPrintable(refused.error().message));
    QVERIFY(!refused.error().message.contains(QStringLiteral("not-the-password")));

    auto empty = LdapConnection::open(m_fixture.profile(), QString());
    QVERIFY(!empty.ok());
    QCOMPARE(empty.error().code, QStringLiteral("config")); // never an accidental unauthenticated bind
}

void TestDirectory::unencryptedOrAnonymous()
{
    if (m_fixture.isActiveDirectory()) {
        // AD refuses simple binds without TLS; the person is told what to do about it.
        ConnectionProfile profile = m_fixture.profile();
        profile.startTls = false;
        auto refused = LdapConnection::open(profile, m_fixture.password());
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().code, QStringLiteral("strong_auth_required"));
        QVERIFY(refused.error().message.contains(QStringLiteral("StartTLS")));
    } else {
        DirectoryReadSettings settings = m_fixture.readSettings();
        settings.profile.bind = BindMethod::Anonymous;
        settings.password.clear();
        const ReadOutcome outcome = readDirectory(settings);
        QVERIFY(outcome.success);
        QCOMPARE(int(outcome.snapshot->users.size()), m_directoryUsers);
    }
}

void TestDirectory::addAndRemoveValuesByBytes_data()
{
    QTest::addColumn<bool>("smime");
    QTest::newRow("userCertificate") << false;
    QTest::newRow("userSMIMECertificate") << true;
}

void TestDirectory::addAndRemoveValuesByBytes()
{
    QFETCH(bool, smime);
    auto admin = LdapConnection::open(m_fixture.profile(true), m_fixture.password(true));
    QVERIFY2(admin.ok(), qPrintable(admin.ok() ? QString() : admin.error().message));
    const AttributeMapping mapping = m_fixture.profile().mapping;
    const QString attribute = smime ? mapping.userSmimeCertificate : mapping.userCertificate;
    CertSpec spec = goodLeafSpec(QStringLiteral("reader@certsync.test"));
    spec.keySlot = 40;
    const Issued first = TestPki::selfSigned(spec);
    spec.notAfterDays = 400;
    const Issued second = TestPki::selfSigned(spec);
    const QByteArray a = smime ? TestPki::pkcs7CertsOnly({ &first }) : first.der;
    const QByteArray b = smime ? TestPki::pkcs7CertsOnly({ &second }) : second.der;
    const QString dn = readerDn();
    auto values = [&]() -> QList<QByteArray> {
        auto entry = (*admin)->readEntry(dn, { attribute });
        return entry ? entry->values(attribute) : QList<QByteArray> { QByteArray("read failed") };
    };
    QCOMPARE(values(), QList<QByteArray> {});

    auto added = (*admin)->modifyValues(dn, attribute, {}, { a, b });
    QVERIFY2(added.ok(), qPrintable(added.ok() ? QString() : added.error().message));
    QList<QByteArray> now = values();
    std::sort(now.begin(), now.end());
    QList<QByteArray> expected { a, b };
    std::sort(expected.begin(), expected.end());
    QCOMPARE(now, expected);

    auto removed = (*admin)->modifyValues(dn, attribute, { a }, {});
    QVERIFY2(removed.ok(), qPrintable(removed.ok() ? QString() : removed.error().message));
    QCOMPARE(values(), QList<QByteArray> { b }); // exactly the other value's bytes survive

    auto again = (*admin)->modifyValues(dn, attribute, { a }, {});
    QVERIFY(!again.ok());
    QCOMPARE(again.error().code, QStringLiteral("value_not_present"));
    auto twice = (*admin)->modifyValues(dn, attribute, {}, { b });
    QVERIFY(!twice.ok());
    QVERIFY2(twice.error().code == QLatin1String("value_exists"), qPrintable(twice.error().toString()));
    QCOMPARE(values(), QList<QByteArray> { b });

    QVERIFY((*admin)->modifyValues(dn, attribute, { b }, {}).ok());
    QCOMPARE(values(), QList<QByteArray> {});
}

void TestDirectory::insufficientRights()
{
    auto reader = LdapConnection::open(m_fixture.profile(), m_fixture.password());
    QVERIFY(reader.ok());
    const QString victim = m_fixture.value(QStringLiteral("PEOPLE_DN"))
                               .prepend(m_fixture.isActiveDirectory() ? QStringLiteral("CN=good-ec,")
                                                                      : QStringLiteral("uid=good-ec,"));
    const QString attribute = m_fixture.profile().mapping.userCertificate;
    const QByteArray value = TestPki::selfSigned(goodLeafSpec(QStringLiteral("good-ec@certsync.test"))).der;
    auto refused = (*reader)->modifyValues(victim, attribute, {}, { value });
    QVERIFY(!refused.ok());
    QCOMPARE(refused.error().code, QStringLiteral("insufficient_rights"));
    QVERIFY2(refused.error().message.contains(m_fixture.value(QStringLiteral("READER_DN"))),
             qPrintable(refused.error().message));
    auto entry = (*reader)->readEntry(victim, { attribute });
    QVERIFY(entry.ok());
    QCOMPARE(entry->values(attribute).size(), 1);
}

void TestDirectory::incrementalReadSeesOnlyTheChange()
{
    const ReadOutcome full = readDirectory(m_fixture.readSettings());
    QVERIFY(full.success);
    const ReadMark mark = full.snapshot->mark;
    QVERIFY(mark.isValid());
    QCOMPARE(ReadMark::fromJson(mark.toJson()), mark);

    auto admin = LdapConnection::open(m_fixture.profile(true), m_fixture.password(true));
    QVERIFY(admin.ok());
    const QString attribute = m_fixture.profile().mapping.userCertificate;
    CertSpec spec = goodLeafSpec(QStringLiteral("reader@certsync.test"));
    spec.keySlot = 41;
    const QByteArray value = TestPki::selfSigned(spec).der;
    QVERIFY((*admin)->modifyValues(readerDn(), attribute, {}, { value }).ok());

    DirectoryReadSettings settings = m_fixture.readSettings();
    settings.previous = mark;
    const ReadOutcome changes = readDirectory(settings);
    QVERIFY((*admin)->modifyValues(readerDn(), attribute, { value }, {}).ok());
    QVERIFY(changes.success);
    QVERIFY(changes.snapshot->incremental);
    QCOMPARE(changes.snapshot->users.size(), 1);
    const DirectoryUser &changed = changes.snapshot->users.first();
    QCOMPARE(changed.dn.toLower(), readerDn().toLower());
    QCOMPARE(changed.userCertificate, QList<QByteArray> { value });
    QCOMPARE(changed.values.size(), 1);
    QVERIFY(changes.snapshot->mark.isValid());

    if (!m_fixture.isActiveDirectory())
        QVERIFY(changes.snapshot->mark.csn > mark.csn);
    if (m_fixture.isActiveDirectory()) {
        QVERIFY(changes.snapshot->mark.usn > mark.usn);
        // A mark from another domain controller is worthless: uSNChanged is per DC.
        ReadMark otherDc = mark;
        otherDc.dcIdentity = QStringLiteral("CN=NTDS Settings,CN=OTHER-DC|00");
        settings.previous = otherDc;
        const ReadOutcome again = readDirectory(settings);
        QVERIFY(again.success);
        QVERIFY(!again.snapshot->incremental);
        QCOMPARE(int(again.snapshot->users.size()), int(full.snapshot->users.size()));
    }
}

void TestDirectory::cancelMidRead()
{
    DirectoryReadSettings settings = m_fixture.readSettings();
    settings.profile.pageSize = 5;
    const ReadOutcome outcome = readDirectory(settings, [](DirectoryReadJob *job) {
        // Direct connection: runs on the worker thread right after the first page, mid-read.
        QObject::connect(
            job, &jobs::Job::progress, job, [job] { job->cancel(); }, Qt::DirectConnection);
    });
    QVERIFY(outcome.finished);
    QVERIFY(!outcome.success);
    QVERIFY(!outcome.snapshot->complete);
    QCOMPARE(outcome.snapshot->error.code, QStringLiteral("canceled"));
    QVERIFY(outcome.snapshot->entries >= 5);
    QVERIFY(outcome.snapshot->entries < m_directoryUsers);
}

void TestDirectory::sizeLimit()
{
    if (m_fixture.isActiveDirectory())
        QSKIP("slapd only: the fixture gives its 'limited' account a size limit; Samba has no per-account "
              "limits");
    DirectoryReadSettings settings = m_fixture.readSettings();
    settings.profile.bindDn = m_fixture.value(QStringLiteral("LIMITED_DN"));
    settings.password = m_fixture.value(QStringLiteral("LIMITED_PASSWORD"));
    settings.profile.pageSize = 3;
    const ReadOutcome outcome = readDirectory(settings);
    QVERIFY(!outcome.success);
    QCOMPARE(outcome.snapshot->error.code, QStringLiteral("limit"));
    QVERIFY(!outcome.snapshot->complete);
}

void TestDirectory::serverPausedCanceledTimedOutAndGone()
{
    if (m_fixture.isActiveDirectory())
        QSKIP("slapd only: a private server is stopped and killed here; Samba takes 20 s to provision");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString script = qEnvironmentVariable("CERTSYNC_SLAPD_SCRIPT");
    const QString seeder = qEnvironmentVariable("CERTSYNC_SEED");
    QVERIFY2(!script.isEmpty() && !seeder.isEmpty(), "CERTSYNC_SLAPD_SCRIPT and CERTSYNC_SEED must be set");
    const QString serverDir = dir.filePath(QStringLiteral("slapd"));
    QCOMPARE(
        QProcess::execute(QStringLiteral("bash"),
                          { script, QStringLiteral("start"), serverDir, seeder, QStringLiteral("--users"),
                            QStringLiteral("200"), QStringLiteral("--no-catalogue") }),
        0);
    auto stopServer = qScopeGuard([&] {
        QProcess::execute(QStringLiteral("bash"), { script, QStringLiteral("stop"), serverDir });
    });
    qputenv("CERTSYNC_PRIVATE_ENV", (serverDir + QStringLiteral("/server.env")).toLocal8Bit());
    const DirectoryFixture server = DirectoryFixture::fromEnvironment("CERTSYNC_PRIVATE_ENV");
    QVERIFY2(server.error.isEmpty(), qPrintable(server.error));
    const pid_t pid = pid_t(server.value(QStringLiteral("PID")).toInt());
    QVERIFY(pid > 0);

    // 1. The server stops answering mid-read; cancel is honoured while the reader waits.
    DirectoryReadSettings settings = server.readSettings();
    settings.profile.pageSize = 10;
    QPointer<DirectoryReadJob> running;
    ReadOutcome outcome = readDirectory(settings, [&](DirectoryReadJob *job) {
        running = job;
        QObject::connect(
            job, &jobs::Job::progress, job, [pid] { ::kill(pid, SIGSTOP); }, Qt::DirectConnection);
        QTimer::singleShot(500, job, [job] { job->cancel(); });
    });
    ::kill(pid, SIGCONT);
    QVERIFY(outcome.finished);
    QCOMPARE(outcome.snapshot->error.code, QStringLiteral("canceled"));
    QVERIFY(!outcome.snapshot->complete);
    QVERIFY2(outcome.elapsedMs < 3000, qPrintable(QString::number(outcome.elapsedMs)));

    // 2. A silent server is given up after the operation timeout.
    settings = server.readSettings();
    settings.profile.pageSize = 10;
    settings.profile.operationTimeoutMs = 800;
    outcome = readDirectory(settings, [pid](DirectoryReadJob *job) {
        QObject::connect(
            job, &jobs::Job::progress, job, [pid] { ::kill(pid, SIGSTOP); }, Qt::DirectConnection);
    });
    ::kill(pid, SIGCONT);
    QCOMPARE(outcome.snapshot->error.code, QStringLiteral("timeout"));
    QVERIFY(!outcome.snapshot->complete);
    QVERIFY(outcome.elapsedMs < 5000);

    // 3. The server goes away mid-read: the snapshot says incomplete and holds what was read.
    settings = server.readSettings();
    settings.profile.pageSize = 10;
    outcome = readDirectory(settings, [pid](DirectoryReadJob *job) {
        QObject::connect(
            job, &jobs::Job::progress, job, [pid] { ::kill(pid, SIGKILL); }, Qt::DirectConnection);
    });
    QVERIFY(outcome.finished);
    QVERIFY(!outcome.success);
    QCOMPARE(outcome.snapshot->error.code, QStringLiteral("server_gone"));
    QVERIFY(!outcome.snapshot->complete);
    QVERIFY2(outcome.snapshot->error.message.contains(QStringLiteral("incomplete")),
             qPrintable(outcome.snapshot->error.message));
    QCOMPARE(outcome.snapshot->entries, 10);
    QCOMPARE(outcome.snapshot->users.size(), 10);
}

void TestDirectory::undecodableEntryMakesTheReadIncomplete_data()
{
    QTest::addColumn<int>("fault");
    QTest::newRow("attribute cut short") << int(LdapFaultRelay::Fault::ValueLength);
    QTest::newRow("DN cut short") << int(LdapFaultRelay::Fault::DnLength);
}

// An entry libldap cannot decode completely never becomes a shorter entry (a user with fewer
// certificates, whose others a plan would then remove): the read goes on, says which entry and why,
// and the snapshot is incomplete, so that no diff is computed from it.
void TestDirectory::undecodableEntryMakesTheReadIncomplete()
{
    if (m_fixture.isActiveDirectory())
        QSKIP("slapd only: the relay must see plain LDAP, and AD refuses simple binds without TLS");
    QFETCH(int, fault);
    const ReadOutcome before = readDirectory(m_fixture.readSettings());
    QVERIFY(before.success);
    const QString attribute = m_fixture.profile().mapping.userCertificate;
    // A user with certificates, whose values the damaged attribute holds.
    auto victim = std::find_if(before.snapshot->users.cbegin(), before.snapshot->users.cend(),
                               [](const DirectoryUser &u) { return !u.userCertificate.isEmpty(); });
    QVERIFY(victim != before.snapshot->users.cend());
    const QString victimDn = victim->dn;
    const QByteArray marker = victimDn.section(QLatin1Char(','), 0, 0).toUtf8() + ',';

    const QUrl server(m_fixture.value(QStringLiteral("LDAP_URL")));
    LdapFaultRelay relay(server.host(), quint16(server.port()), marker, LdapFaultRelay::Fault(fault),
                         attribute.toUtf8());
    QVERIFY(relay.start());
    DirectoryReadSettings settings = m_fixture.readSettings();
    settings.profile.url = relay.url();
    settings.profile.startTls = false; // the relay reads the messages
    settings.profile.pageSize = 5;
    QStringList errors;
    const ReadOutcome outcome = readDirectory(settings, [&errors](DirectoryReadJob *job) {
        QObject::connect(job, &jobs::Job::logRecord, job, [&errors](const jobs::LogRecord &r) {
            if (r.level == jobs::LogRecord::Level::Error)
                errors << r.message;
        });
    });
    QCOMPARE(relay.damaged(), 1);
    QVERIFY(outcome.finished);
    QVERIFY2(!outcome.success, "a read with an undecodable entry is not a successful read");
    QVERIFY(outcome.snapshot);
    QVERIFY(!outcome.snapshot->complete);
    QCOMPARE(outcome.snapshot->error.code, QStringLiteral("unreadable_entry"));
    QVERIFY(!outcome.snapshot->mark.isValid());
    // The rest was read; the damaged entry is in no form among the users.
    QCOMPARE(outcome.snapshot->entries, before.snapshot->entries - 1);
    for (const DirectoryUser &u : std::as_const(outcome.streamed)) {
        QVERIFY2(!u.dn.isEmpty(), "an entry without a DN is not a user");
        QVERIFY2(u.dn.compare(victimDn, Qt::CaseInsensitive) != 0, qPrintable(u.dn));
    }
    // The log names the entry (when its DN could be read) and libldap's error.
    const QString named = LdapFaultRelay::Fault(fault) == LdapFaultRelay::Fault::DnLength
        ? QStringLiteral("(DN unreadable)")
        : victimDn;
    QVERIFY2(outcome.snapshot->error.message.contains(named), qPrintable(outcome.snapshot->error.message));
    QVERIFY2(outcome.snapshot->error.message.contains(QStringLiteral("Decoding error")),
             qPrintable(outcome.snapshot->error.message));
    QVERIFY2(!errors.filter(named).filter(QStringLiteral("Decoding error")).isEmpty(),
             qPrintable(errors.join(QLatin1Char('\n'))));
}

// The next incremental read starts where this one began (OpenLDAP: the suffix's contextCSN, AD:
// highestCommittedUSN): a change to an entry already read, made while the read goes on, is read next
// time even when an entry read later was changed after it.
void TestDirectory::changeDuringReadIsSeenByTheNextRead()
{
    DirectoryReadSettings settings = m_fixture.readSettings();
    settings.profile.pageSize = 5;
    const ReadOutcome order = readDirectory(settings);
    QVERIFY(order.success);
    QVERIFY(order.snapshot->users.size() > 5);
    const QString early = order.snapshot->users.first().dn; // in the first page
    const QString late = order.snapshot->users.last().dn; // in the last
    const QString attribute = m_fixture.profile().mapping.userCertificate;
    CertSpec spec = goodLeafSpec(QStringLiteral("midread@certsync.test"));
    spec.keySlot = 42;
    const QByteArray value = TestPki::selfSigned(spec).der;
    auto admin = LdapConnection::open(m_fixture.profile(true), m_fixture.password(true));
    QVERIFY(admin.ok());
    LdapConnection &writer = **admin;
    std::atomic<bool> changed = false;
    auto restore = qScopeGuard([&] {
        if (changed) {
            (void)writer.modifyValues(early, attribute, { value }, {});
            (void)writer.modifyValues(late, attribute, { value }, {});
        }
    });
    std::atomic<bool> writesOk = false;
    const ReadOutcome full = readDirectory(settings, [&](DirectoryReadJob *job) {
        // On the worker thread, after the first page: the early entry is read, the late one is not.
        QObject::connect(
            job, &jobs::Job::progress, job,
            [&] {
                if (changed.exchange(true))
                    return;
                writesOk = writer.modifyValues(early, attribute, {}, { value }).ok()
                    && writer.modifyValues(late, attribute, {}, { value }).ok();
            },
            Qt::DirectConnection);
    });
    QVERIFY(changed);
    QVERIFY(writesOk);
    QVERIFY(full.success);
    const auto inFull = [&](const QString &dn) {
        for (const DirectoryUser &u : std::as_const(full.snapshot->users))
            if (u.dn == dn)
                return u.userCertificate.contains(value);
        return false;
    };
    QVERIFY2(!inFull(early), "the early entry was read before the change");
    QVERIFY2(inFull(late), "the late entry was read after the change");

    settings.previous = full.snapshot->mark;
    const ReadOutcome next = readDirectory(settings);
    QVERIFY(next.success);
    QVERIFY(next.snapshot->incremental);
    QStringList seen;
    for (const DirectoryUser &u : std::as_const(next.snapshot->users))
        if (u.userCertificate.contains(value))
            seen << u.dn;
    QVERIFY2(seen.contains(early), qPrintable(seen.join(QLatin1Char(';'))));
}

// Rows of the stored snapshot are keyed by the source anchor: a user renamed in the directory replaces
// its row at the next incremental read, instead of leaving its old row (and values) beside the new one.
void TestDirectory::renamedUserReplacesItsStoredRow()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    auto state = store::StateStore::open(dir.filePath(QStringLiteral("certsync.db")));
    QVERIFY(state.ok());
    DirectoryReadSettings settings = m_fixture.readSettings();
    const ReadOutcome full = readDirectory(settings);
    QVERIFY(full.success);
    {
        StoredDirectory stored(**state, settings.profile);
        QVERIFY(stored.begin(true).ok());
        QVERIFY(stored.store(full.snapshot->users).ok());
        QVERIFY(stored.commit(full.snapshot->mark).ok());
    }
    const DirectoryUser &user = full.snapshot->users.at(1);
    QVERIFY(!user.sourceAnchor.isEmpty());
    const QString oldRdn = user.dn.section(QLatin1Char(','), 0, 0);
    const QString parent = user.dn.section(QLatin1Char(','), 1);
    const QString newRdn = oldRdn + QStringLiteral("-renamed");
    const QString newDn = newRdn + QLatin1Char(',') + parent;
    const auto rename = [&](const QString &from, const QString &to) {
        QProcess modrdn;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("LDAPTLS_CACERT"), m_fixture.value(QStringLiteral("CA_FILE")));
        modrdn.setProcessEnvironment(env);
        modrdn.start(QStringLiteral("ldapmodrdn"),
                     { QStringLiteral("-x"), QStringLiteral("-ZZ"), QStringLiteral("-H"),
                       m_fixture.value(QStringLiteral("LDAP_URL")), QStringLiteral("-D"),
                       m_fixture.value(QStringLiteral("ADMIN_DN")), QStringLiteral("-w"),
                       m_fixture.password(true), QStringLiteral("-r"), from, to });
        return modrdn.waitForFinished(10000) && modrdn.exitCode() == 0;
    };
    QVERIFY(rename(user.dn, newRdn));
    auto renameBack = qScopeGuard([&] { rename(newDn, oldRdn); });

    settings = m_fixture.readSettings();
    settings.previous = full.snapshot->mark;
    const ReadOutcome changes = readDirectory(settings);
    QVERIFY(changes.success);
    QVERIFY(changes.snapshot->incremental);
    StoredDirectory stored(**state, settings.profile);
    QVERIFY(stored.begin(false).ok());
    QVERIFY(stored.store(changes.snapshot->users).ok());
    QVERIFY(stored.commit(changes.snapshot->mark).ok());
    const certs::ValueAnalyzer analyzer(*settings.trust, certs::CertificateJudge(settings.policy));
    QStringList dns;
    QStringList anchored; // the DNs stored with the renamed user's anchor
    auto visited = stored.forEachUser(analyzer, QDateTime::currentDateTimeUtc(), [&](DirectoryUser &&u) {
        dns << u.dn.toLower();
        if (u.sourceAnchor == user.sourceAnchor)
            anchored << u.dn;
        return true;
    });
    QVERIFY(visited.ok());
    QCOMPARE(int(*visited), int(full.snapshot->users.size()));
    QCOMPARE(anchored, QStringList { newDn });
    QVERIFY(!dns.contains(user.dn.toLower()));
}

QTEST_GUILESS_MAIN(TestDirectory)
#include "tst_directory.moc"
