// Approvals with real OS accounts: certsync records the account that runs it (never a name from the
// environment), the author of a plan can neither approve nor publish it, a team shares one state
// folder (setgid, group-writable, never world-readable), the audit trail is a hash chain whose heads
// go to the system log, and credentials never travel in the clear. The real `certsync` binary runs as
// three local accounts (made by this test, as root) against slapd and certsync-tenantsim.
#include "DirectoryFixture.h"
#include "SimHarness.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkInterface>
#include <QProcess>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <cstring>
#include <mutex>
#include <thread>

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using namespace certsync::testing;

namespace {

const QString TenantId = QStringLiteral("2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091");
const QString ClientId = QStringLiteral("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d");
const QString Secret = QStringLiteral("approvals-suite-secret");
const QString Group = QStringLiteral("certsync-admins");
const QString Alice = QStringLiteral("certsync-alice"); // stages
const QString Bob = QStringLiteral("certsync-bob"); // approves and publishes
const QString Carol = QStringLiteral("certsync-carol"); // reads while the others work
constexpr int WaitMs = 120000;

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    [[nodiscard]] QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

bool runAsRoot(const QString &program, const QStringList &args)
{
    QProcess p;
    p.start(program, args);
    return p.waitForFinished(30000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

uid_t uidOf(const QString &account)
{
    const passwd *pw = getpwnam(account.toLocal8Bit().constData());
    return pw ? pw->pw_uid : uid_t(-1);
}

mode_t modeOf(const QString &path)
{
    struct stat st
    {
    };
    return ::stat(QFile::encodeName(path).constData(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

// What syslog(3) sends to /dev/log, caught by a datagram socket of the test's own (when the machine
// has no system logger, as a CI container has not). A thread reads it all the time: a full socket
// queue (net.unix.max_dgram_qlen, 10 here) would block every process that logs, slapd included.
class SystemLogCatcher
{
public:
    ~SystemLogCatcher()
    {
        if (m_fd < 0)
            return;
        ::shutdown(m_fd, SHUT_RDWR);
        ::unlink("/dev/log");
        if (m_reader.joinable())
            m_reader.join();
        ::close(m_fd);
    }
    bool start()
    {
        if (QFileInfo::exists(QStringLiteral("/dev/log")))
            return false;
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address {};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, "/dev/log", sizeof(address.sun_path) - 1);
        if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
            if (m_fd >= 0)
                ::close(m_fd);
            m_fd = -1;
            return false;
        }
        ::chmod("/dev/log", 0666);
        m_reader = std::thread([this] {
            char buffer[8192];
            for (;;) {
                const ssize_t n = ::recv(m_fd, buffer, sizeof(buffer), 0);
                if (n <= 0)
                    return;
                const std::lock_guard<std::mutex> lock(m_mutex);
                m_lines.append(buffer, n);
                m_lines.append('\n');
            }
        });
        return true;
    }
    QByteArray lines()
    {
        const std::lock_guard<std::mutex> lock(m_mutex);
        return m_lines;
    }

private:
    int m_fd = -1;
    std::thread m_reader;
    std::mutex m_mutex;
    QByteArray m_lines;
};

} // namespace

class TestApprovals : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void fourEyesWithTwoAccounts();
    void sudoIsRecordedAndTheEnvironmentIsNot();
    void aPrivateFolderStaysPrivate();
    void anEditedTrailIsFound();
    void credentialsInTheClearAreRefusedBeforeConnecting();

private:
    Run as(const QString &account, const QStringList &args, const QProcessEnvironment &extra = {}) const;
    QStringList connection(const QString &stateDir) const;
    void startConsoleAs(const QString &account, QProcess &console) const;
    QByteArray auditCsvAs(const QString &account) const;

    DirectoryFixture m_dir;
    SimHarness m_sim;
    QTemporaryDir m_root; // 0755: every account reaches the copies below
    QString m_binary; // a copy every account can run
    QString m_team; // the team's state folder: group certsync-admins, 2770
    QString m_caFile, m_trustFile, m_crlFile, m_tenantCa;
    QString m_plan;
    SystemLogCatcher m_syslog;
    bool m_catchingSyslog = false;
    QString m_lsanOptions; // LSAN_OPTIONS with a suppressions file every account can read
};

void TestApprovals::initTestCase()
{
    if (::geteuid() != 0)
        QSKIP("this suite needs root: it creates the local accounts certsync-alice, certsync-bob and "
              "certsync-carol and the group certsync-admins (CI runs it as root)");
    // The accounts: one group, three members; no home, no login.
    if (!getgrnam(Group.toLocal8Bit().constData()))
        QVERIFY(runAsRoot(QStringLiteral("groupadd"), { QStringLiteral("--system"), Group }));
    for (const QString &account : { Alice, Bob, Carol })
        if (uidOf(account) == uid_t(-1))
            QVERIFY2(runAsRoot(QStringLiteral("useradd"),
                               { QStringLiteral("--system"), QStringLiteral("--no-create-home"),
                                 QStringLiteral("--shell"), QStringLiteral("/usr/sbin/nologin"),
                                 QStringLiteral("--gid"), Group, account }),
                     qPrintable(account));

    m_dir = DirectoryFixture::fromEnvironment("CERTSYNC_SLAPD_ENV");
    QVERIFY2(m_dir.error.isEmpty(), qPrintable(m_dir.error));
    QVERIFY(m_root.isValid());
    QVERIFY(QFile::setPermissions(m_root.path(),
                                  QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ReadGroup
                                      | QFile::ExeGroup | QFile::ReadOther | QFile::ExeOther));
    // What the accounts read: copies in a folder they can reach (the build tree may not be).
    auto copy = [this](const QString &from, const QString &name) {
        const QString to = m_root.filePath(name);
        QFile::remove(to);
        if (!QFile::copy(from, to))
            return QString();
        QFile::setPermissions(to,
                              QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ReadGroup
                                  | QFile::ExeGroup | QFile::ReadOther | QFile::ExeOther);
        return to;
    };
    m_binary = copy(qEnvironmentVariable("CERTSYNC_CLI"), QStringLiteral("certsync"));
    QVERIFY2(!m_binary.isEmpty(), "CERTSYNC_CLI must name the certsync binary");
    // A sanitizer build's LSAN_OPTIONS names a suppressions file in the source tree, which the
    // other accounts may not reach: they read a copy.
    const QString lsan = qEnvironmentVariable("LSAN_OPTIONS");
    const qsizetype at = lsan.indexOf(QStringLiteral("suppressions="));
    if (at >= 0) {
        const qsizetype from = at + 13;
        const qsizetype to = lsan.indexOf(QLatin1Char(':'), from);
        const QString file = lsan.mid(from, to < 0 ? -1 : to - from);
        const QString copied = copy(file, QStringLiteral("lsan.supp"));
        QVERIFY2(!copied.isEmpty(), qPrintable(file));
        m_lsanOptions = QString(lsan).replace(from, file.size(), copied);
    }
    m_caFile = copy(m_dir.value(QStringLiteral("CA_FILE")), QStringLiteral("ldap-ca.pem"));
    m_trustFile = copy(m_dir.value(QStringLiteral("TRUST_FILE")), QStringLiteral("trust.pem"));
    m_crlFile = copy(m_dir.value(QStringLiteral("CRL_FILE")), QStringLiteral("crl.pem"));
    QVERIFY(!m_caFile.isEmpty() && !m_trustFile.isEmpty() && !m_crlFile.isEmpty());

    QJsonArray users;
    const ReadOutcome read = readDirectory(m_dir.readSettings());
    QVERIFY(read.success);
    for (const auto &u : read.snapshot->users)
        if (!u.mail.isEmpty())
            users.append(
                QJsonObject { { QStringLiteral("userPrincipalName"), u.mail },
                              { QStringLiteral("mail"), u.mail },
                              { QStringLiteral("recipientTypeDetails"), QStringLiteral("MailUser") } });
    QList<QJsonObject> seedUsers;
    for (const QJsonValue &v : std::as_const(users))
        seedUsers.append(v.toObject());
    QVERIFY2(m_sim.start(SimHarness::seed(TenantId, SimHarness::app(ClientId, Secret, {}), seedUsers)),
             qPrintable(m_sim.lastError()));
    m_tenantCa = copy(m_sim.caFile(), QStringLiteral("tenant-ca.pem"));
    QVERIFY(!m_tenantCa.isEmpty());

    // The team's folder, as an admin would make it: group certsync-admins, setgid, 2770.
    m_team = m_root.filePath(QStringLiteral("team"));
    QVERIFY(QDir().mkpath(m_team));
    QVERIFY(
        ::chown(QFile::encodeName(m_team).constData(), 0, getgrnam(Group.toLocal8Bit().constData())->gr_gid)
        == 0);
    QVERIFY(::chmod(QFile::encodeName(m_team).constData(), 02770) == 0);
    m_catchingSyslog = m_syslog.start();
    if (!m_catchingSyslog)
        qWarning("/dev/log exists (a system logger runs here): the heads are checked against the database "
                 "only, not against what the logger received");
}

Run TestApprovals::as(const QString &account, const QStringList &args, const QProcessEnvironment &extra) const
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("CERTSYNC_TEST_LDAP_PW"), m_dir.password());
    env.insert(QStringLiteral("CERTSYNC_TEST_SECRET"), Secret);
    env.insert(QStringLiteral("CERTSYNC_CONFIG"), m_root.filePath(QStringLiteral("no-settings.ini")));
    env.insert(QStringLiteral("HOME"), m_root.path());
    env.remove(QStringLiteral("SUDO_USER"));
    env.remove(QStringLiteral("SUDO_UID"));
    env.remove(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"));
    // Under the sanitizers, LeakSanitizer must read its suppressions as the other accounts too.
    if (!m_lsanOptions.isEmpty())
        env.insert(QStringLiteral("LSAN_OPTIONS"), m_lsanOptions);
    env.insert(extra);
    p.setProcessEnvironment(env);
    p.setWorkingDirectory(m_root.path());
    if (account.isEmpty()) { // this test's own account (root)
        p.start(m_binary, args);
    } else {
        p.start(QStringLiteral("setpriv"),
                QStringList { QStringLiteral("--reuid=") + account, QStringLiteral("--regid=") + Group,
                              QStringLiteral("--init-groups"), QStringLiteral("--"), m_binary }
                    + args);
    }
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

// The console (the same binary without a command) as `account`, on the offscreen platform, with a
// home of that account's own and a settings file whose state/folder is the team's folder.
void TestApprovals::startConsoleAs(const QString &account, QProcess &console) const
{
    const QString home = m_root.filePath(account + QStringLiteral("-home"));
    QDir().mkpath(home);
    const QString settings = home + QStringLiteral("/certsync.conf");
    QFile f(settings);
    if (f.open(QIODevice::WriteOnly))
        f.write("version=1\n[state]\nfolder=" + m_team.toUtf8() + "\n[sync]\ndeletionThreshold=250\n");
    f.close();
    for (const QString &path : { home, settings })
        if (::chown(QFile::encodeName(path).constData(), uidOf(account),
                    getgrnam(Group.toLocal8Bit().constData())->gr_gid)
            != 0)
            qWarning("cannot give %s to %s", qPrintable(path), qPrintable(account));
    ::chmod(QFile::encodeName(home).constData(), 0700);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char *name : { "SUDO_USER", "SUDO_UID", "DBUS_SESSION_BUS_ADDRESS", "XDG_CONFIG_HOME",
                              "XDG_DATA_HOME", "XDG_CACHE_HOME" })
        env.remove(QString::fromLatin1(name));
    env.insert(QStringLiteral("HOME"), home);
    env.insert(QStringLiteral("XDG_RUNTIME_DIR"), home);
    env.insert(QStringLiteral("CERTSYNC_CONFIG"), settings);
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    if (!m_lsanOptions.isEmpty())
        env.insert(QStringLiteral("LSAN_OPTIONS"), m_lsanOptions);
    console.setProcessEnvironment(env);
    console.setWorkingDirectory(home);
    console.start(QStringLiteral("setpriv"),
                  { QStringLiteral("--reuid=") + account, QStringLiteral("--regid=") + Group,
                    QStringLiteral("--init-groups"), QStringLiteral("--"), m_binary });
}

// The audit trail as `account` exports it (CSV), read back.
QByteArray TestApprovals::auditCsvAs(const QString &account) const
{
    const QString csv = m_team + QStringLiteral("/trail-") + account + QStringLiteral(".csv");
    const Run exported = as(account,
                            { QStringLiteral("export"), QStringLiteral("audit"), QStringLiteral("--csv"), csv,
                              QStringLiteral("--state-dir"), m_team });
    QFile f(csv);
    if (exported.exitCode != 0 || !f.open(QIODevice::ReadOnly))
        return exported.err;
    return f.readAll();
}

QStringList TestApprovals::connection(const QString &stateDir) const
{
    return { QStringLiteral("--profile"),
             QStringLiteral("ldap"),
             QStringLiteral("--ldap-url"),
             m_dir.value(QStringLiteral("LDAP_URL")),
             QStringLiteral("--base-dn"),
             m_dir.value(QStringLiteral("BASE_DN")),
             QStringLiteral("--bind-dn"),
             m_dir.value(QStringLiteral("READER_DN")),
             QStringLiteral("--password-env"),
             QStringLiteral("CERTSYNC_TEST_LDAP_PW"),
             QStringLiteral("--ca-file"),
             m_caFile,
             QStringLiteral("--trust"),
             m_trustFile,
             QStringLiteral("--crl"),
             m_crlFile,
             QStringLiteral("--tenant-id"),
             TenantId,
             QStringLiteral("--client-id"),
             ClientId,
             QStringLiteral("--client-secret-env"),
             QStringLiteral("CERTSYNC_TEST_SECRET"),
             QStringLiteral("--authority-url"),
             m_sim.baseUrl() + QStringLiteral("/{tenant}"),
             QStringLiteral("--graph-url"),
             m_sim.baseUrl() + QStringLiteral("/v1.0"),
             QStringLiteral("--exchange-url"),
             m_sim.baseUrl() + QStringLiteral("/adminapi/beta/{tenant}"),
             QStringLiteral("--tenant-ca-file"),
             m_tenantCa,
             QStringLiteral("--state-dir"),
             stateDir };
}

void TestApprovals::fourEyesWithTwoAccounts()
{
    const QStringList team = { QStringLiteral("--state-dir"), m_team };
    // Alice stages a plan in the team's folder.
    const Run diff =
        as(Alice, QStringList { QStringLiteral("diff"), QStringLiteral("--json") } + connection(m_team));
    QVERIFY2(diff.exitCode == 0, diff.err.constData());
    m_plan = QString::number(diff.json().value(QStringLiteral("plan")).toInteger());
    QVERIFY(m_plan.toLongLong() > 0);

    // The database and its WAL and shm files: the group reads and writes them, nobody else.
    const QString db = m_team + QStringLiteral("/certsync.db");
    for (const QString &file : QStringList { db, db + QStringLiteral("-wal"), db + QStringLiteral("-shm") }) {
        if (!QFileInfo::exists(file))
            continue; // SQLite removes the WAL and shm files when the last connection closes
        QCOMPARE(QString::number(modeOf(file), 8), QStringLiteral("660"));
        QCOMPARE(QFileInfo(file).groupId(), getgrnam(Group.toLocal8Bit().constData())->gr_gid);
    }
    QCOMPARE(QFileInfo(db).ownerId(), uidOf(Alice));

    // Alice cannot approve her own plan: one line, exit 6, nothing recorded.
    Run approve =
        as(Alice, QStringList { QStringLiteral("approve"), m_plan, QStringLiteral("--all") } + team);
    QCOMPARE(approve.exitCode, 6);
    QVERIFY2(approve.err.contains("not allowed: certsync-alice staged plan"), approve.err.constData());
    QCOMPARE(approve.err.count('\n'), 1);

    // Carol opens the console on the team's folder (her settings name it) and keeps it open while
    // Bob works. Her settings have a lower deletion threshold than the others': her console records
    // that in the shared trail, a row written by a third account through the same database files.
    QProcess console;
    startConsoleAs(Carol, console);
    QVERIFY2(console.waitForStarted(WaitMs), qPrintable(console.errorString()));
    // (CSV: the detail has no comma, so it is not quoted.) Each look is a process: bounded by time.
    const QByteArray carolsRow =
        "certsync-carol,settings_changed,0,0,changed: deletion-threshold 250 (was 500)";
    QByteArray trail;
    QElapsedTimer waited;
    waited.start();
    while (!(trail = auditCsvAs(Carol)).contains(carolsRow) && waited.elapsed() < WaitMs
           && console.state() == QProcess::Running)
        QTest::qWait(200);
    QVERIFY2(trail.contains(carolsRow), QByteArray(trail + console.readAllStandardError()).constData());

    // Bob approves (the shared database, created by Alice, is writable for him), while Carol reads.
    QProcess reader;
    reader.start(QStringLiteral("setpriv"),
                 { QStringLiteral("--reuid=") + Carol, QStringLiteral("--regid=") + Group,
                   QStringLiteral("--init-groups"), QStringLiteral("--"), m_binary, QStringLiteral("show"),
                   m_plan, QStringLiteral("--json"), QStringLiteral("--state-dir"), m_team });
    approve = as(Bob,
                 QStringList { QStringLiteral("approve"), m_plan, QStringLiteral("--all"),
                               QStringLiteral("--comment"), QStringLiteral("looked at it") }
                     + team);
    QVERIFY2(approve.exitCode == 0, approve.err.constData());
    QVERIFY(reader.waitForFinished(WaitMs));
    QCOMPARE(reader.exitCode(), 0);

    // Alice cannot publish her own plan either; Bob can.
    Run publish = as(Alice, QStringList { QStringLiteral("publish"), m_plan } + connection(m_team));
    QCOMPARE(publish.exitCode, 6);
    QVERIFY2(publish.err.contains("cannot publish it"), publish.err.constData());
    publish =
        as(Bob,
           QStringList { QStringLiteral("publish"), m_plan, QStringLiteral("--json") } + connection(m_team));
    QVERIFY2(publish.exitCode == 0, publish.err.constData());

    // Carol's console stayed open through it all and closes cleanly, having said nothing about a
    // database it could not read or write.
    QCOMPARE(console.state(), QProcess::Running);
    console.terminate();
    QVERIFY(console.waitForFinished(WaitMs));
    const QByteArray consoleErr = console.readAllStandardError();
    QVERIFY2(console.exitStatus() == QProcess::NormalExit && console.exitCode() == 0, consoleErr.constData());
    QVERIFY2(!consoleErr.contains("readonly") && !consoleErr.contains("cannot"), consoleErr.constData());
    // Everyone used the same trust files (approve and reject use none): no trust change was recorded.
    trail = auditCsvAs(Carol);
    QVERIFY2(
        !QString::fromUtf8(trail).contains(QRegularExpression(QStringLiteral("trust [0-9a-f]{16} \\(was"))),
        trail.constData());

    // show names the people: the accounts, as the OS knows them.
    const Run show =
        as(Carol, QStringList { QStringLiteral("show"), m_plan, QStringLiteral("--json") } + team);
    QCOMPARE(show.exitCode, 0);
    QCOMPARE(show.json().value(QStringLiteral("author")).toString(), Alice);
    QCOMPARE(show.json().value(QStringLiteral("approvers")).toArray(), QJsonArray { Bob });
    QCOMPARE(show.json().value(QStringLiteral("publishers")).toArray(), QJsonArray { Bob });
    const Run text = as(Carol, QStringList { QStringLiteral("show"), m_plan } + team);
    QVERIFY2(
        text.out.contains("staged by certsync-alice; approved by certsync-bob; published by certsync-bob"),
        text.out.constData());

    // Nothing in the folder is readable by other accounts; the audit trail is intact and its heads
    // reached the system log.
    for (const QFileInfo &f : QDir(m_team).entryInfoList(QDir::Files))
        QVERIFY2((modeOf(f.filePath()) & 0007) == 0, qPrintable(f.filePath()));
    const Run verify = as(
        Carol,
        QStringList { QStringLiteral("audit"), QStringLiteral("verify"), QStringLiteral("--json") } + team);
    QVERIFY2(verify.exitCode == 0, verify.err.constData());
    QVERIFY(verify.json().value(QStringLiteral("intact")).toBool());
    if (m_catchingSyslog) {
        const QByteArray logged = m_syslog.lines();
        QVERIFY2(logged.contains("certsync[") && logged.contains("audit head: trail "), logged.constData());
        QVERIFY2(logged.contains(verify.json().value(QStringLiteral("head_sha256")).toString().toLatin1()),
                 logged.constData());
    }
}

void TestApprovals::sudoIsRecordedAndTheEnvironmentIsNot()
{
    const QStringList team = { QStringLiteral("--state-dir"), m_team };
    // A new plan by Alice (the first is published and closed).
    const Run diff =
        as(Alice, QStringList { QStringLiteral("diff"), QStringLiteral("--json") } + connection(m_team));
    QVERIFY2(diff.exitCode == 0, diff.err.constData());
    const QString plan = QString::number(diff.json().value(QStringLiteral("plan")).toInteger());
    const QStringList reject = { QStringLiteral("reject"), plan, QStringLiteral("--all"),
                                 QStringLiteral("--json") };
    // sudo as root: the invoking account, marked.
    QProcessEnvironment sudo;
    sudo.insert(QStringLiteral("SUDO_USER"), Carol);
    sudo.insert(QStringLiteral("SUDO_UID"), QString::number(uidOf(Carol)));
    Run r = as(QString(), reject + team, sudo);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(r.json().value(QStringLiteral("who")).toString(), Carol + QStringLiteral(" (via sudo)"));
    // Alice under sudo is still Alice: the author.
    sudo.insert(QStringLiteral("SUDO_USER"), Alice);
    sudo.insert(QStringLiteral("SUDO_UID"), QString::number(uidOf(Alice)));
    r = as(QString(), reject + team, sudo);
    QCOMPARE(r.exitCode, 6);
    QVERIFY2(r.err.contains("certsync-alice staged plan"), r.err.constData());
    // The same claim from an account that is not root: ignored, the real account is recorded.
    sudo.insert(QStringLiteral("SUDO_USER"), Carol);
    sudo.insert(QStringLiteral("SUDO_UID"), QString::number(uidOf(Carol)));
    r = as(Bob, reject + team, sudo);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(r.json().value(QStringLiteral("who")).toString(), Bob);
    // Nor can a variable name the approver any more.
    QProcessEnvironment named;
    named.insert(QStringLiteral("CERTSYNC_APPROVER"), QStringLiteral("somebody-else"));
    r = as(Bob, reject + team, named);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(r.json().value(QStringLiteral("who")).toString(), Bob);
}

void TestApprovals::aPrivateFolderStaysPrivate()
{
    // A folder that is not a group's: the database is the owner's alone, a folder certsync makes is 0700.
    QVERIFY(::chmod(QFile::encodeName(m_root.path()).constData(), 01777) == 0); // Bob may create in it
    const QString mine = m_root.filePath(QStringLiteral("bob/state"));
    const Run plans = as(Bob, QStringList { QStringLiteral("diff") } + connection(mine));
    QVERIFY(::chmod(QFile::encodeName(m_root.path()).constData(), 0755) == 0);
    QVERIFY2(plans.exitCode == 0, plans.err.constData());
    QCOMPARE(QString::number(modeOf(mine), 8), QStringLiteral("700"));
    QCOMPARE(QString::number(modeOf(m_root.filePath(QStringLiteral("bob"))), 8), QStringLiteral("700"));
    QCOMPARE(QString::number(modeOf(mine + QStringLiteral("/certsync.db")), 8), QStringLiteral("600"));
    // An export there is the owner's alone too; in the team's folder it is the group's.
    const Run exported = as(Bob,
                            { QStringLiteral("export"), QStringLiteral("audit"), QStringLiteral("--csv"),
                              mine + QStringLiteral("/audit.csv"), QStringLiteral("--state-dir"), mine });
    QVERIFY2(exported.exitCode == 0, exported.err.constData());
    QCOMPARE(QString::number(modeOf(mine + QStringLiteral("/audit.csv")), 8), QStringLiteral("600"));
    const Run shared = as(Bob,
                          { QStringLiteral("export"), QStringLiteral("audit"), QStringLiteral("--csv"),
                            m_team + QStringLiteral("/audit.csv"), QStringLiteral("--state-dir"), m_team });
    QVERIFY2(shared.exitCode == 0, shared.err.constData());
    QCOMPARE(QString::number(modeOf(m_team + QStringLiteral("/audit.csv")), 8), QStringLiteral("660"));
    QFile csv(m_team + QStringLiteral("/audit.csv"));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QVERIFY(csv.readLine().trimmed().endsWith(",sha256"));
}

void TestApprovals::anEditedTrailIsFound()
{
    const QStringList team = { QStringLiteral("--state-dir"), m_team };
    auto edit = [this](const QString &sql) {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("edit"));
        db.setDatabaseName(m_team + QStringLiteral("/certsync.db"));
        int changed = -1;
        if (db.open()) {
            QSqlQuery q(db);
            if (q.exec(sql))
                changed = q.numRowsAffected();
        }
        db = {};
        QSqlDatabase::removeDatabase(QStringLiteral("edit"));
        return changed;
    };
    if (m_catchingSyslog) {
        // Rows cut off the end leave a chain that holds; the system log's heads do not match it.
        const QString journal = m_root.filePath(QStringLiteral("journal.txt"));
        QFile f(journal);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(m_syslog.lines());
        f.close();
        QFile::setPermissions(journal, QFile::ReadOwner | QFile::ReadGroup | QFile::ReadOther);
        const QStringList withJournal = { QStringLiteral("audit"), QStringLiteral("verify"),
                                          QStringLiteral("--journal"), journal, QStringLiteral("--json") };
        Run verify = as(Carol, withJournal + team);
        QVERIFY2(verify.exitCode == 0, verify.out.constData());
        QVERIFY(verify.json().value(QStringLiteral("journal_heads")).toInt() >= 3);
        QVERIFY(edit(QStringLiteral("DELETE FROM audit WHERE id = (SELECT MAX(id) FROM audit)")) == 1);
        verify = as(Carol, QStringList { QStringLiteral("audit"), QStringLiteral("verify") } + team);
        QVERIFY2(verify.exitCode == 0, verify.err.constData());
        verify = as(Carol, withJournal + team);
        QCOMPARE(verify.exitCode, 7);
        QVERIFY2(verify.json().value(QStringLiteral("problem")).toString().contains(QStringLiteral("gone")),
                 verify.out.constData());
    }
    // Someone with write access edits an approval's comment in the database.
    QCOMPARE(edit(QStringLiteral("UPDATE audit SET detail = 'rubber stamp' WHERE id = (SELECT MIN(id) FROM "
                                 "audit WHERE action = 'approve')")),
             1);
    const Run verify = as(Carol, QStringList { QStringLiteral("audit"), QStringLiteral("verify") } + team);
    QCOMPARE(verify.exitCode, 7);
    QVERIFY2(verify.err.contains("audit trail broken at row"), verify.err.constData());
}

void TestApprovals::credentialsInTheClearAreRefusedBeforeConnecting()
{
    // A listener on an address of this machine that is not loopback: nothing may connect to it.
    QHostAddress external;
    for (const QHostAddress &a : QNetworkInterface::allAddresses())
        if (a.protocol() == QAbstractSocket::IPv4Protocol && !a.isLoopback())
            external = a;
    QTcpServer listener;
    QVERIFY(listener.listen(QHostAddress::AnyIPv4));
    if (external.isNull()) {
        // Nothing to listen on: the refusals are still checked (exit 2, the sentence), against a
        // documentation address (RFC 5737) that nothing answers.
        qWarning("this machine has no IPv4 address other than loopback: 'no connection' is not observed");
        external = QHostAddress(QStringLiteral("192.0.2.1"));
    }
    const QString hostPort = external.toString() + QLatin1Char(':') + QString::number(listener.serverPort());
    const QStringList state = { QStringLiteral("--state-dir"), m_root.filePath(QStringLiteral("refused")) };

    QList<QStringList> refused = {
        // plain LDAP with a password, to a host that is not loopback
        { QStringLiteral("inventory"), QStringLiteral("--ldap-url"), QStringLiteral("ldap://") + hostPort,
          QStringLiteral("--no-tls"), QStringLiteral("--base-dn"), QStringLiteral("dc=example,dc=com"),
          QStringLiteral("--bind-dn"), QStringLiteral("cn=reader"), QStringLiteral("--password-env"),
          QStringLiteral("CERTSYNC_TEST_LDAP_PW"), QStringLiteral("--csv"),
          m_root.filePath(QStringLiteral("x.csv")) },
    };
    // an http:// authority, Graph or Exchange URL that is not loopback
    for (const auto &[option, path] :
         { std::pair { "--authority-url", "/{tenant}" }, std::pair { "--graph-url", "/v1.0" },
           std::pair { "--exchange-url", "/adminapi/beta/{tenant}" } })
        refused.append(QStringList { QStringLiteral("diff"), QLatin1String(option),
                                     QStringLiteral("http://") + hostPort + QLatin1String(path) }
                       + connection(m_root.filePath(QStringLiteral("refused"))).mid(0, 16)
                       + QStringList { QStringLiteral("--tenant-id"), TenantId, QStringLiteral("--client-id"),
                                       ClientId, QStringLiteral("--client-secret-env"),
                                       QStringLiteral("CERTSYNC_TEST_SECRET") }
                       + state);
    for (const QStringList &args : refused) {
        const Run r = as(Bob, args);
        QVERIFY2(r.exitCode == 2,
                 qPrintable(args.join(QLatin1Char(' ')) + QStringLiteral(": ") + QString::fromUtf8(r.err)));
        QVERIFY2(r.err.contains("refusing") && (r.err.contains("StartTLS") || r.err.contains("https://")),
                 r.err.constData());
        QVERIFY(!listener.waitForNewConnection(200));
        QVERIFY(!listener.hasPendingConnections());
    }
    // Loopback stays allowed: plain LDAP to the fixture's loopback slapd.
    const Run local =
        as(Bob,
           { QStringLiteral("inventory"), QStringLiteral("--profile"), QStringLiteral("ldap"),
             QStringLiteral("--ldap-url"), m_dir.value(QStringLiteral("LDAP_URL")),
             QStringLiteral("--no-tls"), QStringLiteral("--base-dn"), m_dir.value(QStringLiteral("BASE_DN")),
             QStringLiteral("--bind-dn"), m_dir.value(QStringLiteral("READER_DN")),
             QStringLiteral("--password-env"), QStringLiteral("CERTSYNC_TEST_LDAP_PW"),
             QStringLiteral("--csv"), m_team + QStringLiteral("/local.csv") });
    QVERIFY2(local.exitCode == 0, local.err.constData());
}

QTEST_GUILESS_MAIN(TestApprovals)
#include "tst_approvals.moc"
