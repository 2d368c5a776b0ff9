// `certsync inventory --csv FILE` as a script runs it, against slapd and Samba AD: the CSV is read back
// and compared with what the seeder planted.
#include "DirectoryFixture.h"
#include "TestPki.h"

#include "directory/LdapConnection.h"
#include "directory/StoredDirectory.h"
#include "report/CsvWriter.h"
#include "store/StateStore.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

using namespace certsync;
using namespace certsync::testing;

namespace {

struct Run
{
    int exitCode = -1;
    QString out;
    QString err;
};

Run runCli(const QStringList &arguments, const QString &password, const QString &configFile = {})
{
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("CERTSYNC_TEST_PASSWORD"), password);
    if (!configFile.isEmpty())
        env.insert(QStringLiteral("CERTSYNC_CONFIG"), configFile);
    env.remove(QStringLiteral("DBUS_SESSION_BUS_ADDRESS")); // never a real keychain from a test
    process.setProcessEnvironment(env);
    process.start(qEnvironmentVariable("CERTSYNC_CLI"), arguments);
    Run run;
    if (!process.waitForFinished(120000))
        return run;
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    if (run.exitCode == -1) // a crash or a sanitizer's abort: its report is on stderr, show it
        qWarning("certsync %s crashed; its stderr:\n%s", qPrintable(arguments.join(QLatin1Char(' '))),
                 qPrintable(run.err));
    return run;
}

QStringList connectionArguments(const DirectoryFixture &f)
{
    return { QStringLiteral("--profile"),      f.value(QStringLiteral("FLAVOUR")),
             QStringLiteral("--ldap-url"),     f.value(QStringLiteral("LDAP_URL")),
             QStringLiteral("--base-dn"),      f.value(QStringLiteral("BASE_DN")),
             QStringLiteral("--bind-dn"),      f.value(QStringLiteral("READER_DN")),
             QStringLiteral("--password-env"), QStringLiteral("CERTSYNC_TEST_PASSWORD"),
             QStringLiteral("--ca-file"),      f.value(QStringLiteral("CA_FILE")),
             QStringLiteral("--trust"),        f.value(QStringLiteral("TRUST_FILE")),
             QStringLiteral("--crl"),          f.value(QStringLiteral("CRL_FILE")) };
}

// `certsync inventory ARGUMENTS --csv CSV`, and the CSV's lines, sorted (none when it was not written).
std::pair<Run, QStringList> runInventory(const QStringList &arguments, const QString &csv,
                                         const QString &password)
{
    const Run run = runCli(arguments + QStringList { QStringLiteral("--csv"), csv }, password);
    QFile file(csv);
    QStringList lines;
    if (file.open(QIODevice::ReadOnly))
        lines = QString::fromUtf8(file.readAll()).split(QStringLiteral("\r\n"), Qt::SkipEmptyParts);
    lines.sort();
    return { run, lines };
}

QString readerDn(const DirectoryFixture &f)
{
    return f.isActiveDirectory() ? QStringLiteral("CN=reader,CN=Users,") + f.value(QStringLiteral("BASE_DN"))
                                 : f.value(QStringLiteral("READER_DN"));
}

QString sha256Hex(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

// A new certificate in the reader account's userCertificate for the life of this object (the suites
// that share the account know it may change; CTest's RESOURCE_LOCK reader_account serialises them).
class ReaderValueAdded
{
public:
    ReaderValueAdded(const DirectoryFixture &f, int keySlot)
        : m_dn(readerDn(f))
        , m_attribute(f.profile().mapping.userCertificate)
    {
        CertSpec spec = goodLeafSpec(QStringLiteral("reader@certsync.test"));
        spec.keySlot = keySlot;
        value = TestPki::selfSigned(spec).der;
        auto admin = directory::LdapConnection::open(f.profile(true), f.password(true));
        if (!admin.ok())
            return;
        m_admin = std::move(*admin);
        added = m_admin->modifyValues(m_dn, m_attribute, {}, { value }).ok();
    }
    ~ReaderValueAdded()
    {
        if (added)
            (void)m_admin->modifyValues(m_dn, m_attribute, { value }, {});
    }
    ReaderValueAdded(const ReaderValueAdded &) = delete;
    ReaderValueAdded &operator=(const ReaderValueAdded &) = delete;

    QByteArray value;
    bool added = false;

private:
    QString m_dn;
    QString m_attribute;
    std::unique_ptr<directory::LdapConnection> m_admin;
};

const QStringList expectedHeader = { QStringLiteral("user_dn"),
                                     QStringLiteral("user_principal_name"),
                                     QStringLiteral("mail"),
                                     QStringLiteral("source_anchor"),
                                     QStringLiteral("attribute"),
                                     QStringLiteral("value_index"),
                                     QStringLiteral("value_kind"),
                                     QStringLiteral("sha256"),
                                     QStringLiteral("subject"),
                                     QStringLiteral("issuer"),
                                     QStringLiteral("serial"),
                                     QStringLiteral("not_before"),
                                     QStringLiteral("not_after"),
                                     QStringLiteral("key"),
                                     QStringLiteral("signature_algorithm"),
                                     QStringLiteral("emails"),
                                     QStringLiteral("status"),
                                     QStringLiteral("problems") };

enum Column {
    Dn,
    Upn,
    Mail,
    Anchor,
    AttributeCol,
    Index,
    Kind,
    Sha,
    Subject,
    Issuer,
    Serial,
    NotBefore,
    NotAfter,
    Key,
    Signature,
    Emails,
    StatusCol,
    Problems
};

} // namespace

class TestInventoryCli : public QObject
{
    Q_OBJECT
private slots:
    void writesTheInventory_data();
    void writesTheInventory();
    void failuresLeaveNoFile();
    void progressOnATerminalOnly();
    void settingsFileWithOptionsOnTop();
    void incrementalInventoryMergesChanges_data();
    void incrementalInventoryMergesChanges();
    void fullReadReusesRowsThatStillHold_data();
    void fullReadReusesRowsThatStillHold();
};

void TestInventoryCli::writesTheInventory_data()
{
    QTest::addColumn<QByteArray>("fixture");
    QTest::newRow("openldap") << QByteArray("CERTSYNC_SLAPD_ENV");
    QTest::newRow("active directory") << QByteArray("CERTSYNC_SAMBA_ENV");
}

void TestInventoryCli::writesTheInventory()
{
    QFETCH(QByteArray, fixture);
    const DirectoryFixture f = DirectoryFixture::fromEnvironment(fixture.constData());
    QVERIFY2(f.error.isEmpty(), qPrintable(f.error));
    QTemporaryDir dir;
    const QString csvPath = dir.filePath(QStringLiteral("inventory.csv"));
    const QString stateDir = dir.filePath(QStringLiteral("state"));

    const Run cold = runCli(QStringList { QStringLiteral("inventory"), QStringLiteral("--csv"), csvPath,
                                          QStringLiteral("--state-dir"), stateDir }
                                + connectionArguments(f),
                            f.password());
    QVERIFY2(cold.exitCode == 0, qPrintable(cold.err));
    QVERIFY2(cold.err.isEmpty(), qPrintable(cold.err)); // no progress noise when stderr is not a terminal
    QVERIFY2(cold.out.contains(QStringLiteral("rows written to ")), qPrintable(cold.out));

    QFile file(csvPath);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray bytes = file.readAll();
    const QByteArray headerLine = expectedHeader.join(QLatin1Char(',')).toUtf8() + QByteArray("\r\n");
    QVERIFY(bytes.startsWith(headerLine));
    const QList<QStringList> rows = report::parseCsv(bytes);
    QCOMPARE(rows.first(), expectedHeader);

    const QRegularExpression time(QStringLiteral("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$"));
    const QRegularExpression hex(QStringLiteral("^[0-9a-f]{64}$"));
    QHash<QString, QStringList> rowsByUser; // dn -> "sha problems"
    QHash<QString, QStringList> mailByUser;
    for (qsizetype i = 1; i < rows.size(); ++i) {
        const QStringList &r = rows.at(i);
        QCOMPARE(r.size(), expectedHeader.size());
        QVERIFY2(hex.match(r.at(Sha)).hasMatch(), qPrintable(r.at(Sha)));
        QVERIFY(QStringList({ QStringLiteral("x509"), QStringLiteral("pkcs7"), QStringLiteral("invalid") })
                    .contains(r.at(Kind)));
        QVERIFY(QStringList({ QStringLiteral("userCertificate"), QStringLiteral("userSMIMECertificate") })
                    .contains(r.at(AttributeCol)));
        if (r.at(Kind) == QLatin1String("invalid")) {
            QCOMPARE(r.at(Problems), QStringLiteral("parse_error"));
            QVERIFY(r.at(Subject).isEmpty());
        } else {
            QVERIFY2(time.match(r.at(NotBefore)).hasMatch(), qPrintable(r.at(NotBefore)));
            QVERIFY2(time.match(r.at(NotAfter)).hasMatch(), qPrintable(r.at(NotAfter)));
            QVERIFY(r.at(Subject).startsWith(QLatin1String("CN=")));
            QVERIFY(!r.at(Key).isEmpty() && !r.at(Signature).isEmpty() && !r.at(Serial).isEmpty());
        }
        QCOMPARE(r.at(StatusCol) == QLatin1String("ok"), r.at(Problems).isEmpty());
        rowsByUser[r.at(Dn).toLower()].append(r.at(Sha) + QLatin1Char(' ') + r.at(Problems));
        mailByUser[r.at(Dn).toLower()].append(r.at(Mail));
        if (f.isActiveDirectory())
            QCOMPARE(QByteArray::fromBase64(r.at(Anchor).toLatin1()).size(), 16);
        else
            QCOMPARE(r.at(Anchor).size(), 36);
    }

    const QJsonArray planted = f.manifest().value(QStringLiteral("users")).toArray();
    int compared = 0;
    for (const QJsonValue &value : planted) {
        const QJsonObject p = value.toObject();
        const QString dn = p.value(QStringLiteral("dn")).toString().toLower();
        QStringList want;
        for (const QJsonValue &v : p.value(QStringLiteral("values")).toArray()) {
            const QJsonObject certificates = v.toObject().value(QStringLiteral("certificates")).toObject();
            for (auto it = certificates.begin(); it != certificates.end(); ++it) {
                QStringList codes;
                for (const QJsonValue &code : it.value().toArray())
                    codes.append(code.toString());
                want.append(it.key() + QLatin1Char(' ') + codes.join(QLatin1Char(';')));
            }
        }
        QStringList got = rowsByUser.value(dn);
        want.sort();
        got.sort();
        if (p.value(QStringLiteral("name")).toString() == QLatin1String("many")) {
            QCOMPARE(got.size(), 17);
            QCOMPARE(got.filter(QStringLiteral("over_limit")).size(), 2);
        } else {
            QCOMPARE(got, want);
        }
        ++compared;
    }
    QVERIFY(compared >= 40);

    // A mail address that a spreadsheet would take for a formula is neutralised, in the raw bytes too.
    const QString dashDn =
        f.manifest()
            .value(QStringLiteral("peopleDn"))
            .toString()
            .prepend(f.isActiveDirectory() ? QStringLiteral("CN=-dash,") : QStringLiteral("uid=-dash,"));
    QCOMPARE(mailByUser.value(dashDn.toLower()), QStringList { QStringLiteral("'-dash@certsync.test") });
    QVERIFY(bytes.contains(",'-dash@certsync.test,"));
    QVERIFY(!bytes.contains(",-dash@certsync.test"));

    // Warm: every value is already analysed in the state database; the CSV must be identical.
    const QString warmPath = dir.filePath(QStringLiteral("warm.csv"));
    const Run warm = runCli(QStringList { QStringLiteral("inventory"), QStringLiteral("--csv"), warmPath,
                                          QStringLiteral("--state-dir"), stateDir }
                                + connectionArguments(f),
                            f.password());
    QVERIFY2(warm.exitCode == 0, qPrintable(warm.err));
    QFile warmFile(warmPath);
    QVERIFY(warmFile.open(QIODevice::ReadOnly));
    // The reader account is not seeded and tst_directory changes its values meanwhile: leave it out.
    auto seededOnly = [](const QByteArray &csv) {
        QList<QByteArray> lines = csv.split('\n');
        lines.removeIf([](const QByteArray &line) {
            return line.startsWith("\"CN=reader,") || line.startsWith("\"uid=reader,");
        });
        return lines;
    };
    QCOMPARE(seededOnly(warmFile.readAll()), seededOnly(bytes));
}

void TestInventoryCli::failuresLeaveNoFile()
{
    const DirectoryFixture f = DirectoryFixture::fromEnvironment("CERTSYNC_SLAPD_ENV");
    QVERIFY2(f.error.isEmpty(), qPrintable(f.error));
    QTemporaryDir dir;
    const QString csvPath = dir.filePath(QStringLiteral("inventory.csv"));
    const Run wrong = runCli(QStringList { QStringLiteral("inventory"), QStringLiteral("--csv"), csvPath }
                                 + connectionArguments(f),
                             QStringLiteral("wrong"));
    QCOMPARE(wrong.exitCode, 1);
    QCOMPARE(wrong.err.count(QLatin1Char('\n')), 1); // one clear line
    QVERIFY2(wrong.err.contains(QStringLiteral("Invalid credentials")), qPrintable(wrong.err));
    QVERIFY(!QFile::exists(csvPath));

    const Run usage = runCli(
        { QStringLiteral("inventory"), QStringLiteral("--ldap-url"), f.value(QStringLiteral("LDAP_URL")) },
        f.password());
    QCOMPARE(usage.exitCode, 2);
    QVERIFY(usage.err.contains(QStringLiteral("--csv FILE is required")));

    const Run noPassword =
        runCli(QStringList { QStringLiteral("inventory"), QStringLiteral("--csv"), csvPath }
                   + connectionArguments(f),
               QString());
    QCOMPARE(noPassword.exitCode, 2);
    QVERIFY(noPassword.err.contains(QStringLiteral("CERTSYNC_TEST_PASSWORD is not set")));
}

// The settings file the console writes is the base; an option given overrides its key. The
// password is never in the file: --password-env, else the keychain (none here: a clear error).
void TestInventoryCli::settingsFileWithOptionsOnTop()
{
    const DirectoryFixture f = DirectoryFixture::fromEnvironment("CERTSYNC_SLAPD_ENV");
    QVERIFY2(f.error.isEmpty(), qPrintable(f.error));
    QTemporaryDir dir;
    const QString ini = dir.filePath(QStringLiteral("certsync.conf"));
    {
        QFile file(ini);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(
            QStringLiteral("version=1\n[directory]\nkind=ldap\nurl=%1\nbaseDn=%2\nbind=simple\nbindDn=%3\n"
                           "caFile=%4\n[trust]\nbundles=%5\ncrls=%6\n")
                .arg(f.value(QStringLiteral("LDAP_URL")), f.value(QStringLiteral("BASE_DN")),
                     f.value(QStringLiteral("READER_DN")), f.value(QStringLiteral("CA_FILE")),
                     f.value(QStringLiteral("TRUST_FILE")), f.value(QStringLiteral("CRL_FILE")))
                .toUtf8());
    }
    const QString csvPath = dir.filePath(QStringLiteral("inventory.csv"));
    const QStringList base = { QStringLiteral("inventory"), QStringLiteral("--csv"), csvPath,
                               QStringLiteral("--password-env"), QStringLiteral("CERTSYNC_TEST_PASSWORD") };
    auto dataRows = [&] {
        QFile csv(csvPath);
        return csv.open(QIODevice::ReadOnly) ? csv.readAll().count('\n') - 1 : -1;
    };

    // --settings FILE, and CERTSYNC_CONFIG: the same inventory as with every option spelled out.
    const Run fromFile = runCli(base + QStringList { QStringLiteral("--settings"), ini }, f.password());
    QVERIFY2(fromFile.exitCode == 0, qPrintable(fromFile.err));
    const qint64 all = dataRows();
    QVERIFY2(all > 20, qPrintable(QString::number(all)));
    QVERIFY2(!fromFile.err.contains(QStringLiteral("no --trust")),
             qPrintable(fromFile.err)); // trust from the file
    QVERIFY(QFile::remove(csvPath));
    const Run fromEnvironment = runCli(base, f.password(), ini);
    QVERIFY2(fromEnvironment.exitCode == 0, qPrintable(fromEnvironment.err));
    QCOMPARE(dataRows(), all);

    // An option overrides its key: a filter that matches nobody, then a base DN that does not exist.
    const Run filtered =
        runCli(base + QStringList { QStringLiteral("--filter"), QStringLiteral("(uid=nobody-at-all)") },
               f.password(), ini);
    QVERIFY2(filtered.exitCode == 0, qPrintable(filtered.err));
    QCOMPARE(dataRows(), 0);
    const Run elsewhere =
        runCli(base
                   + QStringList { QStringLiteral("--base-dn"),
                                   QStringLiteral("ou=nowhere,") + f.value(QStringLiteral("BASE_DN")) },
               f.password(), ini);
    QCOMPARE(elsewhere.exitCode, 1);
    QVERIFY2(elsewhere.err.contains(QStringLiteral("No such object")), qPrintable(elsewhere.err));

    // No password option: the keychain is asked, and there is none here.
    const Run noKeychain =
        runCli({ QStringLiteral("inventory"), QStringLiteral("--csv"), csvPath }, f.password(), ini);
    QCOMPARE(noKeychain.exitCode, 2);
    QVERIFY2(noKeychain.err.contains(QStringLiteral("needs --password-env VAR")), qPrintable(noKeychain.err));
    QVERIFY2(noKeychain.err.contains(QStringLiteral("no OS keychain is available")),
             qPrintable(noKeychain.err));

    const Run missing =
        runCli(base + QStringList { QStringLiteral("--settings"), dir.filePath(QStringLiteral("none.conf")) },
               f.password());
    QCOMPARE(missing.exitCode, 2);
    QVERIFY2(missing.err.contains(QStringLiteral("none.conf does not exist")), qPrintable(missing.err));
}

// Progress goes to stderr when stderr is a terminal: the child's stderr is the slave side of a
// pseudo-terminal made here, and the test reads the master side. On a pipe it stays quiet.
void TestInventoryCli::progressOnATerminalOnly()
{
    const DirectoryFixture f = DirectoryFixture::fromEnvironment("CERTSYNC_SLAPD_ENV");
    QVERIFY2(f.error.isEmpty(), qPrintable(f.error));
    QTemporaryDir dir;
    const QStringList arguments = QStringList { QStringLiteral("inventory"), QStringLiteral("--csv"),
                                                dir.filePath(QStringLiteral("tty.csv")),
                                                QStringLiteral("--page-size"), QStringLiteral("5") }
        + connectionArguments(f);

    const int master = posix_openpt(O_RDWR | O_NOCTTY);
    QVERIFY(master >= 0);
    const auto closeMaster = qScopeGuard([master] { ::close(master); });
    QVERIFY(grantpt(master) == 0 && unlockpt(master) == 0);
    const QString slave = QString::fromLocal8Bit(ptsname(master));
    QVERIFY(slave.startsWith(QStringLiteral("/dev/pts/")));

    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("CERTSYNC_TEST_PASSWORD"), f.password());
    process.setProcessEnvironment(env);
    process.setStandardErrorFile(slave); // opened by QProcess for the child: a terminal
    process.start(qEnvironmentVariable("CERTSYNC_CLI"), arguments);
    QByteArray terminal;
    auto drain = [&terminal, master](int waitMs) {
        pollfd p { master, POLLIN, 0 };
        if (::poll(&p, 1, waitMs) <= 0 || !(p.revents & POLLIN))
            return false;
        char buffer[4096];
        const ssize_t n = ::read(master, buffer, sizeof buffer);
        if (n > 0)
            terminal.append(buffer, n);
        return n > 0;
    };
    // Drain the master while the child runs (a full pseudo-terminal would block it), then the rest.
    QElapsedTimer clock;
    clock.start();
    while (process.state() != QProcess::NotRunning && clock.elapsed() < 120000) {
        drain(100);
        process.waitForFinished(50);
    }
    while (drain(200)) { }
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 0);
    QVERIFY2(terminal.contains("\rcertsync inventory: ") && terminal.contains(" users read"),
             terminal.constData());
    const QString out = QString::fromUtf8(process.readAllStandardOutput());
    QVERIFY2(!out.contains(QStringLiteral("users read")), qPrintable(out)); // progress is not output
    QVERIFY2(out.contains(QStringLiteral("rows written to ")), qPrintable(out));

    // The same run with stderr on a pipe: not a byte of progress.
    const Run piped = runCli(arguments, f.password());
    QCOMPARE(piped.exitCode, 0);
    QVERIFY2(piped.err.isEmpty(), qPrintable(piped.err));
}

void TestInventoryCli::incrementalInventoryMergesChanges_data()
{
    writesTheInventory_data();
}

// With a state database, a second run reads only what changed since the first and merges it into
// the stored snapshot: the inventory then equals a full read's. A changed filter, a lost mark and
// (on AD) another domain controller mean a full read, and the output says why.
void TestInventoryCli::incrementalInventoryMergesChanges()
{
    QFETCH(QByteArray, fixture);
    const DirectoryFixture f = DirectoryFixture::fromEnvironment(fixture.constData());
    QVERIFY2(f.error.isEmpty(), qPrintable(f.error));
    QTemporaryDir dir;
    const QString stateDir = dir.filePath(QStringLiteral("state"));
    const QStringList base =
        QStringList { QStringLiteral("inventory"), QStringLiteral("--state-dir"), stateDir }
        + connectionArguments(f);
    auto inventory = [&](const QString &name, const QStringList &extra = {}) {
        return runInventory(base + extra, dir.filePath(name), f.password());
    };

    // The state database's own account of how it is written (StateStore::beginWritingAlone).
    const QByteArray rules = qgetenv("QT_LOGGING_RULES");
    const auto storeDebug = [&rules](bool on) {
        const QByteArray debug("certsync.store.debug=true");
        if (on)
            qputenv("QT_LOGGING_RULES", rules.isEmpty() ? debug : QByteArray(rules + ';' + debug));
        else if (rules.isEmpty())
            qunsetenv("QT_LOGGING_RULES");
        else
            qputenv("QT_LOGGING_RULES", rules);
    };
    auto noDebug = qScopeGuard([&storeDebug] { storeDebug(false); });
    const QString writtenOnce = QStringLiteral("written with a rollback journal");

    storeDebug(true);
    const auto [first, firstRows] = inventory(QStringLiteral("first.csv"));
    storeDebug(false);
    QVERIFY2(first.exitCode == 0, qPrintable(first.err));
    QVERIFY2(first.out.contains(QStringLiteral("full read: no stored snapshot")), qPrintable(first.out));
    // The first read into an empty state folder writes each page once, not through the WAL.
    QVERIFY2(first.err.contains(writtenOnce), qPrintable(first.err));

    // One change: a value added to the reader account.
    const ReaderValueAdded change(f, 42);
    QVERIFY(change.added);
    const QString sha = sha256Hex(change.value);

    const auto [second, secondRows] = inventory(QStringLiteral("incremental.csv"));
    QVERIFY2(second.exitCode == 0, qPrintable(second.err));
    QVERIFY2(second.err.isEmpty(), qPrintable(second.err));
    QVERIFY2(
        second.out.contains(QStringLiteral("incremental read of changes since the last read; deleted users "
                                           "are found by the next full read")),
        qPrintable(second.out));
    QVERIFY2(second.out.contains(QStringLiteral(": 1 changed users merged into the stored snapshot")),
             qPrintable(second.out));
    QCOMPARE(secondRows.size(), firstRows.size() + 1);
    QCOMPARE(secondRows.filter(sha).size(), 1);
    QVERIFY(firstRows.filter(sha).isEmpty());

    // The merged inventory is the one a full read gives.
    const auto [full, fullRows] = inventory(QStringLiteral("full.csv"), { QStringLiteral("--full") });
    QVERIFY2(full.exitCode == 0, qPrintable(full.err));
    QVERIFY2(full.out.contains(QStringLiteral("full read (--full)")), qPrintable(full.out));
    QCOMPARE(secondRows, fullRows);

    // Nothing changed since: an incremental run reads no user and writes the same inventory.
    const auto [quiet, quietRows] = inventory(QStringLiteral("quiet.csv"));
    QVERIFY2(quiet.out.contains(QStringLiteral(": 0 changed users merged")), qPrintable(quiet.out));
    QCOMPARE(quietRows, fullRows);

    // Another filter: nothing is stored for it, so a full read.
    const QString filter = QStringLiteral("(&%1(objectClass=*))").arg(f.profile().effectiveFilter());
    storeDebug(true);
    const auto [filtered, filteredRows] =
        inventory(QStringLiteral("filtered.csv"), { QStringLiteral("--filter"), filter });
    storeDebug(false);
    // A database that already exists (and holds users) stays in WAL mode: others may be reading it.
    QVERIFY2(!filtered.err.contains(writtenOnce), qPrintable(filtered.err));
    QVERIFY2(filtered.out.contains(QStringLiteral("full read: no stored snapshot")),
             qPrintable(filtered.out));
    QCOMPARE(filteredRows, fullRows);

    // The stored mark, as the default filter's runs left it: lost, then (AD) from another DC.
    const QString key = directory::storedDirectoryKey(f.profile());
    {
        auto state = store::StateStore::open(QDir(stateDir).filePath(QStringLiteral("certsync.db")));
        QVERIFY(state.ok());
        // The snapshot holds what the console's users table shows of every stored user (its start
        // reads nothing else), the changed user's with the certificate the incremental read met.
        const directory::StoredDirectory stored(**state, f.profile());
        QVERIFY(stored.summariesComplete());
        qint64 summaries = 0;
        bool changedSeen = false;
        QVERIFY(stored
                    .forEachSummary([&](directory::UserSummary &&summary) {
                        ++summaries;
                        changedSeen |= summary.sha256.contains(QByteArray::fromHex(sha.toLatin1()));
                        return true;
                    })
                    .ok());
        QVERIFY(summaries > 0);
        QVERIFY(changedSeen);
        const directory::ReadMark mark = directory::ReadMark::fromJson((*state)->mark(key));
        QVERIFY2(mark.isValid(), qPrintable(key));
        if (f.isActiveDirectory()) {
            directory::ReadMark otherDc = mark;
            otherDc.dcIdentity = QStringLiteral("CN=NTDS Settings,CN=OTHER-DC|00");
            QVERIFY((*state)->saveMark(key, otherDc.toJson()).ok());
        } else {
            QVERIFY((*state)->saveMark(key, "{}").ok());
        }
    }
    const auto [again, againRows] = inventory(QStringLiteral("again.csv"));
    QVERIFY2(again.exitCode == 0, qPrintable(again.err));
    QVERIFY2(again.out.contains(
                 f.isActiveDirectory()
                     ? QStringLiteral("full read: the stored mark is from another domain controller")
                     : QStringLiteral("full read: the stored read mark is unusable")),
             qPrintable(again.out));
    QCOMPARE(againRows, fullRows);
}

void TestInventoryCli::fullReadReusesRowsThatStillHold_data()
{
    writesTheInventory_data();
}

// A full read writes the stored rows of every user whose entry is unchanged since the stored snapshot,
// as long as their verdicts hold: the same trust, CRLs and policy, and no certificate's validity step
// (expiry, its warning, not-before) passed since. Proved by planting rows in the state database: the
// planted rows of a user whose report holds come out; those of a user whose report has run out, or
// of every user under other trust, do not, and the inventory is then the one a run without a state
// database writes.
void TestInventoryCli::fullReadReusesRowsThatStillHold()
{
    QFETCH(QByteArray, fixture);
    const DirectoryFixture f = DirectoryFixture::fromEnvironment(fixture.constData());
    QVERIFY2(f.error.isEmpty(), qPrintable(f.error));
    QTemporaryDir dir;
    const QString stateDir = dir.filePath(QStringLiteral("state"));
    const QStringList withCrl = connectionArguments(f);
    enum class State { None, Full, Incremental };
    auto inventory = [&](const QString &name, const QStringList &connection = {}, State state = State::Full) {
        QStringList arguments =
            QStringList { QStringLiteral("inventory") } + (connection.isEmpty() ? withCrl : connection);
        if (state != State::None)
            arguments << QStringLiteral("--state-dir") << stateDir;
        if (state == State::Full)
            arguments << QStringLiteral("--full");
        return runInventory(arguments, dir.filePath(name), f.password());
    };
    const auto [first, firstRows] = inventory(QStringLiteral("first.csv"));
    QVERIFY2(first.exitCode == 0, qPrintable(first.err));
    const QRegularExpressionMatch counted =
        QRegularExpression(QStringLiteral(": (\\d+) users, ")).match(first.out);
    QVERIFY2(counted.hasMatch(), qPrintable(first.out));
    const qint64 users = counted.captured(1).toLongLong();
    QVERIFY(users > 5);
    auto reusedNote = [](qint64 reused, qint64 of) {
        return QStringLiteral(
                   ": %1 of %2 users unchanged since the stored snapshot: their rows reused as stored")
            .arg(reused)
            .arg(of);
    };

    const auto [second, secondRows] = inventory(QStringLiteral("second.csv"));
    QVERIFY2(second.exitCode == 0, qPrintable(second.err));
    QVERIFY2(second.out.contains(reusedNote(users, users)), qPrintable(second.out));
    QCOMPARE(secondRows, firstRows);

    // Two users (not the reader account, which changes below) get planted rows in the state database.
    const QString key = directory::storedDirectoryKey(f.profile());
    auto state = store::StateStore::open(QDir(stateDir).filePath(QStringLiteral("certsync.db")));
    QVERIFY(state.ok());
    QStringList chosen; // their DNs, as the CSV has them
    QHash<QString, QString> rowKeys; // DN -> the row's key (the source anchor)
    {
        QSqlQuery q((*state)->database());
        q.prepare(QStringLiteral("SELECT dn, data FROM directory_users WHERE source = (SELECT id FROM "
                                 "sources WHERE key = ?) AND report IS NOT "
                                 "NULL AND length(report_csv) > 0 ORDER BY seq"));
        q.addBindValue(key);
        QVERIFY2(q.exec(), qPrintable(q.lastError().text()));
        while (q.next() && chosen.size() < 2) {
            const auto user = directory::decodeStoredUser(q.value(1).toByteArray());
            QVERIFY(user);
            QCOMPARE(q.value(0).toString(), directory::storedRowKey(*user));
            if (user->dn.compare(readerDn(f), Qt::CaseInsensitive) == 0)
                continue;
            chosen << user->dn;
            rowKeys.insert(user->dn, q.value(0).toString());
        }
        QCOMPARE(chosen.size(), 2);
    }
    // Replaces a user's stored rows by planted ones (as many), and makes its report run out or not.
    auto plant = [&](const QString &dn, const QString &text, bool ranOut) {
        QSqlQuery q((*state)->database());
        q.prepare(QStringLiteral("SELECT report, report_csv FROM directory_users WHERE source = (SELECT id "
                                 "FROM sources WHERE key = ?) AND dn = ?"));
        q.addBindValue(key);
        q.addBindValue(rowKeys.value(dn));
        if (!q.exec() || !q.next())
            return false;
        auto report = directory::UserReport::decode(q.value(0).toByteArray(), q.value(1).toByteArray());
        if (!report)
            return false;
        report->csv.clear();
        for (qint64 row = 0; row < report->rows; ++row)
            report->csv += text.toUtf8() + "\r\n";
        if (ranOut)
            report->until = QDateTime::currentDateTimeUtc().addSecs(-3600).toMSecsSinceEpoch();
        q.prepare(QStringLiteral("UPDATE directory_users SET report = ?, report_csv = ? WHERE source = "
                                 "(SELECT id FROM sources WHERE key = ?) AND dn = ?"));
        q.addBindValue(report->encode());
        q.addBindValue(report->csv);
        q.addBindValue(key);
        q.addBindValue(rowKeys.value(dn));
        return q.exec() && q.numRowsAffected() == 1;
    };
    const QString holds = QStringLiteral("planted row that holds");
    const QString ranOut = QStringLiteral("planted row that ran out");
    const auto without = [](QStringList rows, const QString &text) {
        rows.removeIf([&text](const QString &row) { return row.contains(text, Qt::CaseInsensitive); });
        return rows;
    };
    // The first user's rows as the inventory writes them, less its own (planted in their place).
    const QStringList othersRows = without(firstRows, chosen.at(0));
    QVERIFY(othersRows.size() < firstRows.size());

    // A full read: the report that holds is reused, found by its row key after a move (not at its
    // place); the one that ran out is made again.
    QVERIFY(plant(chosen.at(0), holds, false));
    QVERIFY(plant(chosen.at(1), ranOut, true));
    {
        QSqlQuery q((*state)->database());
        q.prepare(QStringLiteral("UPDATE directory_users SET seq = 100000 WHERE source = (SELECT id FROM "
                                 "sources WHERE key = ?) AND dn = ?"));
        q.addBindValue(key);
        q.addBindValue(rowKeys.value(chosen.at(0)));
        QVERIFY(q.exec() && q.numRowsAffected() == 1);
    }
    const auto [third, thirdRows] = inventory(QStringLiteral("third.csv"));
    QVERIFY2(third.exitCode == 0, qPrintable(third.err));
    QVERIFY2(third.out.contains(reusedNote(users - 1, users)), qPrintable(third.out));
    QVERIFY2(!thirdRows.filter(holds).isEmpty(), "the report that holds is reused as stored");
    QVERIFY2(thirdRows.filter(ranOut).isEmpty(), "the report that ran out is made again");
    QCOMPARE(without(thirdRows, holds), othersRows);

    // The incremental run's merge, the same way.
    QVERIFY(plant(chosen.at(1), ranOut, true));
    const auto [merged, mergedRows] = inventory(QStringLiteral("merged.csv"), {}, State::Incremental);
    QVERIFY2(merged.exitCode == 0, qPrintable(merged.err));
    QVERIFY2(merged.out.contains(QStringLiteral("the rows of %1 reused as stored").arg(users - 1)),
             qPrintable(merged.out));
    QVERIFY(!mergedRows.filter(holds).isEmpty());
    QVERIFY(mergedRows.filter(ranOut).isEmpty());
    QCOMPARE(without(mergedRows, holds), othersRows);

    // A changed entry is judged again on a full read: a value added to the reader account.
    const ReaderValueAdded change(f, 43);
    QVERIFY(change.added);
    const auto [changed, changedRows] = inventory(QStringLiteral("changed.csv"));
    QVERIFY2(changed.exitCode == 0, qPrintable(changed.err));
    // Not reused: the reader, and the user whose report ran out (a merge does not store what it made).
    QVERIFY2(changed.out.contains(reusedNote(users - 2, users)), qPrintable(changed.out));
    const auto [fresh, freshRows] = inventory(QStringLiteral("fresh.csv"), {}, State::None);
    QVERIFY2(fresh.exitCode == 0, qPrintable(fresh.err));
    QCOMPARE(without(changedRows, holds), without(freshRows, chosen.at(0)));
    QCOMPARE(freshRows.filter(sha256Hex(change.value)).size(), 1);

    // Other trust (no CRL): nothing stored holds, and the inventory is a stateless run's.
    const QStringList noCrl = withCrl.mid(0, withCrl.size() - 2);
    QCOMPARE(withCrl.at(noCrl.size()), QStringLiteral("--crl"));
    const auto [other, otherRows] = inventory(QStringLiteral("other.csv"), noCrl);
    QVERIFY2(other.exitCode == 0, qPrintable(other.err));
    QVERIFY2(other.out.contains(reusedNote(0, users)), qPrintable(other.out));
    const auto [stateless, statelessRows] = inventory(QStringLiteral("stateless.csv"), noCrl, State::None);
    QVERIFY2(stateless.exitCode == 0, qPrintable(stateless.err));
    QCOMPARE(otherRows, statelessRows);
    QVERIFY(otherRows.filter(QStringLiteral("planted row")).isEmpty());
    QVERIFY(otherRows != freshRows); // without the CRL, the revoked certificates are not revoked
}

QTEST_GUILESS_MAIN(TestInventoryCli)
#include "tst_inventory_cli.moc"
