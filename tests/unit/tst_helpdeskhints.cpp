// The helpdesk's Outlook-selection warning says in words what the engine's StaleSmime rule finds:
// one rule, two presentations (the diff's warning and the certificate pane's banner).
#include "EngineTestData.h"
#include "models/HelpdeskHints.h"

#include <QTest>

using namespace certsync;
using namespace certsync::testing;

class TestHelpdeskHints : public QObject
{
    Q_OBJECT
private slots:
    void outlookSelection_data();
    void outlookSelection();
};

void TestHelpdeskHints::outlookSelection_data()
{
    QTest::addColumn<QList<CertSpec>>("userCertificate");
    QTest::addColumn<QList<CertSpec>>("userSmime");
    QTest::addColumn<QString>("expected"); // a fragment of the warning; empty: no warning
    QTest::newRow("older userSMIMECertificate is what Outlook takes")
        << QList<CertSpec> { { QStringLiteral("new"), 300 } }
        << QList<CertSpec> { { QStringLiteral("old"), 20 } }
        << QStringLiteral("valid until %1), not to the newer one in userCertificate (valid until %2)")
               .arg(EngineNow.addDays(20).date().toString(Qt::ISODate),
                    EngineNow.addDays(300).date().toString(Qt::ISODate));
    QTest::newRow("the same certificate in both")
        << QList<CertSpec> { { QStringLiteral("a"), 300, {}, QStringLiteral("same") } }
        << QList<CertSpec> { { QStringLiteral("b"), 300, {}, QStringLiteral("same") } } << QString();
    QTest::newRow("userSMIMECertificate is the newer one")
        << QList<CertSpec> { { QStringLiteral("a"), 20 } } << QList<CertSpec> { { QStringLiteral("b"), 300 } }
        << QString();
    // DOMAIN.md: Outlook takes userSMIMECertificate whenever it holds a certificate, usable or not.
    QTest::newRow("expired userSMIMECertificate: Outlook takes it anyway")
        << QList<CertSpec> { { QStringLiteral("a"), 300 } } << QList<CertSpec> { { QStringLiteral("b"), -1 } }
        << QStringLiteral("which cannot be encrypted to, and does not fall back");
    QTest::newRow("revoked userSMIMECertificate: Outlook takes it anyway")
        << QList<CertSpec> { { QStringLiteral("a"), 300 } }
        << QList<CertSpec> { { QStringLiteral("b"), 20, { certs::Problem::Revoked } } }
        << QStringLiteral("which cannot be encrypted to, and does not fall back");
    QTest::newRow("unusable userSMIMECertificate is still taken")
        << QList<CertSpec> { { QStringLiteral("a"), 300 } }
        << QList<CertSpec> { { QStringLiteral("b"), 20, { certs::Problem::NoEmailProtection } } }
        << QStringLiteral("Republish userSMIMECertificate");
    QTest::newRow("the newer userCertificate is unusable")
        << QList<CertSpec> { { QStringLiteral("a"), 300, { certs::Problem::KeyUsage } } }
        << QList<CertSpec> { { QStringLiteral("b"), 20 } } << QString();
    QTest::newRow("no userSMIMECertificate at all")
        << QList<CertSpec> { { QStringLiteral("a"), 300 } } << QList<CertSpec> {} << QString();
}

void TestHelpdeskHints::outlookSelection()
{
    QFETCH(QList<CertSpec>, userCertificate);
    QFETCH(QList<CertSpec>, userSmime);
    QFETCH(QString, expected);
    const directory::DirectoryUser u = directoryUser(QStringLiteral("frank"), userCertificate, userSmime);
    const QString warning = models::outlookSelectionWarning(u.values);
    if (expected.isEmpty()) {
        QVERIFY2(warning.isEmpty(), qPrintable(warning));
        QVERIFY(!engine::staleSmimeSelection(u.values));
        return;
    }
    QVERIFY2(warning.contains(expected), qPrintable(warning));
    QVERIFY(engine::staleSmimeSelection(u.values));
}

QTEST_GUILESS_MAIN(TestHelpdeskHints)
#include "tst_helpdeskhints.moc"
