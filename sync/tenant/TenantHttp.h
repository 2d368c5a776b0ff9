#pragma once

// The one road to the tenant: tokens, TLS, request ids, throttling, retries and the concurrency
// limit live here so that the Graph and Exchange clients only speak their protocols.

#include "jobs/LogRecord.h"
#include "tenant/ClientAssertion.h"
#include "tenant/TenantError.h"
#include "tenant/TenantSettings.h"

#include <QByteArray>
#include <QDateTime>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QSslConfiguration>
#include <QTimer>
#include <QUrl>

#include <deque>
#include <functional>
#include <memory>
#include <optional>

class QNetworkAccessManager;
class QNetworkReply;

namespace certsync::tenant {

enum class Service { Authority, Graph, Exchange };

struct TenantRequest
{
    Service service = Service::Graph;
    QByteArray verb = "GET";
    QUrl url;
    QByteArray body;
    QByteArray contentType = "application/json";
    QList<QPair<QByteArray, QByteArray>> headers;
    // A write is never sent again once it may have reached the service (timeout, dropped
    // connection): the caller reads the current state first. 429/503 answers are safe to retry.
    bool isWrite = false;
    QString what; // for log lines, e.g. "PATCH certificateUserIds of alice@contoso.com"
    // When set, the body is made anew for every attempt and never resent as it was: a token request
    // with a client assertion needs a fresh jti each time, since the authority refuses a replay.
    std::function<QByteArray()> bodyPerAttempt;
};

struct TenantResponse
{
    int httpStatus = 0;
    QByteArray body;
    QHash<QByteArray, QByteArray> headers; // lowercase names
    QString requestId; // the service's request-id header
    QString clientRequestId; // the one we sent with the attempt that answered
    int attempts = 0;

    [[nodiscard]] QJsonObject json() const;
};

// Counters for tests and benchmarks.
struct TenantHttpStats
{
    int attempts = 0;
    int throttled = 0; // 429 answers seen
    int unavailable = 0; // 503 answers seen
    int networkRetries = 0;
    int tokenRequests = 0;
    int refreshesAfter401 = 0;
};

class TenantHttp : public QObject
{
    Q_OBJECT
public:
    using Callback = std::function<void(TenantResult<TenantResponse>)>;

    // Create on the thread that will use it (the job's worker thread): it owns its
    // QNetworkAccessManager.
    explicit TenantHttp(TenantSettings settings, QObject *parent = nullptr);
    ~TenantHttp() override;

    [[nodiscard]] const TenantSettings &settings() const { return m_settings; }
    [[nodiscard]] const TenantHttpStats &stats() const { return m_stats; }

    // Runs `done` exactly once, on this object's thread, unless this object is destroyed first.
    // Non-2xx answers arrive as a TenantError parsed from the service's error body.
    void send(TenantRequest request, Callback done);
    // Fails every queued and running request with a Canceled error.
    void cancelAll();
    // Forgets the cached token of a service (tests, and after a credential change).
    void invalidateToken(Service service);
    // Sends through `nam` (owned by the caller, outliving this object) instead of its own: the fuzz
    // target answers with bytes it makes up. Call before the first send().
    void setNetworkAccessManager(QNetworkAccessManager *nam) { m_nam = nam; }
    // The token for a service, fetched or from the cache (exposed for the token tests).
    void token(Service service, std::function<void(TenantResult<QByteArray>)> done);
    // A record for the log from a client of this connection (Exchange's @adminapi.warnings).
    void report(const jobs::LogRecord &record) { emit logRecord(record); }

signals:
    void logRecord(const certsync::jobs::LogRecord &record);

private:
    struct Call
    {
        TenantRequest request;
        Callback done;
        int attempts = 0;
        bool refreshedAfter401 = false;
        QByteArray accessToken;
        QString clientRequestId;
        int sends = 0; // times the current attempt's request left; more than one would be a resend
        QString tlsProblem; // why the server's certificate was refused, and which certificate it was
        QPointer<QNetworkReply> reply;
        QPointer<QTimer> timer;
    };
    using CallPtr = std::shared_ptr<Call>;
    struct TokenState
    {
        QByteArray accessToken;
        QDateTime refreshAfter;
        QDateTime expiresAt;
        bool fetching = false;
        QList<std::function<void(TenantResult<QByteArray>)>> waiters;
    };

    void prepare(const CallPtr &call); // token, then a slot
    void enqueue(const CallPtr &call, bool front = false);
    void pump();
    void startAttempt(const CallPtr &call, const QByteArray &accessToken);
    void onFinished(const CallPtr &call, QNetworkReply *reply);
    void retryLater(const CallPtr &call, int delayMs, const QString &why, const TenantResponse &last);
    void complete(const CallPtr &call, TenantResult<TenantResponse> result);
    void fetchToken(Service service);
    Result<QByteArray> tokenRequestBody(Service service);
    [[nodiscard]] int backoffMs(int attempt) const;
    [[nodiscard]] std::optional<qint64> retryAfterMs(const QHash<QByteArray, QByteArray> &headers) const;
    [[nodiscard]] QString scopeOf(Service service) const;
    void log(jobs::LogRecord::Level level, const QString &message, int status = 0,
             const QString &requestId = {}, const QString &clientRequestId = {},
             Service service = Service::Graph);

    TenantSettings m_settings;
    QNetworkAccessManager *m_nam = nullptr;
    QSslConfiguration m_ssl;
    std::optional<ClientCredential> m_credential;
    std::optional<Error> m_credentialError;
    std::deque<CallPtr> m_queue;
    QList<CallPtr> m_running; // holding a slot
    QList<CallPtr> m_waiting; // waiting for a token or a retry timer
    QHash<int, TokenState> m_tokens; // by Service
    QHash<int, qint64> m_gateUntil; // by Service: no new attempt before this m_clock time
    QElapsedTimer m_clock;
    QTimer m_gateTimer;
    TenantHttpStats m_stats;
    bool m_destroying = false;
};

} // namespace certsync::tenant
