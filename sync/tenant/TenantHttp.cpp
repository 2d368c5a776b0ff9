#include "tenant/TenantHttp.h"

#include "core/Logging.h"
#include "tenant/RetryAfter.h"

#include <QIODevice>
#include <QJsonDocument>
#include <QMetaEnum>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QSslCertificate>
#include <QSslError>
#include <QTimer>
#include <QUuid>

#include <algorithm>

namespace certsync::tenant {

namespace {

// What a person needs to decide about a refused server certificate: OpenSSL's reasons, and the
// certificate itself (subject, issuer and SHA-256, to compare with what the server should present).
QString describeTlsErrors(const QList<QSslError> &errors)
{
    QStringList reasons;
    QSslCertificate certificate;
    for (const QSslError &error : errors) {
        if (!reasons.contains(error.errorString()))
            reasons.append(error.errorString());
        if (certificate.isNull() && !error.certificate().isNull())
            certificate = error.certificate();
    }
    QString text = reasons.join(QStringLiteral("; "));
    if (!certificate.isNull())
        text += QStringLiteral(" (server certificate: subject %1, issuer %2, SHA-256 %3)")
                    .arg(certificate.subjectDisplayName(), certificate.issuerDisplayName(),
                         QString::fromLatin1(certificate.digest(QCryptographicHash::Sha256).toHex(':')));
    return text;
}

QString newGuid()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

QString channelOf(Service service)
{
    switch (service) {
    case Service::Authority:
        return QStringLiteral("authority");
    case Service::Graph:
        return QStringLiteral("graph");
    case Service::Exchange:
        return QStringLiteral("exchange");
    }
    return {};
}

// A request body Qt can read once: reset() fails after the last byte was handed over, so that the
// network layer cannot send a write a second time on its own.
class SendOnceBody : public QIODevice
{
public:
    explicit SendOnceBody(QByteArray data)
        : m_data(std::move(data))
    {
        open(QIODevice::ReadOnly);
    }
    [[nodiscard]] bool isSequential() const override { return false; }
    [[nodiscard]] qint64 size() const override { return m_data.size(); }
    bool reset() override { return !m_handedOver && QIODevice::reset(); }
    bool seek(qint64 pos) override { return (!m_handedOver || pos == this->pos()) && QIODevice::seek(pos); }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        const qint64 n = std::min(maxSize, qint64(m_data.size()) - pos());
        if (n <= 0)
            return n == 0 ? 0 : -1;
        std::copy_n(m_data.constData() + pos(), n, data);
        if (pos() + n >= m_data.size())
            m_handedOver = true;
        return n;
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    QByteArray m_data;
    bool m_handedOver = false;
};

QString networkErrorName(QNetworkReply::NetworkError error)
{
    return QString::fromLatin1(QMetaEnum::fromType<QNetworkReply::NetworkError>().valueToKey(error));
}

} // namespace

QJsonObject TenantResponse::json() const
{
    return QJsonDocument::fromJson(body).object();
}

TenantHttp::TenantHttp(TenantSettings settings, QObject *parent)
    : QObject(parent)
    , m_settings(std::move(settings))
    , m_nam(new QNetworkAccessManager(this))
{
    m_clock.start();
    m_gateTimer.setSingleShot(true);
    connect(&m_gateTimer, &QTimer::timeout, this, &TenantHttp::pump);
    m_ssl = QSslConfiguration::defaultConfiguration();
    m_ssl.setPeerVerifyMode(QSslSocket::VerifyPeer);
    if (!m_settings.caFile.isEmpty()) {
        const QList<QSslCertificate> extra = QSslCertificate::fromPath(m_settings.caFile, QSsl::Pem);
        if (extra.isEmpty())
            m_credentialError =
                Error { QStringLiteral("tenant.configuration"),
                        QStringLiteral("no certificate in the CA file %1").arg(m_settings.caFile) };
        m_ssl.addCaCertificates(extra);
    }
    if (m_settings.usesCertificate()) {
        auto credential = ClientCredential::fromPemFiles(
            m_settings.clientCertificateFile, m_settings.clientKeyFile, m_settings.clientKeyPassphrase);
        if (credential)
            m_credential = std::move(credential.value());
        else
            m_credentialError = credential.error();
    } else if (m_settings.clientSecret.isEmpty()) {
        m_credentialError =
            Error { QStringLiteral("tenant.configuration"),
                    QStringLiteral("neither a client secret nor a client certificate is configured") };
    }
}

TenantHttp::~TenantHttp()
{
    m_destroying = true;
    for (const CallPtr &call : std::as_const(m_running))
        if (call->reply)
            call->reply->abort();
}

QString TenantHttp::scopeOf(Service service) const
{
    return service == Service::Exchange ? m_settings.exchangeScope : m_settings.graphScope;
}

void TenantHttp::log(jobs::LogRecord::Level level, const QString &message, int status,
                     const QString &requestId, const QString &clientRequestId, Service service)
{
    jobs::LogRecord record;
    record.time = QDateTime::currentDateTimeUtc();
    record.level = level;
    record.channel = channelOf(service);
    record.message = message;
    record.httpStatus = status;
    record.requestId = requestId;
    record.clientRequestId = clientRequestId;
    qCDebug(lcTenant).noquote() << record.channel << status << message << requestId << clientRequestId;
    emit logRecord(record);
}

void TenantHttp::send(TenantRequest request, Callback done)
{
    auto call = std::make_shared<Call>();
    call->request = std::move(request);
    call->done = std::move(done);
    prepare(call);
}

void TenantHttp::prepare(const CallPtr &call)
{
    if (call->request.service == Service::Authority) {
        enqueue(call, true); // token requests go first: API calls wait for them
        return;
    }
    m_waiting.append(call);
    token(call->request.service, [this, call](TenantResult<QByteArray> token) {
        m_waiting.removeOne(call);
        if (!call->done)
            return; // canceled meanwhile
        if (!token) {
            complete(call, token.error());
            return;
        }
        call->accessToken = token.value();
        enqueue(call);
    });
}

void TenantHttp::enqueue(const CallPtr &call, bool front)
{
    if (front)
        m_queue.push_front(call);
    else
        m_queue.push_back(call);
    pump();
}

void TenantHttp::pump()
{
    const qint64 now = m_clock.elapsed();
    qint64 nextGate = -1;
    for (auto it = m_queue.begin();
         !m_destroying && it != m_queue.end() && m_running.size() < std::max(1, m_settings.maxConcurrency);) {
        const CallPtr call = *it;
        if (!call->done) {
            it = m_queue.erase(it);
            continue;
        }
        const qint64 gate = m_gateUntil.value(int(call->request.service), 0);
        if (gate > now) { // the service asked us to hold off: keep the call queued
            nextGate = nextGate < 0 ? gate : std::min(nextGate, gate);
            ++it;
            continue;
        }
        it = m_queue.erase(it);
        m_running.append(call);
        startAttempt(call, call->accessToken);
    }
    if (nextGate >= 0 && !m_gateTimer.isActive())
        m_gateTimer.start(int(nextGate - now));
}

void TenantHttp::startAttempt(const CallPtr &call, const QByteArray &accessToken)
{
    ++call->attempts;
    ++m_stats.attempts;
    call->clientRequestId = newGuid();
    if (call->attempts > 1 && call->request.bodyPerAttempt)
        call->request.body = call->request.bodyPerAttempt();
    const TenantRequest &r = call->request;
    QNetworkRequest request(r.url);
    request.setSslConfiguration(m_ssl);
    request.setTransferTimeout(m_settings.timeoutMs);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    request.setRawHeader("client-request-id", call->clientRequestId.toLatin1());
    request.setRawHeader("return-client-request-id", "true");
    request.setRawHeader("Accept", "application/json");
    if (!r.body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, r.contentType);
    if (r.service != Service::Authority)
        request.setRawHeader("Authorization", "Bearer " + accessToken);
    for (const auto &h : r.headers)
        request.setRawHeader(h.first, h.second);
    QNetworkReply *reply = nullptr;
    if (r.isWrite || r.bodyPerAttempt) {
        // Qt's HTTP/1.1 channel silently sends a request again, whatever its method, when the
        // server closes the connection while the answer is awaited (QHttpNetworkConnectionChannel
        // resends on RemoteHostClosedError in WaitingState). For a write that is exactly the blind
        // retry we must never make. A resend needs the body rewound; a body that refuses to rewind
        // once handed over turns the resend into ContentReSendError, and the caller reads first.
        auto *body = new SendOnceBody(r.body);
        reply = m_nam->sendCustomRequest(request, r.verb, body);
        body->setParent(reply);
        call->sends = 0;
        connect(reply, &QNetworkReply::requestSent, this, [this, call] {
            if (++call->sends > 1) // the guard above failed: say so loudly
                log(jobs::LogRecord::Level::Error,
                    QStringLiteral("%1 was sent twice by the network layer").arg(call->request.what), 0, {},
                    call->clientRequestId, call->request.service);
        });
    } else {
        reply = m_nam->sendCustomRequest(request, r.verb, r.body);
    }
    call->reply = reply;
    call->tlsProblem.clear();
    connect(reply, &QNetworkReply::sslErrors, this,
            [call](const QList<QSslError> &errors) { call->tlsProblem = describeTlsErrors(errors); });
    connect(reply, &QNetworkReply::finished, this, [this, call, reply] { onFinished(call, reply); });
}

std::optional<qint64> TenantHttp::retryAfterMs(const QHash<QByteArray, QByteArray> &headers) const
{
    const auto seconds =
        parseRetryAfterSeconds(headers.value("retry-after"), QDateTime::currentDateTimeUtc());
    if (!seconds)
        return std::nullopt;
    return *seconds * 1000;
}

int TenantHttp::backoffMs(int attempt) const
{
    // Exponential backoff with "equal jitter": half fixed, half random, so that many clients
    // throttled together do not come back together.
    const qint64 exp = std::min<qint64>(m_settings.backoffMaxMs,
                                        qint64(m_settings.backoffBaseMs) << std::min(attempt - 1, 20));
    const qint64 half = std::max<qint64>(1, exp / 2);
    return int(half + QRandomGenerator::global()->bounded(half + 1));
}

void TenantHttp::onFinished(const CallPtr &call, QNetworkReply *reply)
{
    reply->deleteLater();
    m_running.removeOne(call);
    if (m_destroying)
        return;
    if (!call->done) { // canceled
        pump();
        return;
    }
    const TenantRequest &r = call->request;
    TenantResponse resp;
    resp.httpStatus = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    resp.body = reply->readAll();
    for (const auto &h : reply->rawHeaderPairs())
        resp.headers.insert(h.first.toLower(), h.second);
    resp.requestId = QString::fromLatin1(resp.headers.value("request-id"));
    resp.clientRequestId = call->clientRequestId;
    resp.attempts = call->attempts;

    if (resp.httpStatus == 0) {
        const QNetworkReply::NetworkError error = reply->error();
        TenantError e;
        e.source = error == QNetworkReply::SslHandshakeFailedError ? TenantError::Source::Tls
                                                                   : TenantError::Source::Network;
        e.code = networkErrorName(error);
        e.message = reply->errorString();
        e.clientRequestId = call->clientRequestId;
        e.attempts = call->attempts;
        // Only these mean the request certainly never reached the service.
        const bool notSent =
            error == QNetworkReply::ConnectionRefusedError || error == QNetworkReply::HostNotFoundError;
        if (error == QNetworkReply::ContentReSendError)
            e.message = QStringLiteral("the connection closed after the request was sent, before the answer");
        if (e.source == TenantError::Source::Tls && !call->tlsProblem.isEmpty())
            e.message = QStringLiteral("TLS with %1 failed: %2; Microsoft 365 is reached with the system's "
                                       "CAs, a test server's CA is given with --tenant-ca-file")
                            .arg(r.url.host(), call->tlsProblem);
        if (e.source == TenantError::Source::Tls) {
            complete(call, e);
        } else if (r.isWrite && !notSent) {
            e.outcomeUnknown = true;
            e.code = errc::OutcomeUnknown;
            e.message = QStringLiteral("%1 may or may not have been applied: %2")
                            .arg(r.what.isEmpty() ? QStringLiteral("the write") : r.what, e.message);
            log(jobs::LogRecord::Level::Warning, e.message, 0, {}, call->clientRequestId, r.service);
            complete(call, e);
        } else if (call->attempts < m_settings.maxAttempts) {
            ++m_stats.networkRetries;
            retryLater(call, backoffMs(call->attempts), reply->errorString(), resp);
        } else {
            complete(call, e);
        }
        pump();
        return;
    }

    if (resp.httpStatus == 401 && r.service != Service::Authority && !call->refreshedAfter401) {
        // The token may have been revoked or expired early: fetch a new one, once.
        call->refreshedAfter401 = true;
        ++m_stats.refreshesAfter401;
        log(jobs::LogRecord::Level::Info, QStringLiteral("token refused, fetching a new one"), 401,
            resp.requestId, call->clientRequestId, r.service);
        invalidateToken(r.service);
        prepare(call);
        pump();
        return;
    }

    qint64 throttledFor = 0; // a Retry-After past the cap: the run ends instead of waiting
    if (resp.httpStatus == 429 || resp.httpStatus == 503) {
        (resp.httpStatus == 429 ? m_stats.throttled : m_stats.unavailable)++;
        const std::optional<qint64> retryAfter = retryAfterMs(resp.headers);
        // A long Retry-After means the app hit the service's limit, not that this one request was
        // unlucky: hold every new request to that service until then instead of collecting a 429
        // for each of them (Graph counts those against the app too). Short ones stay per request.
        // (Not past the cap: a run that will not wait that long must not hold later calls for it.)
        if (retryAfter && m_settings.throttleGateSeconds > 0
            && *retryAfter >= m_settings.throttleGateSeconds * 1000
            && *retryAfter <= qint64(m_settings.maxRetryAfterSeconds) * 1000) {
            qint64 &gate = m_gateUntil[int(r.service)];
            gate = std::max(gate, m_clock.elapsed() + *retryAfter);
        }
        if (call->attempts < m_settings.maxAttempts
            && retryAfter.value_or(0) <= qint64(m_settings.maxRetryAfterSeconds) * 1000) {
            retryLater(call, int(retryAfter.value_or(backoffMs(call->attempts))),
                       QStringLiteral("HTTP %1").arg(resp.httpStatus), resp);
            pump();
            return;
        }
        if (retryAfter && *retryAfter > qint64(m_settings.maxRetryAfterSeconds) * 1000)
            throttledFor = *retryAfter / 1000;
    }

    if (resp.httpStatus >= 200 && resp.httpStatus < 300) {
        complete(call, resp);
        pump();
        return;
    }

    TenantError e = r.service == Service::Authority ? TenantError::fromAuthority(resp.httpStatus, resp.body)
        : r.service == Service::Graph               ? TenantError::fromGraph(resp.httpStatus, resp.body)
                                                    : TenantError::fromExchange(resp.httpStatus, resp.body);
    if (e.requestId.isEmpty())
        e.requestId = resp.requestId;
    e.clientRequestId = call->clientRequestId;
    e.attempts = call->attempts;
    if (resp.httpStatus == 429 || resp.httpStatus == 503) {
        e.code = errc::Throttled;
        e.retryAfterSeconds = throttledFor;
        if (throttledFor > 0)
            e.message = QStringLiteral("throttled for %1 s by %2 (over the %3 s this run waits); %4")
                            .arg(throttledFor)
                            .arg(r.url.host())
                            .arg(m_settings.maxRetryAfterSeconds)
                            .arg(e.message);
    }
    complete(call, e);
    pump();
}

void TenantHttp::retryLater(const CallPtr &call, int delayMs, const QString &why, const TenantResponse &last)
{
    log(jobs::LogRecord::Level::Warning,
        QStringLiteral("%1: %2, attempt %3 of %4, retrying in %5 ms")
            .arg(call->request.what.isEmpty()
                     ? QString::fromLatin1(call->request.verb) + QLatin1Char(' ') + call->request.url.path()
                     : call->request.what,
                 why)
            .arg(call->attempts)
            .arg(m_settings.maxAttempts)
            .arg(delayMs),
        last.httpStatus, last.requestId, last.clientRequestId, call->request.service);
    m_waiting.append(call);
    auto *timer = new QTimer(this);
    timer->setSingleShot(true);
    call->timer = timer;
    connect(timer, &QTimer::timeout, this, [this, call, timer] {
        timer->deleteLater();
        m_waiting.removeOne(call);
        if (call->done)
            prepare(call);
    });
    timer->start(delayMs);
}

void TenantHttp::complete(const CallPtr &call, TenantResult<TenantResponse> result)
{
    if (!call->done)
        return;
    Callback done = std::move(call->done);
    call->done = nullptr;
    done(std::move(result));
}

void TenantHttp::cancelAll()
{
    TenantError canceled;
    canceled.source = TenantError::Source::Canceled;
    canceled.code = errc::Canceled;
    canceled.message = QStringLiteral("canceled");
    QList<CallPtr> all(m_queue.begin(), m_queue.end());
    m_queue.clear();
    all += m_waiting;
    m_waiting.clear();
    const QList<CallPtr> running = m_running;
    for (const CallPtr &call : std::as_const(all)) {
        if (call->timer)
            call->timer->deleteLater();
        complete(call, canceled);
    }
    for (const CallPtr &call : running) {
        complete(call, canceled);
        if (call->reply)
            call->reply->abort();
    }
    for (TokenState &st : m_tokens) {
        const auto waiters = std::exchange(st.waiters, {});
        for (const auto &w : waiters) {
            TenantError e = canceled;
            w(e);
        }
    }
}

void TenantHttp::invalidateToken(Service service)
{
    TokenState &st = m_tokens[int(service)];
    st.accessToken.clear();
    st.refreshAfter = {};
}

void TenantHttp::token(Service service, std::function<void(TenantResult<QByteArray>)> done)
{
    TokenState &st = m_tokens[int(service)];
    if (!st.accessToken.isEmpty() && QDateTime::currentDateTimeUtc() < st.refreshAfter) {
        done(st.accessToken);
        return;
    }
    st.waiters.append(std::move(done));
    if (!st.fetching)
        fetchToken(service);
}

Result<QByteArray> TenantHttp::tokenRequestBody(Service service)
{
    if (m_credentialError)
        return *m_credentialError;
    auto field = [](const char *name, const QString &value) -> QByteArray {
        return QByteArray(name) + '=' + QUrl::toPercentEncoding(value);
    };
    QList<QByteArray> fields { field("grant_type", QStringLiteral("client_credentials")),
                               field("client_id", m_settings.clientId), field("scope", scopeOf(service)) };
    if (m_credential) {
        AssertionClaims claims;
        claims.clientId = m_settings.clientId;
        claims.audience = m_settings.tokenUrl().toString();
        claims.issuedAt = QDateTime::currentDateTimeUtc();
        claims.lifetimeSeconds = std::clamp(m_settings.assertionLifetimeSeconds, 60, 600);
        claims.jti = newGuid();
        auto assertion = buildClientAssertion(*m_credential, claims, m_settings.assertionAlgorithm);
        if (!assertion)
            return assertion.error();
        fields << field("client_assertion_type",
                        QStringLiteral("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))
               << QByteArray("client_assertion=") + QUrl::toPercentEncoding(QString::fromLatin1(*assertion));
    } else {
        fields << field("client_secret", m_settings.clientSecret);
    }
    return fields.join('&');
}

void TenantHttp::fetchToken(Service service)
{
    TokenState &st = m_tokens[int(service)];
    st.fetching = true;
    ++m_stats.tokenRequests;
    auto fail = [this, service](const TenantError &e) {
        TokenState &s = m_tokens[int(service)];
        s.fetching = false;
        const auto waiters = std::exchange(s.waiters, {});
        for (const auto &w : waiters)
            w(e);
    };
    auto body = tokenRequestBody(service);
    if (!body) {
        TenantError e;
        e.source = TenantError::Source::Configuration;
        e.code = errc::Credential;
        e.message = body.error().toString();
        fail(e);
        return;
    }
    TenantRequest request;
    request.service = Service::Authority;
    request.verb = "POST";
    request.url = m_settings.tokenUrl();
    request.body = std::move(body.value());
    if (m_credential) // each retry signs a new assertion: a spent jti would be refused as a replay
        request.bodyPerAttempt = [this, service] {
            auto fresh = tokenRequestBody(service);
            return fresh ? fresh.value() : QByteArray();
        };
    request.contentType = "application/x-www-form-urlencoded";
    request.what = QStringLiteral("token for %1").arg(scopeOf(service));
    send(request, [this, service, fail](TenantResult<TenantResponse> result) {
        if (!result) {
            log(jobs::LogRecord::Level::Error,
                QStringLiteral("no token for %1: %2").arg(scopeOf(service), result.error().toString()),
                result.error().httpStatus, {}, result.error().clientRequestId, Service::Authority);
            fail(result.error());
            return;
        }
        const QJsonObject o = result->json();
        const QByteArray accessToken = o.value(QStringLiteral("access_token")).toString().toLatin1();
        const int expiresIn = o.value(QStringLiteral("expires_in")).toInt(); // a number in v2.0 answers
        if (accessToken.isEmpty() || expiresIn <= 0) {
            TenantError e;
            e.source = TenantError::Source::Protocol;
            e.code = QStringLiteral("badTokenResponse");
            e.message = QStringLiteral("the token endpoint answered without access_token/expires_in");
            fail(e);
            return;
        }
        TokenState &s = m_tokens[int(service)];
        s.fetching = false;
        s.accessToken = accessToken;
        const QDateTime now = QDateTime::currentDateTimeUtc();
        s.expiresAt = now.addSecs(expiresIn);
        // Renew ahead of expiry, but never sooner than half the lifetime for short-lived tokens.
        s.refreshAfter =
            now.addSecs(std::max(expiresIn - m_settings.tokenRefreshMarginSeconds, expiresIn / 2));
        const auto waiters = std::exchange(s.waiters, {});
        for (const auto &w : waiters)
            w(accessToken);
    });
}

} // namespace certsync::tenant
