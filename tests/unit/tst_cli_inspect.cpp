// `certsync inspect` and the command line's contract (exit codes, one-line errors), run as a
// separate process exactly as a person or a script runs it.
#include "TestPki.h"

#include <QCryptographicHash>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace certsync::testing;

class TestCliInspect : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void trustedCertificate();
    void problemsAreListed();
    void outlookFixture();
    void garbageFailsWithOneLine();
    void usageErrors_data();
    void usageErrors();
    void version();
    void commandHelpNamesTheCommand();

private:
    struct Run
    {
        int exitCode;
        QString out;
        QString err;
    };
    Run certsync(const QStringList &arguments);
    QTemporaryDir m_dir;
    QString m_bundle;
};

TestCliInspect::Run TestCliInspect::certsync(const QStringList &arguments)
{
    QProcess process;
    process.start(QStringLiteral(CERTSYNC_BINARY), arguments);
    if (!process.waitForFinished(30000))
        return { -1, {}, QStringLiteral("did not finish") };
    return { process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2,
             QString::fromUtf8(process.readAllStandardOutput()),
             QString::fromUtf8(process.readAllStandardError()) };
}

void TestCliInspect::initTestCase()
{
    QVERIFY(m_dir.isValid());
    const StandardPki &pki = StandardPki::instance();
    m_bundle = m_dir.filePath(QStringLiteral("trust.pem"));
    QVERIFY(TestPki::writeFile(m_bundle, TestPki::pemOf({ &pki.root, &pki.intermediate })));
}

void TestCliInspect::trustedCertificate()
{
    CertSpec spec = goodLeafSpec(QStringLiteral("ivy@example.test"));
    spec.serial = 0xC0FFEE;
    const Issued leaf = TestPki::issue(spec, StandardPki::instance().intermediate);
    const QString file = m_dir.filePath(QStringLiteral("ivy.cer"));
    QVERIFY(TestPki::writeFile(file, leaf.der));
    const Run run = certsync({ QStringLiteral("inspect"), QStringLiteral("--trust"), m_bundle,
                               QStringLiteral("--mail"), QStringLiteral("ivy@example.test"), file });
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.err, QString());
    QVERIFY2(run.out.contains(QStringLiteral("serial:             C0FFEE")), qPrintable(run.out));
    QVERIFY(run.out.contains(QStringLiteral("e-mail:             ivy@example.test")));
    QVERIFY(run.out.contains(QStringLiteral("chain:              trusted")));
    QVERIFY(run.out.contains(QStringLiteral("[trust anchor]")));
    QVERIFY(run.out.contains(QStringLiteral("status:             ok")));
    QVERIFY(run.out.contains(
        QStringLiteral("SHA-256:            ")
        + QString::fromLatin1(QCryptographicHash::hash(leaf.der, QCryptographicHash::Sha256).toHex())));
}

void TestCliInspect::problemsAreListed()
{
    CertSpec spec = goodLeafSpec(QStringLiteral("jay@example.test"), KeyKind::Rsa1024);
    spec.notBeforeDays = -100;
    spec.notAfterDays = -1;
    const QString file = m_dir.filePath(QStringLiteral("jay.pem"));
    QVERIFY(TestPki::writeFile(file, TestPki::issue(spec, StandardPki::instance().intermediate).pem()));
    // Without --trust nothing is an anchor: the chain is incomplete, and the command still succeeds
    // (it reports; it does not fail on a bad certificate).
    const Run run = certsync({ QStringLiteral("inspect"), file });
    QCOMPARE(run.exitCode, 0);
    QVERIFY2(run.out.contains(QStringLiteral("status:             error")), qPrintable(run.out));
    QVERIFY(run.out.contains(QStringLiteral("- expired: The certificate has expired")));
    QVERIFY(run.out.contains(QStringLiteral("- weak_key:")));
    QVERIFY(run.out.contains(QStringLiteral("- chain_incomplete:")));
}

void TestCliInspect::outlookFixture()
{
    const QString fixtures = QStringLiteral(CERTSYNC_FIXTURES);
    const Run run = certsync({ QStringLiteral("inspect"), QStringLiteral("--trust"),
                               fixtures + QStringLiteral("/outlook-gal-root.pem"),
                               fixtures + QStringLiteral("/outlook-gal.p7b") });
    QCOMPARE(run.exitCode, 0);
    QVERIFY2(run.out.contains(QStringLiteral("pkcs7")), qPrintable(run.out));
    QVERIFY(run.out.contains(QStringLiteral("signed, user's certificate chosen by signer")));
    QVERIFY(run.out.contains(QStringLiteral("S/MIME capabilities:")));
    QVERIFY(run.out.contains(QStringLiteral("aes-256-cbc (2.16.840.1.101.3.4.1.42)")));
    QVERIFY(run.out.contains(QStringLiteral("certificate 3 of 3")));
    QVERIFY(run.out.contains(QStringLiteral("(the user's)")));
    QVERIFY(run.out.contains(QStringLiteral("(issuing CA)")));
    QVERIFY(run.out.contains(QStringLiteral("chain:              trusted")));
}

void TestCliInspect::garbageFailsWithOneLine()
{
    const QString file = m_dir.filePath(QStringLiteral("garbage.bin"));
    QVERIFY(TestPki::writeFile(file, QByteArray("\x30\x03\x02\x01\x05", 5)));
    const Run run = certsync({ QStringLiteral("inspect"), file });
    QCOMPARE(run.exitCode, 1);
    QCOMPARE(run.err.count(QLatin1Char('\n')), 1);
    QVERIFY2(
        run.err.startsWith(QStringLiteral("certsync inspect: ") + file + QStringLiteral(": neither PKCS#7")),
        qPrintable(run.err));

    const Run missing = certsync({ QStringLiteral("inspect"), m_dir.filePath(QStringLiteral("absent.cer")) });
    QCOMPARE(missing.exitCode, 1);
    QVERIFY2(missing.err.contains(QStringLiteral("cannot read")), qPrintable(missing.err));

    const Run badTrust = certsync({ QStringLiteral("inspect"), QStringLiteral("--trust"), file, file });
    QCOMPARE(badTrust.exitCode, 1);
    QVERIFY2(badTrust.err.contains(QStringLiteral("garbage.bin")), qPrintable(badTrust.err));
}

void TestCliInspect::usageErrors_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");
    QTest::newRow("no file") << QStringList { QStringLiteral("inspect") }
                             << QStringLiteral("name at least one file");
    QTest::newRow("unknown option") << QStringList { QStringLiteral("inspect"),
                                                     QStringLiteral("--frobnicate"), QStringLiteral("x") }
                                    << QStringLiteral("Unknown option 'frobnicate'");
    QTest::newRow("bad days") << QStringList { QStringLiteral("inspect"), QStringLiteral("--warning-days"),
                                               QStringLiteral("soon"), QStringLiteral("x") }
                              << QStringLiteral("--warning-days takes a whole number");
    QTest::newRow("unknown command") << QStringList { QStringLiteral("frobnicate") }
                                     << QStringLiteral("unknown command 'frobnicate'");
}

void TestCliInspect::usageErrors()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);
    const Run run = certsync(arguments);
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains(message), qPrintable(run.err));
}

void TestCliInspect::version()
{
    const Run run = certsync({ QStringLiteral("--version") });
    QCOMPARE(run.exitCode, 0);
    QVERIFY2(run.out.startsWith(QStringLiteral("certsync ")), qPrintable(run.out));
    QVERIFY(run.out.contains(QStringLiteral("OpenSSL 3.")));
    QVERIFY(run.out.contains(QStringLiteral("Qt 6.")));
    QVERIFY(run.out.contains(QStringLiteral("OpenLDAP 2.")));
}

// `certsync COMMAND --help` shows the command in its usage line, not the path the binary ran as.
void TestCliInspect::commandHelpNamesTheCommand()
{
    for (const char *command : { "inspect", "inventory", "diff", "publish" }) {
        const Run run = certsync({ QString::fromLatin1(command), QStringLiteral("--help") });
        QCOMPARE(run.exitCode, 0);
        const QString firstLine = run.out.section(QLatin1Char('\n'), 0, 0);
        QVERIFY2(
            firstLine.startsWith(QStringLiteral("Usage: certsync %1 [options]").arg(QLatin1String(command))),
            qPrintable(firstLine));
    }
}

QTEST_GUILESS_MAIN(TestCliInspect)
#include "tst_cli_inspect.moc"
