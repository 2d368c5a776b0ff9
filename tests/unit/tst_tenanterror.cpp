// Error bodies of the three services become one typed TenantError: the code to branch on, the
// sentence for a person, and the ids Microsoft support asks for.
#include "tenant/TenantError.h"

#include <QTest>

using namespace certsync;
using namespace certsync::tenant;

class TestTenantError : public QObject
{
    Q_OBJECT
private slots:
    void parses_data();
    void parses();
};

void TestTenantError::parses_data()
{
    QTest::addColumn<int>("source"); // 0 authority, 1 graph, 2 exchange
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("requestId");
    QTest::addColumn<QString>("innerCode");
    QTest::addColumn<QString>("traceId");

    QTest::newRow("AADSTS secret")
        << 0 << 401
        << QByteArray(
               R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Trace ID: 61c1fb61-e3e8-481f-af3c-2902024d5190 Correlation ID: 833ad741-5193-4224-a14c-f872bb4206e1 Timestamp: 2026-11-28 12:46:27Z","error_codes":[7000215],"trace_id":"61c1fb61-e3e8-481f-af3c-2902024d5190","correlation_id":"833ad741-5193-4224-a14c-f872bb4206e1"})")
        << QStringLiteral("invalid_client")
        << QStringLiteral("AADSTS7000215: Invalid client secret provided.") << QString() << QString()
        << QStringLiteral("61c1fb61-e3e8-481f-af3c-2902024d5190");
    QTest::newRow("authority without JSON")
        << 0 << 502 << QByteArray("<html>Bad gateway</html>") << QStringLiteral("http502")
        << QStringLiteral("<html>Bad gateway</html>") << QString() << QString() << QString();
    QTest::newRow("Graph not found")
        << 1 << 404
        << QByteArray(
               R"({"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist.","innerError":{"date":"2026-11-28T09:00:00","request-id":"0b1c","client-request-id":"9f8e"}}})")
        << QStringLiteral("Request_ResourceNotFound") << QStringLiteral("Resource 'x' does not exist.")
        << QStringLiteral("0b1c") << QString() << QString();
    QTest::newRow("Graph details")
        << 1 << 400
        << QByteArray(
               R"({"error":{"code":"Request_BadRequest","message":"Another object with the same value.","details":[{"code":"ObjectConflict","target":"certificateUserIds"}],"innerError":{"request-id":"77"}}})")
        << QStringLiteral("Request_BadRequest") << QStringLiteral("Another object with the same value.")
        << QStringLiteral("77") << QStringLiteral("ObjectConflict") << QString();
    QTest::newRow("Graph empty 401") << 1 << 401 << QByteArray() << QStringLiteral("http401")
                                     << QStringLiteral("HTTP 401 without a body") << QString() << QString()
                                     << QString();
    QTest::newRow("Exchange synced object")
        << 2 << 400
        << QByteArray(
               R"({"error":{"code":"BadRequest","message":"|Microsoft.Exchange.Management.Tasks.RecipientTaskException|The action 'Set-Mailbox', 'UserSMimeCertificate', can't be performed on the object 'a' because the object is being synchronized from your on-premises organization.","innererror":{"type":"Microsoft.Exchange.Management.Tasks.RecipientTaskException"}}})")
        << QStringLiteral("syncedObject")
        << QStringLiteral(
               "The action 'Set-Mailbox', 'UserSMimeCertificate', can't be performed on the object 'a' "
               "because the object is being synchronized from your on-premises organization.")
        << QString() << QStringLiteral("Microsoft.Exchange.Management.Tasks.RecipientTaskException")
        << QString();
    QTest::newRow("Exchange not found")
        << 2 << 404
        << QByteArray(
               R"({"error":{"code":"NotFound","message":"|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'z' couldn't be found."}})")
        << QStringLiteral("notFound")
        << QStringLiteral("The operation couldn't be performed because object 'z' couldn't be found.")
        << QString()
        << QStringLiteral("Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException")
        << QString();
    // A generic message: the text is read from details first (its "Ex<id>" tag dropped), then from
    // innererror.internalException.
    QTest::newRow("Exchange text in details")
        << 2 << 400
        << QByteArray(
               R"({"error":{"code":"BadRequest","message":"An error has occurred.","details":[{"code":"Context","message":"Ex6F9304|Microsoft.Exchange.Management.Tasks.RecipientTaskException|The value is not valid."}],"innererror":{"type":"Microsoft.Exchange.Management.Tasks.RecipientTaskException","internalException":{"message":"not this one"}}}})")
        << QStringLiteral("BadRequest") << QStringLiteral("The value is not valid.") << QString()
        << QStringLiteral("Microsoft.Exchange.Management.Tasks.RecipientTaskException") << QString();
    QTest::newRow("Exchange text in internalException")
        << 2 << 500
        << QByteArray(
               R"({"error":{"code":"InternalServerError","message":"An error has occurred.","innererror":{"internalException":{"message":"Access denied: the app has no Exchange role."}}}})")
        << QStringLiteral("InternalServerError")
        << QStringLiteral("Access denied: the app has no Exchange role.") << QString() << QString()
        << QString();
}

void TestTenantError::parses()
{
    QFETCH(int, source);
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    const TenantError e = source == 0 ? TenantError::fromAuthority(status, body)
        : source == 1                 ? TenantError::fromGraph(status, body)
                                      : TenantError::fromExchange(status, body);
    QCOMPARE(e.httpStatus, status);
    QTEST(e.code, "code");
    QTEST(e.message, "message");
    QTEST(e.requestId, "requestId");
    QTEST(e.innerCode, "innerCode");
    QTEST(e.traceId, "traceId");
    QVERIFY(e.toString().contains(QStringLiteral("HTTP %1").arg(status)));
    QVERIFY(e.toError().code.startsWith(QStringLiteral("tenant.")));
    QVERIFY(!e.outcomeUnknown);
}

QTEST_GUILESS_MAIN(TestTenantError)
#include "tst_tenanterror.moc"
