// Retry-After as Graph and Exchange send it, and as a broken or hostile server might: the one
// parser every throttled answer and batch item goes through.
#include "tenant/RetryAfter.h"

#include <QTest>

using namespace certsync::tenant;

class TestRetryAfter : public QObject
{
    Q_OBJECT
private slots:
    void parses_data();
    void parses();
};

void TestRetryAfter::parses_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<qint64>("expected"); // -1: no usable value

    QTest::newRow("seconds") << QByteArray("120") << qint64(120);
    QTest::newRow("zero") << QByteArray("0") << qint64(0);
    QTest::newRow("blanks around") << QByteArray(" \t7 ") << qint64(7);
    QTest::newRow("leading zeros") << QByteArray("0005") << qint64(5);
    // Past int's range in milliseconds (2,147,484 s): the old code multiplied an int by 1000.
    QTest::newRow("over int ms") << QByteArray("4000000") << qint64(4000000);
    QTest::newRow("over int") << QByteArray("99999999999") << RetryAfterCeilingSeconds;
    QTest::newRow("over int64") << QByteArray("999999999999999999999999999999") << RetryAfterCeilingSeconds;
    QTest::newRow("empty") << QByteArray() << qint64(-1);
    QTest::newRow("blank") << QByteArray("  ") << qint64(-1);
    QTest::newRow("negative") << QByteArray("-5") << qint64(-1);
    QTest::newRow("plus sign") << QByteArray("+5") << qint64(-1);
    QTest::newRow("fraction") << QByteArray("1.5") << qint64(-1);
    QTest::newRow("trailing text") << QByteArray("10s") << qint64(-1);
    QTest::newRow("inner blank") << QByteArray("1 0") << qint64(-1);
    QTest::newRow("nul byte") << QByteArray("1\0"
                                            "0",
                                            3)
                              << qint64(-1);
    // HTTP-dates against the fixed "now" of the test (2026-12-02T10:00:00Z).
    QTest::newRow("date ahead") << QByteArray("Wed, 02 Dec 2026 10:01:30 GMT") << qint64(90);
    QTest::newRow("date past") << QByteArray("Wed, 02 Dec 2026 09:00:00 GMT") << qint64(0);
    QTest::newRow("date far") << QByteArray("Fri, 31 Dec 9999 23:59:59 GMT") << RetryAfterCeilingSeconds;
    QTest::newRow("date garbage") << QByteArray("Wed, 99 Foo 2026 10:01:30 GMT") << qint64(-1);
    QTest::newRow("very long") << QByteArray(100000, 'x') << qint64(-1);
}

void TestRetryAfter::parses()
{
    QFETCH(QByteArray, value);
    QFETCH(qint64, expected);
    const QDateTime now(QDate(2026, 12, 2), QTime(10, 0), Qt::UTC);
    const std::optional<qint64> seconds = parseRetryAfterSeconds(value, now);
    QCOMPARE(seconds.value_or(-1), expected);
}

QTEST_GUILESS_MAIN(TestRetryAfter)
#include "tst_retryafter.moc"
