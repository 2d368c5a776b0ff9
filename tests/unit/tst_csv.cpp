// The CSV writer: RFC 4180 quoting, formula neutralisation, and the inventory's rows.
#include "TestPki.h"

#include "certs/TrustStore.h"
#include "report/CsvWriter.h"
#include "report/InventoryCsv.h"

#include <QBuffer>
#include <QCryptographicHash>
#include <QDir>
#include <QTest>
#include <QTimeZone>

using namespace certsync;
using namespace certsync::report;
using namespace certsync::testing;

class TestCsv : public QObject
{
    Q_OBJECT
private slots:
    void escapes_data();
    void escapes();
    void roundTrips();
    void inventoryRows();
};

void TestCsv::escapes_data()
{
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("expected");
    QTest::newRow("plain") << QStringLiteral("alice@example.test") << QStringLiteral("alice@example.test");
    QTest::newRow("empty") << QString() << QString();
    QTest::newRow("comma") << QStringLiteral("CN=a,O=b") << QStringLiteral("\"CN=a,O=b\"");
    QTest::newRow("quote") << QStringLiteral("say \"hi\"") << QStringLiteral("\"say \"\"hi\"\"\"");
    QTest::newRow("newline") << QStringLiteral("a\nb") << QStringLiteral("\"a\nb\"");
    QTest::newRow("formula =") << QStringLiteral("=HYPERLINK(\"x\")")
                               << QStringLiteral("\"'=HYPERLINK(\"\"x\"\")\"");
    QTest::newRow("formula +") << QStringLiteral("+1") << QStringLiteral("'+1");
    QTest::newRow("formula -") << QStringLiteral("-dash@x") << QStringLiteral("'-dash@x");
    QTest::newRow("formula @") << QStringLiteral("@SUM(A1)") << QStringLiteral("'@SUM(A1)");
    QTest::newRow("tab") << QStringLiteral("\tx") << QStringLiteral("'\tx");
    QTest::newRow("carriage return") << QStringLiteral("\rx") << QStringLiteral("\"'\rx\"");
    QTest::newRow("inner =") << QStringLiteral("a=b") << QStringLiteral("a=b");
    QTest::newRow("utf-8") << QStringLiteral("Ærøskøbing") << QStringLiteral("Ærøskøbing");
}

void TestCsv::escapes()
{
    QFETCH(QString, field);
    QFETCH(QString, expected);
    QCOMPARE(CsvWriter::escape(field), expected);
    // The row builder (the inventory's fast path) writes the same bytes.
    QByteArray row;
    CsvWriter::appendField(row, field, true);
    CsvWriter::appendField(row, field);
    QCOMPARE(row, (expected + QLatin1Char(',') + expected).toUtf8());
}

void TestCsv::roundTrips()
{
    const QList<QStringList> rows = { { QStringLiteral("a"), QStringLiteral("b,c"), QString() },
                                      { QStringLiteral("multi\r\nline"), QStringLiteral("\"q\""),
                                        QStringLiteral("ü") } };
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    CsvWriter writer(&buffer);
    for (const QStringList &row : rows)
        QVERIFY(writer.writeRow(row));
    QCOMPARE(writer.rows(), 2);
    QVERIFY(buffer.data().endsWith("\r\n"));
    QCOMPARE(parseCsv(buffer.data()), rows);
}

void TestCsv::inventoryRows()
{
    const StandardPki &pki = StandardPki::instance();
    const Issued leaf =
        TestPki::issue(goodLeafSpec(QStringLiteral("alice@example.test")), pki.ecIntermediate);
    certs::TrustSettings settings;
    const QString anchors = QDir::temp().filePath(QStringLiteral("tst_csv_trust.pem"));
    QVERIFY(TestPki::writeFile(anchors, TestPki::pemOf({ &pki.root, &pki.ecIntermediate })));
    settings.bundleFiles = { anchors };
    auto trust = certs::TrustStore::load(settings);
    QVERIFY(trust.ok());
    const certs::ValueAnalyzer analyzer(*trust, certs::CertificateJudge());

    directory::DirectoryUser user;
    user.dn = QStringLiteral("CN=Alice,OU=People,DC=example,DC=test");
    user.userPrincipalName = QStringLiteral("alice@example.test");
    user.mail = QStringLiteral("alice@example.test");
    user.sourceAnchor = QStringLiteral("QHNr6800lkm8uIYKdK+7cA==");
    user.userCertificate = { leaf.der };
    user.userSmimeCertificate = { TestPki::pkcs7CertsOnly({ &leaf, &pki.ecIntermediate }),
                                  QByteArray("junk") };
    user.values = analyzer.analyzeUser(user.userCertificate, user.userSmimeCertificate, user.context(),
                                       QDateTime::currentDateTimeUtc());
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    InventoryCsv csv(&buffer);
    QVERIFY(csv.writeHeader());
    QVERIFY(csv.writeUser(user));
    const QList<QStringList> rows = parseCsv(buffer.data());
    QCOMPARE(rows.size(), 1 + 1 + 2 + 1); // header, x509, pkcs7 (leaf + CA), invalid
    QCOMPARE(rows.at(0), InventoryCsv::header());
    const QString sha =
        QString::fromLatin1(QCryptographicHash::hash(leaf.der, QCryptographicHash::Sha256).toHex());
    QCOMPARE(rows.at(1).at(0), user.dn);
    QCOMPARE(rows.at(1).at(3), user.sourceAnchor);
    QCOMPARE(rows.at(1).mid(4, 4),
             (QStringList { QStringLiteral("userCertificate"), QStringLiteral("0"), QStringLiteral("x509"),
                            sha }));
    QCOMPARE(rows.at(1).at(16), QStringLiteral("ok"));
    QCOMPARE(rows.at(1).at(17), QString());
    QVERIFY(rows.at(1).at(12).endsWith(QLatin1Char('Z')));
    QCOMPARE(rows.at(1).at(12), InventoryCsv::utcTime(certs::parseDer(leaf.der)->info.notAfter));
    QCOMPARE(rows.at(2).mid(4, 3),
             (QStringList { QStringLiteral("userSMIMECertificate"), QStringLiteral("0"),
                            QStringLiteral("pkcs7") }));
    QCOMPARE(rows.at(3).at(5), QStringLiteral("0")); // the CA in the same bag: same value_index
    QCOMPARE(rows.at(4).mid(5, 2), (QStringList { QStringLiteral("1"), QStringLiteral("invalid") }));
    QCOMPARE(rows.at(4).at(7),
             QString::fromLatin1(QCryptographicHash::hash("junk", QCryptographicHash::Sha256).toHex()));
    QCOMPARE(rows.at(4).at(16), QStringLiteral("error"));
    QCOMPARE(rows.at(4).at(17), QStringLiteral("parse_error"));
    QCOMPARE(InventoryCsv::utcTime(QDateTime(QDate(2026, 11, 28), QTime(9, 0), Qt::UTC)),
             QStringLiteral("2026-11-28T09:00:00Z"));
    QCOMPARE(InventoryCsv::utcTime(QDateTime(QDate(2026, 11, 28), QTime(10, 0), QTimeZone(3600))),
             QStringLiteral("2026-11-28T09:00:00Z"));
    QCOMPARE(InventoryCsv::utcTime(QDateTime(QDate(987, 1, 2), QTime(3, 4, 5), Qt::UTC)),
             QStringLiteral("0987-01-02T03:04:05Z"));
    QCOMPARE(InventoryCsv::utcTime(QDateTime()), QString());
}

QTEST_GUILESS_MAIN(TestCsv)
#include "tst_csv.moc"
