#pragma once

// certsync-tenantsim: a test double of the Microsoft 365 endpoints certsync talks to (Entra token
// endpoint, Microsoft Graph users, Exchange Online InvokeCommand), with the real JSON shapes and
// error bodies, and with faults injected on request.

#include "SimState.h"

#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonObject>
#include <QObject>
#include <QRandomGenerator>
#include <QSet>
#include <QTimer>
#include <QUrlQuery>

#include <memory>
#include <optional>

namespace certsync::tenantsim {

struct Faults
{
    double throttleRate = 0; // share of API requests answered 429
    int retryAfterSeconds = 1; // Retry-After of injected 429s
    double unavailableRate = 0; // share answered 503 (without Retry-After: the client backs off)
    int latencyMs = 0;
    double dropRate = 0; // share of writes applied and then answered by a dropped connection
    int throttleNext = 0; // deterministic counterparts of the rates above
    int unavailableNext = 0;
    int dropNextWrites = 0;
    int dropNextTokens = 0; // token requests honoured (jti spent) and then answered by a dropped connection
    // A write is applied at once and its answer held this long: the window in which a client that
    // dies has changed the tenant without knowing it (crash tests kill the publisher there).
    int holdAppliedWritesMs = 0;
    int rateLimit = 0; // accepted API requests per window; 0: no ceiling
    int rateWindowMs = 10000; // Graph's throttling windows are 10 s
    // Not a fault: the language Exchange words its error messages in (the admin's culture), so
    // that tests prove the client does not depend on English text. "en-US" or "de-DE".
    QString exchangeCulture = QStringLiteral("en-US");
    // How Exchange words an error (real answers vary): "full" puts the text in error.message and
    // error.details; "details" leaves error.message generic ("An error has occurred."), the text in
    // error.details[].message only; "internalException" only in error.innererror.internalException.
    QString exchangeErrorShape = QStringLiteral("full");
    // Not empty: every successful InvokeCommand answer carries it in @adminapi.warnings, as Exchange
    // does for "the command completed successfully but no settings have been modified" and the like.
    QString exchangeWarning;

    void merge(const QJsonObject &o);
    [[nodiscard]] QJsonObject toJson() const;
};

struct SimOptions
{
    QString statePath; // loaded at start when present, saved after changes
    QString seedPath; // used when there is no state file yet
    QString accessLogPath;
    int usersPageSize = 100; // Graph's default page for /users
    int deltaPageSize = 100;
    int exchangePageSize = 1000;
    int tokenLifetimeSeconds = 3599;
    bool exchangeBytesAsArrays = false; // byte arrays as JSON number arrays instead of base64 strings
    // A synced recipient with IsExchangeCloudManaged: whether Set-Mailbox/Set-MailUser of
    // UserCertificate/UserSMimeCertificate is accepted. Microsoft has not said whether these are
    // among the attributes the switch moves to Exchange Online (DOMAIN.md), so the default is the
    // refusal a synced object gets; --cloud-managed-certificate-writes accepts them.
    bool cloudManagedCertificateWrites = false;
    quint32 randomSeed = 1;
    Faults faults;
};

struct SimRequest
{
    QByteArray method;
    QString path; // decoded, without query
    QUrlQuery query;
    QHash<QByteArray, QByteArray> headers; // lowercase names
    QByteArray body;
    QString host; // Host header, for absolute links
    QString requestId;
    bool inBatch = false;
};

struct SimResponse
{
    int status = 200;
    QByteArray body;
    QList<QPair<QByteArray, QByteArray>> headers;
    bool drop = false; // applied, but the connection is dropped instead of answering
    QString note;

    static SimResponse json(int status, const QJsonObject &body);
};

class TenantSimulator : public QObject
{
    Q_OBJECT
public:
    explicit TenantSimulator(SimOptions options, QObject *parent = nullptr);
    ~TenantSimulator() override;

    bool initialize(QString *error);
    // HTTPS for the service endpoints, plain HTTP on loopback for the admin endpoint.
    bool listen(const QByteArray &certPem, const QByteArray &keyPem, quint16 port, quint16 adminPort,
                QString *error);
    [[nodiscard]] quint16 port() const { return m_port; }
    [[nodiscard]] quint16 adminPort() const { return m_adminPort; }
    bool saveNow(QString *error);

private:
    struct IssuedToken
    {
        QString clientId;
        QString audience;
        qint64 expiresAtMs = 0;
    };
    struct Window
    {
        qint64 startMs = 0;
        int accepted = 0;
        int throttled = 0;
    };
    enum class Service { Graph, Exchange };

    void handle(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void handleAdmin(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void finishRequest(const SimRequest &req, const std::shared_ptr<QHttpServerResponder> &responder);
    void respond(const SimRequest &req, const SimResponse &resp, QHttpServerResponder &responder);
    SimResponse route(const SimRequest &req);

    SimResponse openIdConfiguration(const SimRequest &req, const QString &tenant);
    SimResponse token(const SimRequest &req, const QString &tenant);
    SimResponse tokenError(int status, const QString &error, int code, const QString &description);
    std::optional<QString> verifyAssertion(const SimRequest &req, const SimApp &app,
                                           const QByteArray &assertion, int *aadsts);

    std::optional<SimResponse> authorize(const SimRequest &req, Service service);
    std::optional<SimResponse> injectFaults(const SimRequest &req, Service service);
    void maybeDrop(SimResponse &resp, const SimRequest &req);

    SimResponse graph(const SimRequest &req);
    SimResponse graphError(int status, const QString &code, const QString &message, const SimRequest &req);
    SimResponse listUsers(const SimRequest &req);
    SimResponse usersDelta(const SimRequest &req);
    SimResponse getUser(const SimRequest &req, const QString &id);
    SimResponse patchUser(const SimRequest &req, const QString &id);
    SimResponse batch(const SimRequest &req);
    std::optional<QStringList> selectFrom(const SimRequest &req, QString *bad) const;
    QJsonObject userJson(const SimUser &user, const QStringList &select) const;

    SimResponse exchange(const SimRequest &req);
    [[nodiscard]] QJsonArray exchangeWarnings() const; // @adminapi.warnings of a successful answer
    SimResponse exchangeError(int status, const QString &exceptionType, const QString &message,
                              const SimRequest &req);
    QJsonObject recipientJson(const SimUser &user, bool withCertificates) const;
    [[nodiscard]] QJsonValue encodeSimBytes(const QByteArray &bytes) const;
    static std::optional<QByteArray> decodeSimBytes(const QJsonValue &value);
    SimUser *findRecipient(const QString &identity);

    QString baseUrl(const SimRequest &req) const { return QStringLiteral("https://") + req.host; }
    void changed();
    void writeAccessLog(const SimRequest &req, int status, const QString &note);
    QJsonObject stats() const;

    SimOptions m_options;
    SimState m_state;
    QHttpServer m_server;
    QHttpServer m_admin;
    quint16 m_port = 0;
    quint16 m_adminPort = 0;
    QRandomGenerator m_random;
    QHash<QString, IssuedToken> m_tokens;
    QSet<QString> m_seenJti;
    QByteArray m_tokenKey; // signs the access tokens we hand out, so that they look like JWTs
    QElapsedTimer m_clock;
    QList<Window> m_windows;
    QTimer m_saveTimer;
    std::unique_ptr<QFile> m_accessLog;
    qint64 m_requests = 0;
    QHash<QString, qint64> m_exchangeAnchors; // InvokeCommand requests per X-AnchorMailbox ("" none)
    qint64 m_injected429 = 0;
    qint64 m_injected503 = 0;
    qint64 m_ceiling429 = 0;
    qint64 m_dropped = 0;
};

} // namespace certsync::tenantsim
