#include "TenantSimulator.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMessageAuthenticationCode>
#include <QPointer>
#include <QSslCertificate>
#include <QSslKey>
#include <QTcpSocket>
#include <QUuid>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cmath>

namespace certsync::tenantsim {

using Header = QPair<QByteArray, QByteArray>;

namespace {

constexpr auto GraphAudience = "https://graph.microsoft.com";
constexpr auto ExchangeAudience = "https://outlook.office365.com";
constexpr int MaxCertificateValues = 15; // Entra ID / Exchange per-attribute limit
constexpr int MaxCertificateUserIds = 10;
constexpr int MaxBatchRequests = 20;

QString newGuid()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

QByteArray jsonBytes(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray b64url(const QByteArray &b)
{
    return b.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray unb64url(const QByteArray &b)
{
    return QByteArray::fromBase64(b, QByteArray::Base64UrlEncoding);
}

// Base64url as RFC 7515 (JWS) uses it, decoded by the simulator's own rules, not the client's: only
// the URL-safe alphabet; '=' padding only where `padded` allows it (a JWS segment never has it; a
// header value such as x5t may, as MSAL writes it) and then only as much as completes a quartet; a
// length no encoding produces is an error.
std::optional<QByteArray> joseBase64(QByteArrayView text, bool padded)
{
    qsizetype end = text.size();
    while (padded && end > 0 && text[end - 1] == '=')
        --end;
    const qsizetype padding = text.size() - end;
    if (padding > 2 || (padding > 0 && text.size() % 4 != 0) || end % 4 == 1)
        return std::nullopt;
    for (qsizetype i = 0; i < end; ++i) {
        const char c = text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
              || c == '_'))
            return std::nullopt;
    }
    QByteArray quartets = text.first(end).toByteArray();
    quartets.append((4 - end % 4) % 4, '=');
    auto decoded = QByteArray::fromBase64Encoding(
        quartets, QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    return *decoded;
}

// A JOSE header or claims segment: base64url of a JSON object, nothing else.
std::optional<QJsonObject> joseObject(QByteArrayView segment)
{
    const auto bytes = joseBase64(segment, false);
    if (!bytes)
        return std::nullopt;
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(*bytes, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    return doc.object();
}

// A NumericDate claim (RFC 7519 2): seconds, integral or not (MSAL sends time.time() + 600).
std::optional<double> numericDate(const QJsonObject &claims, const QString &name)
{
    const QJsonValue v = claims.value(name);
    return v.isDouble() ? std::optional<double>(v.toDouble()) : std::nullopt;
}

QString isoNow()
{
    return QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
}

QString methodName(QHttpServerRequest::Method m)
{
    switch (m) {
    case QHttpServerRequest::Method::Get:
        return QStringLiteral("GET");
    case QHttpServerRequest::Method::Put:
        return QStringLiteral("PUT");
    case QHttpServerRequest::Method::Delete:
        return QStringLiteral("DELETE");
    case QHttpServerRequest::Method::Post:
        return QStringLiteral("POST");
    case QHttpServerRequest::Method::Head:
        return QStringLiteral("HEAD");
    case QHttpServerRequest::Method::Options:
        return QStringLiteral("OPTIONS");
    case QHttpServerRequest::Method::Patch:
        return QStringLiteral("PATCH");
    default:
        return QStringLiteral("OTHER");
    }
}

SimRequest fromHttp(const QHttpServerRequest &request)
{
    SimRequest req;
    req.method = methodName(request.method()).toLatin1();
    req.path = request.url().path();
    req.query = request.query();
    for (const auto &h : request.headers())
        req.headers.insert(h.first.toLower(), h.second);
    req.body = request.body();
    req.host = QString::fromLatin1(req.headers.value("host"));
    req.requestId = newGuid();
    return req;
}

bool isWrite(const SimRequest &req)
{
    if (req.method == "PATCH")
        return true;
    if (req.method == "POST" && req.path.endsWith(QStringLiteral("/$batch")))
        return true;
    if (req.method == "POST" && req.path.endsWith(QStringLiteral("/InvokeCommand"))) {
        const QJsonObject input =
            QJsonDocument::fromJson(req.body).object().value(QStringLiteral("CmdletInput")).toObject();
        return input.value(QStringLiteral("CmdletName")).toString().startsWith(QStringLiteral("Set-"));
    }
    return false;
}

// Exchange's REST endpoint takes byte arrays either as base64 strings or as arrays of numbers.
std::optional<QList<QByteArray>> decodeByteArrays(const QJsonValue &v)
{
    QList<QByteArray> out;
    if (v.isNull() || v.isUndefined())
        return out;
    const QJsonArray arr = v.isArray() ? v.toArray() : QJsonArray { v };
    for (const QJsonValue &item : arr) {
        if (item.isString()) {
            const auto decoded = QByteArray::fromBase64Encoding(item.toString().toLatin1(),
                                                                QByteArray::AbortOnBase64DecodingErrors);
            if (!decoded)
                return std::nullopt;
            out.append(*decoded);
        } else if (item.isArray()) {
            QByteArray bytes;
            for (const QJsonValue &b : item.toArray()) {
                const int x = b.toInt(-1);
                if (x < 0 || x > 255)
                    return std::nullopt;
                bytes.append(char(x));
            }
            out.append(bytes);
        } else {
            return std::nullopt;
        }
    }
    return out;
}

struct DeltaCursor
{
    quint32 generation = 0;
    qint64 since = 0;
    qint64 upto = 0;
    int offset = 0;
    QString select;
};

QString encodeCursor(const DeltaCursor &c)
{
    const QJsonObject o { { QStringLiteral("g"), qint64(c.generation) },
                          { QStringLiteral("s"), c.since },
                          { QStringLiteral("u"), c.upto },
                          { QStringLiteral("o"), c.offset },
                          { QStringLiteral("sel"), c.select } };
    return QString::fromLatin1(b64url(jsonBytes(o)));
}

std::optional<DeltaCursor> decodeCursor(const QString &token)
{
    const QJsonDocument doc = QJsonDocument::fromJson(unb64url(token.toLatin1()));
    if (!doc.isObject())
        return std::nullopt;
    const QJsonObject o = doc.object();
    DeltaCursor c;
    c.generation = quint32(o.value(QStringLiteral("g")).toInteger());
    c.since = o.value(QStringLiteral("s")).toInteger();
    c.upto = o.value(QStringLiteral("u")).toInteger();
    c.offset = o.value(QStringLiteral("o")).toInt();
    c.select = o.value(QStringLiteral("sel")).toString();
    return c;
}

} // namespace

void Faults::merge(const QJsonObject &o)
{
    throttleRate = o.value(QStringLiteral("throttleRate")).toDouble(throttleRate);
    retryAfterSeconds = o.value(QStringLiteral("retryAfterSeconds")).toInt(retryAfterSeconds);
    unavailableRate = o.value(QStringLiteral("unavailableRate")).toDouble(unavailableRate);
    latencyMs = o.value(QStringLiteral("latencyMs")).toInt(latencyMs);
    dropRate = o.value(QStringLiteral("dropRate")).toDouble(dropRate);
    exchangeCulture = o.value(QStringLiteral("exchangeCulture")).toString(exchangeCulture);
    exchangeErrorShape = o.value(QStringLiteral("exchangeErrorShape")).toString(exchangeErrorShape);
    exchangeWarning = o.value(QStringLiteral("exchangeWarning")).toString(exchangeWarning);
    throttleNext = o.value(QStringLiteral("throttleNext")).toInt(throttleNext);
    unavailableNext = o.value(QStringLiteral("unavailableNext")).toInt(unavailableNext);
    dropNextWrites = o.value(QStringLiteral("dropNextWrites")).toInt(dropNextWrites);
    dropNextTokens = o.value(QStringLiteral("dropNextTokens")).toInt(dropNextTokens);
    holdAppliedWritesMs = o.value(QStringLiteral("holdAppliedWritesMs")).toInt(holdAppliedWritesMs);
    rateLimit = o.value(QStringLiteral("rateLimit")).toInt(rateLimit);
    rateWindowMs = std::max(100, o.value(QStringLiteral("rateWindowMs")).toInt(rateWindowMs));
}

QJsonObject Faults::toJson() const
{
    return { { QStringLiteral("throttleRate"), throttleRate },
             { QStringLiteral("retryAfterSeconds"), retryAfterSeconds },
             { QStringLiteral("unavailableRate"), unavailableRate },
             { QStringLiteral("latencyMs"), latencyMs },
             { QStringLiteral("dropRate"), dropRate },
             { QStringLiteral("throttleNext"), throttleNext },
             { QStringLiteral("unavailableNext"), unavailableNext },
             { QStringLiteral("dropNextWrites"), dropNextWrites },
             { QStringLiteral("dropNextTokens"), dropNextTokens },
             { QStringLiteral("holdAppliedWritesMs"), holdAppliedWritesMs },
             { QStringLiteral("rateLimit"), rateLimit },
             { QStringLiteral("rateWindowMs"), rateWindowMs },
             { QStringLiteral("exchangeCulture"), exchangeCulture },
             { QStringLiteral("exchangeErrorShape"), exchangeErrorShape },
             { QStringLiteral("exchangeWarning"), exchangeWarning } };
}

SimResponse SimResponse::json(int status, const QJsonObject &body)
{
    SimResponse r;
    r.status = status;
    r.body = jsonBytes(body);
    r.headers.append(
        Header("Content-Type",
               "application/"
               "json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"));
    return r;
}

TenantSimulator::TenantSimulator(SimOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_random(m_options.randomSeed)
{
    m_clock.start();
    m_tokenKey = QUuid::createUuid().toRfc4122();
    // Saving on every write would dominate a benchmark (thousands of users with certificates make
    // a file of megabytes); a debounce keeps the file nearly current, POST /admin/save exactly.
    m_saveTimer.setSingleShot(true);
    m_saveTimer.setInterval(1000);
    connect(&m_saveTimer, &QTimer::timeout, this, [this] {
        QString error;
        if (!saveNow(&error))
            qWarning("tenantsim: cannot save state: %s", qPrintable(error));
    });
}

TenantSimulator::~TenantSimulator()
{
    QString error;
    saveNow(&error);
}

bool TenantSimulator::initialize(QString *error)
{
    if (!m_options.statePath.isEmpty() && QFile::exists(m_options.statePath)) {
        if (!m_state.loadFile(m_options.statePath, error))
            return false;
    } else if (!m_options.seedPath.isEmpty()) {
        if (!m_state.loadFile(m_options.seedPath, error))
            return false;
    } else {
        *error = QStringLiteral("give --seed FILE or an existing --state FILE");
        return false;
    }
    if (!m_options.accessLogPath.isEmpty()) {
        m_accessLog = std::make_unique<QFile>(m_options.accessLogPath);
        if (!m_accessLog->open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Text)) {
            *error = QStringLiteral("%1: %2").arg(m_options.accessLogPath, m_accessLog->errorString());
            return false;
        }
    }
    m_server.setMissingHandler([this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        handle(request, std::move(responder));
    });
    m_admin.setMissingHandler([this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        handleAdmin(request, std::move(responder));
    });
    return saveNow(error);
}

bool TenantSimulator::listen(const QByteArray &certPem, const QByteArray &keyPem, quint16 port,
                             quint16 adminPort, QString *error)
{
    const QSslCertificate cert(certPem, QSsl::Pem);
    QSslKey key(keyPem, QSsl::Ec, QSsl::Pem);
    if (key.isNull())
        key = QSslKey(keyPem, QSsl::Rsa, QSsl::Pem);
    if (cert.isNull() || key.isNull()) {
        *error = QStringLiteral("unusable TLS certificate or key");
        return false;
    }
    m_server.sslSetup(cert, key);
    m_port = m_server.listen(QHostAddress::LocalHost, port);
    if (m_port == 0) {
        *error = QStringLiteral("cannot listen on 127.0.0.1:%1").arg(port);
        return false;
    }
    m_adminPort = m_admin.listen(QHostAddress::LocalHost, adminPort);
    if (m_adminPort == 0) {
        *error = QStringLiteral("cannot listen on 127.0.0.1:%1 (admin)").arg(adminPort);
        return false;
    }
    return true;
}

bool TenantSimulator::saveNow(QString *error)
{
    if (m_options.statePath.isEmpty())
        return true;
    return m_state.saveFile(m_options.statePath, error);
}

void TenantSimulator::changed()
{
    if (!m_saveTimer.isActive())
        m_saveTimer.start();
}

void TenantSimulator::writeAccessLog(const SimRequest &req, int status, const QString &note)
{
    if (!m_accessLog)
        return;
    QString target = req.path;
    if (!req.query.isEmpty())
        target += QLatin1Char('?') + req.query.toString(QUrl::FullyDecoded);
    // Tab-separated: time, method, target, status, request-id, client-request-id, note.
    const QString line =
        QStringList { isoNow(),
                      (req.inBatch ? QStringLiteral("batch:") : QString()) + QString::fromLatin1(req.method),
                      target,
                      QString::number(status),
                      req.requestId,
                      QString::fromLatin1(req.headers.value("client-request-id")),
                      note }
            .join(QLatin1Char('\t'));
    m_accessLog->write(line.toUtf8() + '\n');
    m_accessLog->flush();
}

void TenantSimulator::handle(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    SimRequest req = fromHttp(request);
    ++m_requests;
    auto shared = std::make_shared<QHttpServerResponder>(std::move(responder));
    if (m_options.faults.latencyMs > 0) {
        QPointer<QTcpSocket> socket = shared->socket();
        QTimer::singleShot(m_options.faults.latencyMs, this, [this, req, shared, socket] {
            if (!socket || socket->state() != QAbstractSocket::ConnectedState) {
                writeAccessLog(req, 0, QStringLiteral("client gone"));
                return;
            }
            finishRequest(req, shared);
        });
        return;
    }
    finishRequest(req, shared);
}

void TenantSimulator::finishRequest(const SimRequest &req,
                                    const std::shared_ptr<QHttpServerResponder> &responder)
{
    SimResponse resp = route(req);
    writeAccessLog(req, resp.status, resp.drop ? QStringLiteral("dropped") : resp.note);
    const int hold = m_options.faults.holdAppliedWritesMs;
    if (hold > 0 && !resp.drop && resp.note == QStringLiteral("applied")) {
        // Applied (and logged as such); the answer leaves later, if the client is still there.
        QPointer<QTcpSocket> socket = responder->socket();
        QTimer::singleShot(hold, this, [this, req, resp, responder, socket] {
            if (socket && socket->state() == QAbstractSocket::ConnectedState)
                respond(req, resp, *responder);
        });
        return;
    }
    respond(req, resp, *responder);
}

void TenantSimulator::respond(const SimRequest &req, const SimResponse &answer,
                              QHttpServerResponder &responder)
{
    SimResponse resp = answer;
    if (resp.drop) {
        ++m_dropped;
        responder.socket()->abort();
        return;
    }
    resp.headers.append(Header("request-id", req.requestId.toLatin1()));
    if (req.headers.contains("client-request-id"))
        resp.headers.append(Header("client-request-id", req.headers.value("client-request-id")));
    resp.headers.append(Header("Date", QDateTime::currentDateTimeUtc().toString(Qt::RFC2822Date).toLatin1()));
    responder.writeStatusLine(QHttpServerResponder::StatusCode(resp.status));
    QList<QPair<QByteArray, QByteArray>> headers = resp.headers;
    headers.append(Header("Content-Length", QByteArray::number(resp.body.size())));
    for (const auto &h : headers)
        responder.writeHeader(h.first, h.second);
    responder.writeBody(resp.body);
}

SimResponse TenantSimulator::route(const SimRequest &req)
{
    const QStringList parts = req.path.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    if (parts.size() == 4 && parts[1] == QStringLiteral("v2.0") && parts[2] == QStringLiteral(".well-known")
        && parts[3] == QStringLiteral("openid-configuration") && req.method == "GET")
        return openIdConfiguration(req, parts[0]);
    if (parts.size() == 4 && parts[1] == QStringLiteral("oauth2") && parts[2] == QStringLiteral("v2.0")
        && parts[3] == QStringLiteral("token") && req.method == "POST")
        return token(req, parts[0]);
    if (parts.size() == 4 && parts[1] == QStringLiteral("discovery") && parts[3] == QStringLiteral("keys"))
        return SimResponse::json(200, { { QStringLiteral("keys"), QJsonArray {} } });
    if (!parts.isEmpty() && parts[0] == QStringLiteral("v1.0"))
        return graph(req);
    if (parts.size() == 4 && parts[0] == QStringLiteral("adminapi") && parts[1] == QStringLiteral("beta")
        && parts[3] == QStringLiteral("InvokeCommand")) {
        SimResponse r = exchange(req);
        maybeDrop(r, req);
        return r;
    }
    return graphError(404, QStringLiteral("BadRequest"),
                      QStringLiteral("Resource not found for the segment '%1'.").arg(parts.value(0)), req);
}

// ---- Entra ID token endpoint ---------------------------------------------------------------

SimResponse TenantSimulator::openIdConfiguration(const SimRequest &req, const QString &tenant)
{
    const QString base = baseUrl(req) + QLatin1Char('/') + tenant;
    QJsonObject o {
        { QStringLiteral("token_endpoint"), QString(base + QStringLiteral("/oauth2/v2.0/token")) },
        { QStringLiteral("token_endpoint_auth_methods_supported"),
          QJsonArray { QStringLiteral("client_secret_post"), QStringLiteral("private_key_jwt"),
                       QStringLiteral("client_secret_basic") } },
        { QStringLiteral("jwks_uri"), QString(base + QStringLiteral("/discovery/v2.0/keys")) },
        { QStringLiteral("response_modes_supported"),
          QJsonArray { QStringLiteral("query"), QStringLiteral("fragment"), QStringLiteral("form_post") } },
        { QStringLiteral("subject_types_supported"), QJsonArray { QStringLiteral("pairwise") } },
        { QStringLiteral("id_token_signing_alg_values_supported"), QJsonArray { QStringLiteral("RS256") } },
        { QStringLiteral("response_types_supported"),
          QJsonArray { QStringLiteral("code"), QStringLiteral("id_token"), QStringLiteral("code id_token"),
                       QStringLiteral("id_token token") } },
        { QStringLiteral("scopes_supported"),
          QJsonArray { QStringLiteral("openid"), QStringLiteral("profile"), QStringLiteral("email"),
                       QStringLiteral("offline_access") } },
        { QStringLiteral("issuer"), QString(base + QStringLiteral("/v2.0")) },
        { QStringLiteral("request_uri_parameter_supported"), false },
        { QStringLiteral("userinfo_endpoint"), QStringLiteral("https://graph.microsoft.com/oidc/userinfo") },
        { QStringLiteral("authorization_endpoint"),
          QString(base + QStringLiteral("/oauth2/v2.0/authorize")) },
        { QStringLiteral("device_authorization_endpoint"),
          QString(base + QStringLiteral("/oauth2/v2.0/devicecode")) },
        { QStringLiteral("http_logout_supported"), true },
        { QStringLiteral("frontchannel_logout_supported"), true },
        { QStringLiteral("end_session_endpoint"), QString(base + QStringLiteral("/oauth2/v2.0/logout")) },
        { QStringLiteral("claims_supported"),
          QJsonArray { QStringLiteral("sub"), QStringLiteral("iss"), QStringLiteral("aud"),
                       QStringLiteral("exp"), QStringLiteral("iat"), QStringLiteral("nbf"),
                       QStringLiteral("tid") } },
        { QStringLiteral("kerberos_endpoint"), QString(base + QStringLiteral("/kerberos")) },
        { QStringLiteral("tenant_region_scope"), QStringLiteral("EU") },
        { QStringLiteral("cloud_instance_name"), QStringLiteral("microsoftonline.com") },
        { QStringLiteral("cloud_graph_host_name"), QStringLiteral("graph.windows.net") },
        { QStringLiteral("msgraph_host"), QStringLiteral("graph.microsoft.com") },
        { QStringLiteral("rbac_url"), QStringLiteral("https://pas.windows.net") }
    };
    return SimResponse::json(200, o);
}

SimResponse TenantSimulator::tokenError(int status, const QString &error, int code,
                                        const QString &description)
{
    const QString traceId = newGuid();
    const QString correlationId = newGuid();
    const QString timestamp =
        QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss'Z'"));
    QJsonObject o { { QStringLiteral("error"), error },
                    { QStringLiteral("error_description"),
                      QStringLiteral("AADSTS%1: %2 Trace ID: %3 Correlation ID: %4 Timestamp: %5")
                          .arg(code)
                          .arg(description, traceId, correlationId, timestamp) },
                    { QStringLiteral("error_codes"), QJsonArray { code } },
                    { QStringLiteral("timestamp"), timestamp },
                    { QStringLiteral("trace_id"), traceId },
                    { QStringLiteral("correlation_id"), correlationId },
                    { QStringLiteral("error_uri"),
                      QStringLiteral("https://login.microsoftonline.com/error?code=%1").arg(code) } };
    SimResponse r = SimResponse::json(status, o);
    r.headers[0].second = "application/json; charset=utf-8";
    r.note = QStringLiteral("AADSTS%1").arg(code);
    return r;
}

SimResponse TenantSimulator::token(const SimRequest &req, const QString &tenant)
{
    if (tenant != m_state.tenantId)
        return tokenError(400, QStringLiteral("invalid_request"), 90002,
                          QStringLiteral("Tenant '%1' not found. Check to make sure you have the correct "
                                         "tenant ID and are signing into the correct cloud.")
                              .arg(tenant));
    if (!req.headers.value("content-type").startsWith("application/x-www-form-urlencoded"))
        return tokenError(
            400, QStringLiteral("invalid_request"), 900144,
            QStringLiteral("The request body must contain the following parameter: 'grant_type'."));
    // Form bodies encode spaces as '+', which QUrlQuery leaves alone.
    QByteArray form = req.body;
    form.replace('+', "%20");
    const QUrlQuery q(QString::fromLatin1(form));
    auto param = [&q](const char *name) { return q.queryItemValue(QLatin1String(name), QUrl::FullyDecoded); };
    if (param("grant_type") != QStringLiteral("client_credentials"))
        return tokenError(400, QStringLiteral("unsupported_grant_type"), 70003,
                          QStringLiteral("The app requested an unsupported grant type."));
    const SimApp *app = m_state.app(param("client_id"));
    if (!app)
        return tokenError(
            400, QStringLiteral("unauthorized_client"), 700016,
            QStringLiteral("Application with identifier '%1' was not found in the directory '%2'.")
                .arg(param("client_id"), tenant));
    const QString scope = param("scope");
    QString audience;
    if (scope == QLatin1String(GraphAudience) + QStringLiteral("/.default"))
        audience = QLatin1String(GraphAudience);
    else if (scope == QLatin1String(ExchangeAudience) + QStringLiteral("/.default"))
        audience = QLatin1String(ExchangeAudience);
    else
        return tokenError(
            400, QStringLiteral("invalid_scope"), 1002012,
            QStringLiteral(
                "The provided value for scope %1 is not valid. Client credential flows must have a scope "
                "value with /.default suffixed to the resource identifier (application ID URI).")
                .arg(scope));

    const QString secret = param("client_secret");
    const QString assertion = param("client_assertion");
    if (!secret.isEmpty()) {
        const QByteArray digest =
            QCryptographicHash::hash(secret.toUtf8(), QCryptographicHash::Sha256).toHex();
        if (app->secretSha256.isEmpty() || digest != app->secretSha256)
            return tokenError(
                401, QStringLiteral("invalid_client"), 7000215,
                QStringLiteral(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the "
                    "client secret value, not the client secret ID, for a secret added to app '%1'.")
                    .arg(app->clientId));
    } else if (!assertion.isEmpty()) {
        if (param("client_assertion_type")
            != QStringLiteral("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))
            return tokenError(
                400, QStringLiteral("invalid_request"), 50027,
                QStringLiteral(
                    "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer."));
        int code = 0;
        if (const auto problem = verifyAssertion(req, *app, assertion.toLatin1(), &code))
            return tokenError(401, QStringLiteral("invalid_client"), code, *problem);
    } else {
        return tokenError(401, QStringLiteral("invalid_client"), 7000218,
                          QStringLiteral("The request body must contain the following parameter: "
                                         "'client_assertion' or 'client_secret'."));
    }

    const qint64 nowS = QDateTime::currentSecsSinceEpoch();
    const QJsonObject header { { QStringLiteral("typ"), QStringLiteral("JWT") },
                               { QStringLiteral("alg"), QStringLiteral("HS256") } };
    const QJsonObject payload { { QStringLiteral("aud"), audience },
                                { QStringLiteral("iss"),
                                  QStringLiteral("https://sts.windows.net/%1/").arg(tenant) },
                                { QStringLiteral("iat"), nowS },
                                { QStringLiteral("nbf"), nowS },
                                { QStringLiteral("exp"), nowS + m_options.tokenLifetimeSeconds },
                                { QStringLiteral("appid"), app->clientId },
                                { QStringLiteral("tid"), tenant },
                                { QStringLiteral("uti"), newGuid() },
                                { QStringLiteral("ver"), QStringLiteral("1.0") } };
    const QByteArray signingInput = b64url(jsonBytes(header)) + '.' + b64url(jsonBytes(payload));
    const QByteArray accessToken = signingInput + '.'
        + b64url(QMessageAuthenticationCode::hash(signingInput, m_tokenKey, QCryptographicHash::Sha256));
    m_tokens.insert(QString::fromLatin1(accessToken),
                    IssuedToken { app->clientId, audience,
                                  m_clock.elapsed() + qint64(m_options.tokenLifetimeSeconds) * 1000 });
    SimResponse r =
        SimResponse::json(200,
                          { { QStringLiteral("token_type"), QStringLiteral("Bearer") },
                            { QStringLiteral("expires_in"), m_options.tokenLifetimeSeconds },
                            { QStringLiteral("ext_expires_in"), m_options.tokenLifetimeSeconds },
                            { QStringLiteral("access_token"), QString::fromLatin1(accessToken) } });
    r.headers[0].second = "application/json; charset=utf-8";
    r.note = secret.isEmpty() ? QStringLiteral("certificate") : QStringLiteral("secret");
    if (m_options.faults.dropNextTokens > 0) {
        --m_options.faults.dropNextTokens;
        r.drop = true;
    }
    return r;
}

// Verifies a client assertion the way Entra ID documents it: a JWT signed (PS256 or RS256) with
// the key of a certificate registered on the app, found through x5t#S256 (or x5t), whose aud is
// the token endpoint, iss and sub the client id, inside nbf..exp, with a jti never seen before.
std::optional<QString> TenantSimulator::verifyAssertion(const SimRequest &req, const SimApp &app,
                                                        const QByteArray &assertion, int *aadsts)
{
    *aadsts = 700027; // Client assertion failed signature validation.
    const QList<QByteArray> parts = assertion.split('.');
    const std::optional<QJsonObject> header = parts.size() == 3 ? joseObject(parts[0]) : std::nullopt;
    const std::optional<QJsonObject> claims = parts.size() == 3 ? joseObject(parts[1]) : std::nullopt;
    const std::optional<QByteArray> signature =
        parts.size() == 3 ? joseBase64(parts[2], false) : std::nullopt;
    if (!header || !claims || !signature) {
        *aadsts = 50027;
        return QStringLiteral("JWT token is invalid or malformed: the client assertion is not a JWS compact "
                              "serialization of base64url JSON objects.");
    }
    const QJsonObject &payload = *claims;
    const QString alg = header->value(QStringLiteral("alg")).toString();
    if (alg != QStringLiteral("PS256") && alg != QStringLiteral("RS256"))
        return QStringLiteral("Client assertion uses the unsupported algorithm '%1'.").arg(alg);

    // The key: a registered certificate whose SHA-256 (x5t#S256) or SHA-1 (x5t) thumbprint the header
    // names, compared as bytes (MSAL pads x5t with '=', certsync does not: both name the same bytes).
    const QString x5tS256Text = header->value(QStringLiteral("x5t#S256")).toString();
    const QString x5tText = header->value(QStringLiteral("x5t")).toString();
    const auto x5tS256 = joseBase64(x5tS256Text.toLatin1(), true);
    const auto x5t = joseBase64(x5tText.toLatin1(), true);
    const QString thumbprint = x5tS256Text.isEmpty() ? x5tText : x5tS256Text;
    const QByteArray *certDer = nullptr;
    for (const QByteArray &der : app.certificatesDer) {
        if ((!x5tS256Text.isEmpty() && x5tS256
             && QCryptographicHash::hash(der, QCryptographicHash::Sha256) == *x5tS256)
            || (!x5tText.isEmpty() && x5t && QCryptographicHash::hash(der, QCryptographicHash::Sha1) == *x5t))
            certDer = &der;
    }
    if (!certDer) {
        *aadsts = 700027;
        return QStringLiteral(
                   "The certificate with identifier used to sign the client assertion is not registered on "
                   "application. [Reason - The key was not found., Thumbprint of key used by client: '%1']")
            .arg(thumbprint);
    }

    const unsigned char *p = reinterpret_cast<const unsigned char *>(certDer->constData());
    std::unique_ptr<X509, decltype(&X509_free)> cert(d2i_X509(nullptr, &p, certDer->size()), &X509_free);
    if (!cert)
        return QStringLiteral("The registered certificate cannot be parsed.");
    EVP_PKEY *publicKey = X509_get0_pubkey(cert.get());
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_PKEY_CTX *pctx = nullptr;
    bool verified = EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, publicKey) == 1;
    if (verified && alg == QStringLiteral("PS256")) {
        // RFC 7518 3.5: PSS with MGF1/SHA-256 and a salt as long as the hash.
        verified = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    }
    const QByteArray signingInput = parts[0] + '.' + parts[1];
    verified = verified
        && EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char *>(signature->constData()),
                            size_t(signature->size()),
                            reinterpret_cast<const unsigned char *>(signingInput.constData()),
                            size_t(signingInput.size()))
            == 1;
    while (ERR_get_error() != 0) { }
    if (!verified)
        return QStringLiteral(
                   "Client assertion contains an invalid signature. [Reason - The key was found, but the "
                   "signature could not be verified., Thumbprint of key used by client: '%1']")
            .arg(thumbprint);

    const QString expectedAudience = baseUrl(req) + req.path;
    const QString clientId = app.clientId;
    if (payload.value(QStringLiteral("aud")).toString() != expectedAudience) {
        *aadsts = 700212;
        return QStringLiteral("No matching federated identity record found for presented assertion audience "
                              "'%1'. The audience must be '%2'.")
            .arg(payload.value(QStringLiteral("aud")).toString(), expectedAudience);
    }
    if (payload.value(QStringLiteral("iss")).toString() != clientId
        || payload.value(QStringLiteral("sub")).toString() != clientId) {
        *aadsts = 700021;
        return QStringLiteral("Client assertion application identifier doesn't match 'client_id' parameter.");
    }
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const qint64 skew = 300; // Entra tolerates a few minutes of clock skew
    const qint64 exp = qint64(std::floor(numericDate(payload, QStringLiteral("exp")).value_or(0)));
    const qint64 nbf = qint64(std::floor(numericDate(payload, QStringLiteral("nbf")).value_or(double(now))));
    if (exp == 0 || exp + skew < now || nbf - skew > now) {
        *aadsts = 700024;
        return QStringLiteral("Client assertion is not within its valid time range. Current time: %1, "
                              "assertion valid from %2, expiry time of assertion %3.")
            .arg(QDateTime::fromSecsSinceEpoch(now, Qt::UTC).toString(Qt::ISODate),
                 QDateTime::fromSecsSinceEpoch(nbf, Qt::UTC).toString(Qt::ISODate),
                 QDateTime::fromSecsSinceEpoch(exp, Qt::UTC).toString(Qt::ISODate));
    }
    const QString jti = payload.value(QStringLiteral("jti")).toString();
    if (jti.isEmpty() || m_seenJti.contains(jti)) {
        *aadsts = 700025;
        return QStringLiteral("Client assertion with jti '%1' has already been used (replay).").arg(jti);
    }
    m_seenJti.insert(jti);
    return std::nullopt;
}

// ---- API plumbing: authorization, faults, ceiling ----------------------------------------------

std::optional<SimResponse> TenantSimulator::authorize(const SimRequest &req, Service service)
{
    const QByteArray authorization = req.headers.value("authorization");
    const QString expected = QLatin1String(service == Service::Graph ? GraphAudience : ExchangeAudience);
    QString problem;
    if (!authorization.startsWith("Bearer ")) {
        problem = QStringLiteral("Access token is empty.");
    } else {
        const auto it = m_tokens.constFind(QString::fromLatin1(authorization.mid(7)));
        if (it == m_tokens.constEnd() || it->expiresAtMs <= m_clock.elapsed())
            problem = QStringLiteral("Access token has expired or is not yet valid.");
        else if (it->audience != expected)
            problem = QStringLiteral("Access token validation failure. Invalid audience.");
    }
    if (problem.isEmpty())
        return std::nullopt;
    if (service == Service::Exchange) {
        // Exchange answers a bad token with an empty 401 and the challenge header.
        SimResponse r;
        r.status = 401;
        r.headers.append(
            Header("WWW-Authenticate",
                   "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", "
                   "token_types=\"app_asserted_user_v1 service_asserted_app_v1\", error=\"invalid_token\""));
        r.note = problem;
        return r;
    }
    SimResponse r = graphError(401, QStringLiteral("InvalidAuthenticationToken"), problem, req);
    r.headers.append(Header(
        "WWW-Authenticate",
        "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", "
        "client_id=\"00000003-0000-0000-c000-000000000000\""));
    return r;
}

std::optional<SimResponse> TenantSimulator::injectFaults(const SimRequest &req, Service service)
{
    Faults &f = m_options.faults;
    auto throttled = [&](int retryAfter, const QString &note) {
        SimResponse r = service == Service::Graph
            ? graphError(429, QStringLiteral("TooManyRequests"), QStringLiteral("Too many requests."), req)
            : exchangeError(429, QStringLiteral("Microsoft.Exchange.Admin.OData.Core.ThrottlingException"),
                            QStringLiteral("Too many requests. Retry after %1 seconds.").arg(retryAfter),
                            req);
        r.headers.append(Header("Retry-After", QByteArray::number(retryAfter)));
        r.note = note;
        return r;
    };
    if (f.throttleNext > 0 || (f.throttleRate > 0 && m_random.generateDouble() < f.throttleRate)) {
        if (f.throttleNext > 0)
            --f.throttleNext;
        ++m_injected429;
        return throttled(f.retryAfterSeconds, QStringLiteral("injected 429"));
    }
    if (f.unavailableNext > 0 || (f.unavailableRate > 0 && m_random.generateDouble() < f.unavailableRate)) {
        if (f.unavailableNext > 0)
            --f.unavailableNext;
        ++m_injected503;
        SimResponse r = service == Service::Graph
            ? graphError(503, QStringLiteral("serviceNotAvailable"), QStringLiteral("Service unavailable."),
                         req)
            : exchangeError(503,
                            QStringLiteral("Microsoft.Exchange.Admin.OData.Core.ServiceUnavailableException"),
                            QStringLiteral("The service is temporarily unavailable."), req);
        r.note = QStringLiteral("injected 503");
        return r;
    }
    if (f.rateLimit > 0) {
        const qint64 now = m_clock.elapsed();
        if (m_windows.isEmpty() || now >= m_windows.last().startMs + f.rateWindowMs)
            m_windows.append(Window { now, 0, 0 });
        Window &w = m_windows.last();
        if (w.accepted >= f.rateLimit) {
            ++w.throttled;
            ++m_ceiling429;
            const qint64 left = w.startMs + f.rateWindowMs - now;
            return throttled(int(std::max<qint64>(1, (left + 999) / 1000)), QStringLiteral("ceiling 429"));
        }
        ++w.accepted;
    }
    return std::nullopt;
}

void TenantSimulator::maybeDrop(SimResponse &resp, const SimRequest &req)
{
    // Only a write that was applied: the point is a client that cannot know it succeeded.
    if (req.inBatch || !isWrite(req) || resp.status < 200 || resp.status >= 300)
        return;
    Faults &f = m_options.faults;
    if (f.dropNextWrites > 0) {
        --f.dropNextWrites;
        resp.drop = true;
    } else if (f.dropRate > 0 && m_random.generateDouble() < f.dropRate) {
        resp.drop = true;
    }
}

// ---- Microsoft Graph ---------------------------------------------------------------------------

SimResponse TenantSimulator::graphError(int status, const QString &code, const QString &message,
                                        const SimRequest &req)
{
    const QJsonObject inner {
        { QStringLiteral("date"), QDateTime::currentDateTimeUtc().toString(Qt::ISODate) },
        { QStringLiteral("request-id"), req.requestId },
        { QStringLiteral("client-request-id"), QString::fromLatin1(req.headers.value("client-request-id")) }
    };
    SimResponse r = SimResponse::json(status,
                                      { { QStringLiteral("error"),
                                          QJsonObject { { QStringLiteral("code"), code },
                                                        { QStringLiteral("message"), message },
                                                        { QStringLiteral("innerError"), inner } } } });
    r.note = code;
    return r;
}

SimResponse TenantSimulator::graph(const SimRequest &req)
{
    if (auto denied = authorize(req, Service::Graph))
        return *denied;
    const QStringList parts = req.path.split(QLatin1Char('/'), Qt::SkipEmptyParts); // v1.0/...
    if (parts.size() == 2 && parts[1] == QStringLiteral("$batch") && req.method == "POST") {
        SimResponse r = batch(req);
        maybeDrop(r, req);
        return r;
    }
    if (auto fault = injectFaults(req, Service::Graph))
        return *fault;
    SimResponse r;
    if (parts.size() == 2 && parts[1] == QStringLiteral("users") && req.method == "GET")
        r = listUsers(req);
    else if (parts.size() == 3 && parts[1] == QStringLiteral("users") && parts[2] == QStringLiteral("delta")
             && req.method == "GET")
        r = usersDelta(req);
    else if (parts.size() == 3 && parts[1] == QStringLiteral("users") && req.method == "GET")
        r = getUser(req, parts[2]);
    else if (parts.size() == 3 && parts[1] == QStringLiteral("users") && req.method == "PATCH")
        r = patchUser(req, parts[2]);
    else
        r = graphError(400, QStringLiteral("BadRequest"),
                       QStringLiteral("Unsupported segment or method: %1 %2")
                           .arg(QString::fromLatin1(req.method), req.path),
                       req);
    maybeDrop(r, req);
    return r;
}

std::optional<QStringList> TenantSimulator::selectFrom(const SimRequest &req, QString *bad) const
{
    static const QStringList known { QStringLiteral("id"),
                                     QStringLiteral("userPrincipalName"),
                                     QStringLiteral("displayName"),
                                     QStringLiteral("mail"),
                                     QStringLiteral("proxyAddresses"),
                                     QStringLiteral("onPremisesImmutableId"),
                                     QStringLiteral("onPremisesSyncEnabled"),
                                     QStringLiteral("accountEnabled"),
                                     QStringLiteral("authorizationInfo"),
                                     QStringLiteral("givenName"),
                                     QStringLiteral("surname"),
                                     QStringLiteral("jobTitle") };
    const QString raw = req.query.queryItemValue(QStringLiteral("$select"), QUrl::FullyDecoded);
    QStringList select;
    for (const QString &s : raw.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QString name = s.trimmed();
        if (!known.contains(name)) {
            *bad = name;
            return std::nullopt;
        }
        select.append(name);
    }
    return select;
}

QJsonObject TenantSimulator::userJson(const SimUser &u, const QStringList &selectIn) const
{
    // Without $select Graph returns its default set, which lacks the properties certsync needs.
    const QStringList select = selectIn.isEmpty() ? QStringList { QStringLiteral("businessPhones"),
                                                                  QStringLiteral("displayName"),
                                                                  QStringLiteral("givenName"),
                                                                  QStringLiteral("jobTitle"),
                                                                  QStringLiteral("mail"),
                                                                  QStringLiteral("mobilePhone"),
                                                                  QStringLiteral("officeLocation"),
                                                                  QStringLiteral("preferredLanguage"),
                                                                  QStringLiteral("surname"),
                                                                  QStringLiteral("userPrincipalName"),
                                                                  QStringLiteral("id") }
                                                  : selectIn;
    QJsonObject o;
    for (const QString &p : select) {
        if (p == QStringLiteral("id"))
            o.insert(p, u.id);
        else if (p == QStringLiteral("userPrincipalName"))
            o.insert(p, u.userPrincipalName);
        else if (p == QStringLiteral("displayName"))
            o.insert(p, u.displayName);
        else if (p == QStringLiteral("mail"))
            o.insert(p, u.mail.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(u.mail));
        else if (p == QStringLiteral("proxyAddresses"))
            o.insert(p, QJsonArray::fromStringList(u.proxyAddresses));
        else if (p == QStringLiteral("onPremisesImmutableId"))
            o.insert(p,
                     u.onPremisesImmutableId.isEmpty() ? QJsonValue(QJsonValue::Null)
                                                       : QJsonValue(u.onPremisesImmutableId));
        else if (p == QStringLiteral("onPremisesSyncEnabled"))
            o.insert(p,
                     u.onPremisesSyncEnabled ? QJsonValue(*u.onPremisesSyncEnabled)
                                             : QJsonValue(QJsonValue::Null));
        else if (p == QStringLiteral("accountEnabled"))
            o.insert(p, u.accountEnabled);
        else if (p == QStringLiteral("authorizationInfo"))
            o.insert(p,
                     QJsonObject { { QStringLiteral("certificateUserIds"),
                                     QJsonArray::fromStringList(u.certificateUserIds) } });
        else if (p == QStringLiteral("businessPhones"))
            o.insert(p, QJsonArray {});
        else
            o.insert(p, QJsonValue::Null);
    }
    return o;
}

SimResponse TenantSimulator::listUsers(const SimRequest &req)
{
    QString bad;
    const auto select = selectFrom(req, &bad);
    if (!select)
        return graphError(
            400, QStringLiteral("BadRequest"),
            QStringLiteral("Could not find a property named '%1' on type 'microsoft.graph.user'.").arg(bad),
            req);
    int top = m_options.usersPageSize;
    if (req.query.hasQueryItem(QStringLiteral("$top"))) {
        bool ok = false;
        top = req.query.queryItemValue(QStringLiteral("$top")).toInt(&ok);
        if (!ok || top < 1 || top > 999)
            return graphError(
                400, QStringLiteral("Request_UnsupportedQuery"),
                QStringLiteral("Invalid page size specified: '%1'. Must be between 1 and 999 inclusive.")
                    .arg(req.query.queryItemValue(QStringLiteral("$top"))),
                req);
        top = std::min(top, m_options.usersPageSize == 100 ? 999 : m_options.usersPageSize);
    }
    int offset = 0;
    if (req.query.hasQueryItem(QStringLiteral("$skiptoken"))) {
        const auto cursor = decodeCursor(req.query.queryItemValue(QStringLiteral("$skiptoken")));
        if (!cursor)
            return graphError(400, QStringLiteral("Directory_ExpiredPageToken"),
                              QStringLiteral("The specified page token value has expired and can no longer "
                                             "be included in your request."),
                              req);
        offset = cursor->offset;
    }
    QJsonArray value;
    int index = 0;
    int returned = 0;
    bool more = false;
    for (const SimUser &u : m_state.users) {
        if (u.deleted)
            continue;
        if (index++ < offset)
            continue;
        if (returned == top) {
            more = true;
            break;
        }
        value.append(userJson(u, *select));
        ++returned;
    }
    const QString base = baseUrl(req) + QStringLiteral("/v1.0");
    QJsonObject o { { QStringLiteral("@odata.context"),
                      QString(base + QStringLiteral("/$metadata#users")
                              + (select->isEmpty() ? QString()
                                                   : QString(QLatin1Char('(') + select->join(QLatin1Char(','))
                                                             + QLatin1Char(')')))) },
                    { QStringLiteral("value"), value } };
    if (more) {
        QUrlQuery next;
        if (!select->isEmpty())
            next.addQueryItem(QStringLiteral("$select"), select->join(QLatin1Char(',')));
        next.addQueryItem(QStringLiteral("$top"), QString::number(top));
        DeltaCursor c;
        c.offset = offset + returned;
        next.addQueryItem(QStringLiteral("$skiptoken"), encodeCursor(c));
        o.insert(QStringLiteral("@odata.nextLink"),
                 QString(base + QStringLiteral("/users?") + next.toString(QUrl::FullyEncoded)));
    }
    return SimResponse::json(200, o);
}

SimResponse TenantSimulator::usersDelta(const SimRequest &req)
{
    const QString base = baseUrl(req) + QStringLiteral("/v1.0");
    DeltaCursor cursor;
    const QString deltaToken = req.query.queryItemValue(QStringLiteral("$deltatoken"));
    const QString skipToken = req.query.queryItemValue(QStringLiteral("$skiptoken"));
    if (deltaToken == QStringLiteral("latest")) {
        // Graph's way to start tracking from now on without reading everything.
        cursor.generation = m_state.deltaGeneration;
        cursor.since = m_state.version;
        cursor.select = req.query.queryItemValue(QStringLiteral("$select"), QUrl::FullyDecoded);
        return SimResponse::json(
            200,
            { { QStringLiteral("@odata.context"), QString(base + QStringLiteral("/$metadata#users")) },
              { QStringLiteral("value"), QJsonArray {} },
              { QStringLiteral("@odata.deltaLink"),
                QString(base + QStringLiteral("/users/delta?$deltatoken=") + encodeCursor(cursor)) } });
    }
    if (!deltaToken.isEmpty() || !skipToken.isEmpty()) {
        const auto decoded = decodeCursor(deltaToken.isEmpty() ? skipToken : deltaToken);
        if (!decoded || decoded->generation != m_state.deltaGeneration)
            // Microsoft's announcement of the 7-day delta link lifetime for identity resources:
            // "a BadRequest response with the error code syncStateNotFound" and this message. An
            // unknown token gets the same answer.
            return graphError(400, QStringLiteral("syncStateNotFound"),
                              QStringLiteral("The sync state generation is not found. The delta token is "
                                             "expired and data must be synchronized again."),
                              req);
        cursor = *decoded;
        if (!deltaToken.isEmpty()) { // a new round from the stored state
            cursor.upto = m_state.version;
            cursor.offset = 0;
        }
    } else {
        QString bad;
        if (!selectFrom(req, &bad))
            return graphError(
                400, QStringLiteral("BadRequest"),
                QStringLiteral("Could not find a property named '%1' on type 'microsoft.graph.user'.")
                    .arg(bad),
                req);
        cursor.generation = m_state.deltaGeneration;
        cursor.since = 0;
        cursor.upto = m_state.version;
        cursor.select = req.query.queryItemValue(QStringLiteral("$select"), QUrl::FullyDecoded);
    }
    QStringList select;
    for (const QString &s : cursor.select.split(QLatin1Char(','), Qt::SkipEmptyParts))
        select.append(s.trimmed());
    if (!select.contains(QStringLiteral("id")))
        select.prepend(QStringLiteral("id"));

    QJsonArray value;
    int index = 0;
    int returned = 0;
    bool more = false;
    for (const SimUser &u : m_state.users) {
        if (u.version <= cursor.since || u.version > cursor.upto)
            continue;
        if (u.deleted && cursor.since == 0)
            continue;
        if (index++ < cursor.offset)
            continue;
        if (returned == m_options.deltaPageSize) {
            more = true;
            break;
        }
        if (u.deleted)
            value.append(
                QJsonObject { { QStringLiteral("id"), u.id },
                              { QStringLiteral("@removed"),
                                QJsonObject { { QStringLiteral("reason"), QStringLiteral("changed") } } } });
        else
            value.append(userJson(u, select));
        ++returned;
    }
    QJsonObject o { { QStringLiteral("@odata.context"), QString(base + QStringLiteral("/$metadata#users")) },
                    { QStringLiteral("value"), value } };
    if (more) {
        DeltaCursor next = cursor;
        next.offset = cursor.offset + returned;
        o.insert(QStringLiteral("@odata.nextLink"),
                 QString(base + QStringLiteral("/users/delta?$skiptoken=") + encodeCursor(next)));
    } else {
        DeltaCursor next = cursor;
        next.since = cursor.upto;
        next.offset = 0;
        o.insert(QStringLiteral("@odata.deltaLink"),
                 QString(base + QStringLiteral("/users/delta?$deltatoken=") + encodeCursor(next)));
    }
    return SimResponse::json(200, o);
}

SimResponse TenantSimulator::getUser(const SimRequest &req, const QString &id)
{
    QString bad;
    const auto select = selectFrom(req, &bad);
    if (!select)
        return graphError(
            400, QStringLiteral("BadRequest"),
            QStringLiteral("Could not find a property named '%1' on type 'microsoft.graph.user'.").arg(bad),
            req);
    const SimUser *u = m_state.find(id);
    if (!u)
        return graphError(404, QStringLiteral("Request_ResourceNotFound"),
                          QStringLiteral("Resource '%1' does not exist or one of its queried "
                                         "reference-property objects are not present.")
                              .arg(id),
                          req);
    QJsonObject o = userJson(*u, *select);
    o.insert(QStringLiteral("@odata.context"),
             QString(baseUrl(req) + QStringLiteral("/v1.0/$metadata#users/$entity")));
    return SimResponse::json(200, o);
}

SimResponse TenantSimulator::patchUser(const SimRequest &req, const QString &id)
{
    if (!req.headers.value("content-type").startsWith("application/json"))
        return graphError(
            415, QStringLiteral("BadRequest"),
            QStringLiteral(
                "A supported MIME type could not be found that matches the content type of the response."),
            req);
    SimUser *u = m_state.find(id);
    if (!u)
        return graphError(404, QStringLiteral("Request_ResourceNotFound"),
                          QStringLiteral("Resource '%1' does not exist or one of its queried "
                                         "reference-property objects are not present.")
                              .arg(id),
                          req);
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(req.body, &parseError);
    if (!doc.isObject())
        return graphError(400, QStringLiteral("BadRequest"),
                          QStringLiteral("Unable to read JSON request payload."), req);
    const QJsonObject body = doc.object();
    for (auto it = body.begin(); it != body.end(); ++it) {
        if (it.key() != QStringLiteral("authorizationInfo"))
            return graphError(
                400, QStringLiteral("Request_BadRequest"),
                QStringLiteral("The simulator only supports updating authorizationInfo; got '%1'.")
                    .arg(it.key()),
                req);
    }
    const QJsonValue idsValue = body.value(QStringLiteral("authorizationInfo"))
                                    .toObject()
                                    .value(QStringLiteral("certificateUserIds"));
    if (!idsValue.isArray())
        return graphError(400, QStringLiteral("BadRequest"),
                          QStringLiteral("Invalid value for property 'certificateUserIds'."), req);
    QStringList ids;
    for (const QJsonValue &v : idsValue.toArray())
        ids.append(v.toString());
    if (u->isDirSynced())
        return graphError(400, QStringLiteral("Request_BadRequest"),
                          QStringLiteral("Unable to update the specified properties for on-premises mastered "
                                         "Directory Sync objects or objects currently undergoing migration."),
                          req);
    if (ids.size() > MaxCertificateUserIds)
        return graphError(
            400, QStringLiteral("Request_BadRequest"),
            QStringLiteral("The property 'certificateUserIds' has %1 values; at most %2 are allowed.")
                .arg(ids.size())
                .arg(MaxCertificateUserIds),
            req);
    for (const QString &value : std::as_const(ids)) {
        if (value.size() > 1024)
            return graphError(400, QStringLiteral("Request_BadRequest"),
                              QStringLiteral("A value of 'certificateUserIds' exceeds 1024 characters."),
                              req);
        for (const SimUser &other : std::as_const(m_state.users)) {
            if (&other != u && !other.deleted && other.certificateUserIds.contains(value))
                return graphError(
                    400, QStringLiteral("Request_BadRequest"),
                    QStringLiteral(
                        "Another object with the same value for property certificateUserIds already exists."),
                    req);
        }
    }
    u->certificateUserIds = ids;
    ++u->graphWrites;
    m_state.touch(*u);
    changed();
    SimResponse r;
    r.status = 204;
    r.note = QStringLiteral("applied");
    return r;
}

SimResponse TenantSimulator::batch(const SimRequest &req)
{
    if (!req.headers.value("content-type").startsWith("application/json"))
        return graphError(400, QStringLiteral("BadRequest"),
                          QStringLiteral("Batch request must have Content-Type application/json."), req);
    const QJsonArray requests =
        QJsonDocument::fromJson(req.body).object().value(QStringLiteral("requests")).toArray();
    if (requests.isEmpty() || requests.size() > MaxBatchRequests)
        return graphError(400, QStringLiteral("BadRequest"),
                          QStringLiteral("Invalid batch payload format. The number of requests in a batch "
                                         "must be between 1 and %1; got %2.")
                              .arg(MaxBatchRequests)
                              .arg(requests.size()),
                          req);
    QSet<QString> ids;
    for (const QJsonValue &v : requests) {
        const QJsonObject item = v.toObject();
        const QString id = item.value(QStringLiteral("id")).toString();
        if (id.isEmpty() || ids.contains(id))
            return graphError(400, QStringLiteral("BadRequest"),
                              QStringLiteral("Batch request ids must be present and unique."), req);
        ids.insert(id);
        bool hasContentType = false;
        const QJsonObject headers = item.value(QStringLiteral("headers")).toObject();
        for (auto it = headers.begin(); it != headers.end(); ++it)
            hasContentType |= it.key().compare(QStringLiteral("content-type"), Qt::CaseInsensitive) == 0;
        if (item.contains(QStringLiteral("body")) && !hasContentType)
            return graphError(
                400, QStringLiteral("BadRequest"),
                QStringLiteral("Write request id : %1 does not contain Content-Type header or body.").arg(id),
                req);
    }
    QJsonArray responses;
    for (const QJsonValue &v : requests) {
        const QJsonObject item = v.toObject();
        SimRequest inner;
        inner.inBatch = true;
        inner.method = item.value(QStringLiteral("method")).toString().toUpper().toLatin1();
        QString url = item.value(QStringLiteral("url")).toString();
        if (!url.startsWith(QLatin1Char('/')))
            url.prepend(QLatin1Char('/'));
        const QUrl parsed(QStringLiteral("https://batch") + url);
        inner.path = QStringLiteral("/v1.0") + parsed.path();
        inner.query = QUrlQuery(parsed);
        const QJsonObject headers = item.value(QStringLiteral("headers")).toObject();
        for (auto it = headers.begin(); it != headers.end(); ++it)
            inner.headers.insert(it.key().toLower().toLatin1(), it.value().toString().toLatin1());
        inner.headers.insert("authorization", req.headers.value("authorization"));
        inner.headers.insert("client-request-id", req.headers.value("client-request-id"));
        inner.host = req.host;
        inner.requestId = newGuid();
        if (item.contains(QStringLiteral("body")))
            inner.body =
                QJsonDocument(item.value(QStringLiteral("body")).toObject()).toJson(QJsonDocument::Compact);
        SimResponse r = graph(inner);
        writeAccessLog(inner, r.status, r.note);
        QJsonObject respHeaders;
        for (const auto &h : std::as_const(r.headers))
            if (h.first != "WWW-Authenticate")
                respHeaders.insert(QString::fromLatin1(h.first), QString::fromLatin1(h.second));
        QJsonObject out { { QStringLiteral("id"), item.value(QStringLiteral("id")) },
                          { QStringLiteral("status"), r.status },
                          { QStringLiteral("headers"), respHeaders } };
        if (!r.body.isEmpty())
            out.insert(QStringLiteral("body"), QJsonDocument::fromJson(r.body).object());
        // Graph returns batch responses in any order; reversing proves clients match by id.
        responses.prepend(out);
    }
    SimResponse r = SimResponse::json(200, { { QStringLiteral("responses"), responses } });
    r.note = QStringLiteral("%1 items").arg(requests.size());
    return r;
}

// ---- Exchange Online InvokeCommand --------------------------------------------------------------

SimResponse TenantSimulator::exchangeError(int status, const QString &exceptionType, const QString &message,
                                           const SimRequest &req)
{
    // The shape Exchange's admin API uses: an OData error whose message carries the .NET exception
    // type between bars, and the PowerShell error category in the inner error.
    const QString full = QLatin1Char('|') + exceptionType + QLatin1Char('|') + message;
    const QString shape = m_options.faults.exchangeErrorShape;
    const QString generic = QStringLiteral("An error has occurred.");
    QJsonObject error { { QStringLiteral("code"),
                          status == 429 ? QStringLiteral("TooManyRequests") : QStringLiteral("BadRequest") },
                        { QStringLiteral("message"), shape == QLatin1String("full") ? full : generic } };
    if (shape != QLatin1String("internalException")) {
        // As Exchange tags it: "Ex<id>|<type>|<text>".
        const QString tagged = QStringLiteral("Ex") + req.requestId.left(6).toUpper() + full;
        error.insert(QStringLiteral("details"),
                     QJsonArray { QJsonObject { { QStringLiteral("code"), QStringLiteral("Context") },
                                                { QStringLiteral("target"), QString() },
                                                { QStringLiteral("message"), tagged } } });
    }
    QJsonObject inner { { QStringLiteral("type"), exceptionType },
                        { QStringLiteral("@Microsoft.PowerShell.Cmdlets.ErrorCategory"),
                          QStringLiteral("NotSpecified") } };
    if (shape == QLatin1String("full"))
        inner.insert(QStringLiteral("message"), full);
    if (shape == QLatin1String("internalException"))
        inner.insert(QStringLiteral("internalException"),
                     QJsonObject { { QStringLiteral("message"), message },
                                   { QStringLiteral("type"), exceptionType } });
    error.insert(QStringLiteral("innererror"), inner);
    SimResponse r = SimResponse::json(status, { { QStringLiteral("error"), error } });
    r.note = exceptionType.section(QLatin1Char('.'), -1);
    return r;
}

// One byte[] as the simulated Exchange writes it (the configured form) and reads it (either form):
// the simulator's own code, so that a mistake in the client's encoding cannot pass unseen.
QJsonValue TenantSimulator::encodeSimBytes(const QByteArray &bytes) const
{
    if (!m_options.exchangeBytesAsArrays)
        return QString::fromLatin1(bytes.toBase64());
    QJsonArray out;
    for (char c : bytes)
        out.append(int(quint8(c)));
    return out;
}

std::optional<QByteArray> TenantSimulator::decodeSimBytes(const QJsonValue &value)
{
    if (value.isString()) {
        const auto decoded = QByteArray::fromBase64Encoding(value.toString().toLatin1(),
                                                            QByteArray::AbortOnBase64DecodingErrors);
        return decoded ? std::optional<QByteArray>(*decoded) : std::nullopt;
    }
    if (!value.isArray())
        return std::nullopt;
    QByteArray out;
    for (const QJsonValue &b : value.toArray()) {
        if (!b.isDouble() || b.toDouble() != double(b.toInt()) || b.toInt() < 0 || b.toInt() > 255)
            return std::nullopt;
        out.append(char(b.toInt()));
    }
    return out;
}

QJsonObject TenantSimulator::recipientJson(const SimUser &u, bool withCertificates) const
{
    QJsonObject o { { QStringLiteral("ExternalDirectoryObjectId"), u.id },
                    { QStringLiteral("Identity"), u.displayName },
                    { QStringLiteral("Name"), u.displayName },
                    { QStringLiteral("DisplayName"), u.displayName },
                    { QStringLiteral("UserPrincipalName"), u.userPrincipalName },
                    { QStringLiteral("PrimarySmtpAddress"), u.mail },
                    { QStringLiteral("EmailAddresses"), QJsonArray::fromStringList(u.proxyAddresses) },
                    { QStringLiteral("RecipientTypeDetails"), u.recipientTypeDetails },
                    { QStringLiteral("IsDirSynced"), u.isDirSynced() },
                    { QStringLiteral("IsExchangeCloudManaged"), u.exchangeCloudManaged } };
    if (withCertificates) {
        auto encode = [this](const QList<QByteArray> &values) {
            QJsonArray out;
            for (const QByteArray &b : values) {
                if (m_options.exchangeBytesAsArrays) {
                    QJsonArray bytes;
                    for (char c : b)
                        bytes.append(int(quint8(c)));
                    out.append(bytes);
                } else {
                    out.append(QString::fromLatin1(b.toBase64()));
                }
            }
            return out;
        };
        o.insert(QStringLiteral("UserCertificate"), encode(u.userCertificate));
        o.insert(QStringLiteral("UserSMimeCertificate"), encode(u.userSMimeCertificate));
    }
    return o;
}

SimUser *TenantSimulator::findRecipient(const QString &identity)
{
    for (SimUser &u : m_state.users) {
        if (u.deleted || u.recipientTypeDetails.isEmpty())
            continue;
        if (u.id == identity || u.userPrincipalName.compare(identity, Qt::CaseInsensitive) == 0
            || u.mail.compare(identity, Qt::CaseInsensitive) == 0 || u.displayName == identity)
            return &u;
    }
    return nullptr;
}

QJsonArray TenantSimulator::exchangeWarnings() const
{
    return m_options.faults.exchangeWarning.isEmpty() ? QJsonArray {}
                                                      : QJsonArray { m_options.faults.exchangeWarning };
}

SimResponse TenantSimulator::exchange(const SimRequest &req)
{
    const QString tenant = req.path.split(QLatin1Char('/'), Qt::SkipEmptyParts).value(2);
    ++m_exchangeAnchors[QString::fromUtf8(req.headers.value("x-anchormailbox"))];
    if (auto denied = authorize(req, Service::Exchange))
        return *denied;
    if (tenant != m_state.tenantId)
        return exchangeError(
            400, QStringLiteral("Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"),
            QStringLiteral("The organization '%1' was not found.").arg(tenant), req);
    if (auto fault = injectFaults(req, Service::Exchange))
        return *fault;
    if (req.method != "POST")
        return exchangeError(405, QStringLiteral("System.NotSupportedException"),
                             QStringLiteral("InvokeCommand needs POST."), req);
    const QJsonObject input =
        QJsonDocument::fromJson(req.body).object().value(QStringLiteral("CmdletInput")).toObject();
    const QString cmdlet = input.value(QStringLiteral("CmdletName")).toString();
    const QJsonObject params = input.value(QStringLiteral("Parameters")).toObject();
    const QString identity = params.value(QStringLiteral("Identity")).toString();
    const QString context = baseUrl(req) + QStringLiteral("/adminapi/beta/") + tenant
        + QStringLiteral("/$metadata#Collection(Exchange.GenericHashTable)");
    auto notFound = [&] {
        return exchangeError(
            404, QStringLiteral("Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"),
            QStringLiteral("The operation couldn't be performed because object '%1' couldn't be found on "
                           "'AM0PR01A001DC01.EURPR01A001.prod.outlook.com'.")
                .arg(identity),
            req);
    };
    auto typeFor = [](const QString &name) -> QString {
        if (name.endsWith(QStringLiteral("-Mailbox")))
            return QStringLiteral("UserMailbox");
        if (name.endsWith(QStringLiteral("-MailUser")))
            return QStringLiteral("MailUser");
        return {};
    };

    if (cmdlet == QStringLiteral("Get-Mailbox") || cmdlet == QStringLiteral("Get-MailUser")
        || cmdlet == QStringLiteral("Get-Recipient")) {
        const QString wanted = typeFor(cmdlet);
        const bool withCertificates = cmdlet != QStringLiteral("Get-Recipient");
        QJsonArray value;
        QJsonObject o { { QStringLiteral("@odata.context"), context },
                        { QStringLiteral("@adminapi.warnings"), exchangeWarnings() } };
        if (!identity.isEmpty()) {
            const SimUser *u = findRecipient(identity);
            if (!u || (!wanted.isEmpty() && u->recipientTypeDetails != wanted))
                return notFound();
            value.append(recipientJson(*u, withCertificates));
        } else {
            const int offset = req.query.queryItemValue(QStringLiteral("$skiptoken")).toInt();
            int index = 0;
            int returned = 0;
            bool more = false;
            for (const SimUser &u : m_state.users) {
                if (u.deleted || u.recipientTypeDetails.isEmpty()
                    || (!wanted.isEmpty() && u.recipientTypeDetails != wanted))
                    continue;
                if (index++ < offset)
                    continue;
                if (returned == m_options.exchangePageSize) {
                    more = true;
                    break;
                }
                value.append(recipientJson(u, withCertificates));
                ++returned;
            }
            if (more)
                o.insert(QStringLiteral("@odata.nextLink"),
                         QString(baseUrl(req) + req.path + QStringLiteral("?$skiptoken=")
                                 + QString::number(offset + returned)));
        }
        o.insert(QStringLiteral("value"), value);
        return SimResponse::json(200, o);
    }

    if (cmdlet == QStringLiteral("Get-SmimeConfig")) {
        QJsonObject config { { QStringLiteral("Identity"), QStringLiteral("SmimeConfig") },
                             { QStringLiteral("SMIMECertificateIssuingCA"),
                               m_state.smimeCertificateIssuingCa.isEmpty()
                                   ? QJsonValue(QJsonValue::Null)
                                   : encodeSimBytes(m_state.smimeCertificateIssuingCa) } };
        return SimResponse::json(200,
                                 { { QStringLiteral("@odata.context"), context },
                                   { QStringLiteral("@adminapi.warnings"), exchangeWarnings() },
                                   { QStringLiteral("value"), QJsonArray { config } } });
    }
    if (cmdlet == QStringLiteral("Set-SmimeConfig")) {
        for (auto it = params.begin(); it != params.end(); ++it)
            if (it.key() != QStringLiteral("SMIMECertificateIssuingCA"))
                return exchangeError(
                    400, QStringLiteral("System.Management.Automation.ParameterBindingException"),
                    QStringLiteral("A parameter cannot be found that matches parameter name '%1'.")
                        .arg(it.key()),
                    req);
        const std::optional<QByteArray> store =
            decodeSimBytes(params.value(QStringLiteral("SMIMECertificateIssuingCA")));
        if (!store)
            return exchangeError(400,
                                 QStringLiteral("System.Management.Automation.ParameterBindingException"),
                                 QStringLiteral("Cannot bind parameter 'SMIMECertificateIssuingCA'. Cannot "
                                                "convert value to type \"System.Byte[]\"."),
                                 req);
        // The header of a serialized store, checked here by hand (not with certsync's decoder): version
        // 0, then "CERT".
        if (!store->isEmpty() && !store->startsWith(QByteArray("\0\0\0\0CERT", 8)))
            return exchangeError(400, QStringLiteral("Microsoft.Exchange.Data.DataValidationException"),
                                 QStringLiteral("The certificate store data is invalid. Property: "
                                                "SMIMECertificateIssuingCA"),
                                 req);
        m_state.smimeCertificateIssuingCa = *store;
        ++m_state.smimeConfigWrites;
        changed();
        SimResponse r = SimResponse::json(200,
                                          { { QStringLiteral("@odata.context"), context },
                                            { QStringLiteral("@adminapi.warnings"), exchangeWarnings() },
                                            { QStringLiteral("value"), QJsonArray {} } });
        r.note = QStringLiteral("applied"); // a write like Set-Mailbox's: counted, held, dropped alike
        return r;
    }

    if (cmdlet == QStringLiteral("Set-Mailbox") || cmdlet == QStringLiteral("Set-MailUser")) {
        SimUser *u = findRecipient(identity);
        if (!u || u->recipientTypeDetails != typeFor(cmdlet))
            return notFound();
        for (auto it = params.begin(); it != params.end(); ++it) {
            if (it.key() != QStringLiteral("Identity") && it.key() != QStringLiteral("UserCertificate")
                && it.key() != QStringLiteral("UserSMimeCertificate"))
                return exchangeError(
                    400, QStringLiteral("System.Management.Automation.ParameterBindingException"),
                    QStringLiteral("A parameter cannot be found that matches parameter name '%1'.")
                        .arg(it.key()),
                    req);
        }
        if (u->isDirSynced() && !(u->exchangeCloudManaged && m_options.cloudManagedCertificateWrites)) {
            const QString attribute = params.contains(QStringLiteral("UserSMimeCertificate"))
                ? QStringLiteral("UserSMimeCertificate")
                : QStringLiteral("UserCertificate");
            const QString text = m_options.faults.exchangeCulture.startsWith(QStringLiteral("de"))
                ? QStringLiteral(
                    "Der Vorgang für das Postfach \"%1\" ist fehlgeschlagen, weil er außerhalb des "
                    "Schreibbereichs des aktuellen Benutzers liegt. Die Aktion '%2', '%3' kann für das "
                    "Objekt '%1' nicht ausgeführt werden, weil das Objekt aus Ihrer lokalen Organisation "
                    "synchronisiert wird. Führen Sie die Aktion für das Objekt in Ihrer lokalen "
                    "Organisation aus.")
                : QStringLiteral(
                    "The operation on mailbox \"%1\" failed because it's out of the current user's write "
                    "scope. The action '%2', '%3', can't be performed on the object '%1' because the "
                    "object is being synchronized from your on-premises organization. This action should "
                    "be performed on the object in your on-premises organization.");
            return exchangeError(400,
                                 QStringLiteral("Microsoft.Exchange.Management.Tasks.RecipientTaskException"),
                                 text.arg(u->displayName, cmdlet, attribute), req);
        }
        std::optional<QList<QByteArray>> userCertificate;
        std::optional<QList<QByteArray>> smime;
        for (const QString &name :
             { QStringLiteral("UserCertificate"), QStringLiteral("UserSMimeCertificate") }) {
            if (!params.contains(name))
                continue;
            // A multi-valued parameter takes a list (replace) or, as `-UserCertificate @{Add=...;
            // Remove=...}` does in PowerShell, a GenericHashTable of values to add and to remove.
            const QJsonValue given = params.value(name);
            std::optional<QList<QByteArray>> decoded;
            if (given.isObject()) {
                const QJsonObject table = given.toObject();
                const auto add = decodeByteArrays(table.value(QStringLiteral("Add")));
                const auto remove = decodeByteArrays(table.value(QStringLiteral("Remove")));
                if (table.value(QStringLiteral("@odata.type")).toString()
                        == QStringLiteral("#Exchange.GenericHashTable")
                    && add && remove) {
                    QList<QByteArray> values = name == QStringLiteral("UserCertificate")
                        ? u->userCertificate
                        : u->userSMimeCertificate;
                    for (const QByteArray &r : *remove)
                        values.removeAll(r);
                    for (const QByteArray &a : *add)
                        if (!values.contains(a))
                            values.append(a);
                    decoded = values;
                }
            } else {
                decoded = decodeByteArrays(given);
            }
            if (!decoded)
                return exchangeError(
                    400, QStringLiteral("System.Management.Automation.ParameterBindingException"),
                    QStringLiteral(
                        "Cannot bind parameter '%1'. Cannot convert value to type \"System.Byte[]\".")
                        .arg(name),
                    req);
            if (decoded->size() > MaxCertificateValues)
                return exchangeError(
                    400, QStringLiteral("Microsoft.Exchange.Data.DataValidationException"),
                    QStringLiteral("The length of the property is too long. The maximum length is %1 and the "
                                   "length of the value provided is %2. Property: %3")
                        .arg(MaxCertificateValues)
                        .arg(decoded->size())
                        .arg(name),
                    req);
            for (const QByteArray &der : *decoded) {
                const unsigned char *p = reinterpret_cast<const unsigned char *>(der.constData());
                std::unique_ptr<X509, decltype(&X509_free)> cert(d2i_X509(nullptr, &p, der.size()),
                                                                 &X509_free);
                while (ERR_get_error() != 0) { }
                if (name == QStringLiteral("UserCertificate") && !cert)
                    return exchangeError(
                        400, QStringLiteral("Microsoft.Exchange.Data.DataValidationException"),
                        QStringLiteral("The certificate data is invalid. Property: UserCertificate"), req);
            }
            (name == QStringLiteral("UserCertificate") ? userCertificate : smime) = *decoded;
        }
        if (userCertificate)
            u->userCertificate = *userCertificate;
        if (smime)
            u->userSMimeCertificate = *smime;
        ++u->exchangeWrites;
        m_state.touch(*u);
        changed();
        SimResponse r = SimResponse::json(200,
                                          { { QStringLiteral("@odata.context"), context },
                                            { QStringLiteral("@adminapi.warnings"), exchangeWarnings() },
                                            { QStringLiteral("value"), QJsonArray {} } });
        r.note = QStringLiteral("applied");
        return r;
    }
    return exchangeError(
        400, QStringLiteral("System.Management.Automation.CommandNotFoundException"),
        QStringLiteral("The term '%1' is not recognized as a cmdlet available through this endpoint.")
            .arg(cmdlet),
        req);
}

// ---- Admin endpoint (loopback, plain HTTP, for tests) ------------------------------------------

QJsonObject TenantSimulator::stats() const
{
    QJsonArray windows;
    for (const Window &w : m_windows)
        windows.append(QJsonObject { { QStringLiteral("startMs"), w.startMs },
                                     { QStringLiteral("accepted"), w.accepted },
                                     { QStringLiteral("throttled"), w.throttled } });
    QJsonObject writes;
    for (const SimUser &u : m_state.users)
        if (u.graphWrites || u.exchangeWrites)
            writes.insert(u.id,
                          QJsonObject { { QStringLiteral("graph"), u.graphWrites },
                                        { QStringLiteral("exchange"), u.exchangeWrites } });
    QJsonObject anchors;
    for (auto it = m_exchangeAnchors.cbegin(); it != m_exchangeAnchors.cend(); ++it)
        anchors.insert(it.key(), it.value());
    return { { QStringLiteral("requests"), m_requests },
             { QStringLiteral("exchangeAnchors"), anchors },
             { QStringLiteral("injected429"), m_injected429 },
             { QStringLiteral("injected503"), m_injected503 },
             { QStringLiteral("ceiling429"), m_ceiling429 },
             { QStringLiteral("dropped"), m_dropped },
             { QStringLiteral("windows"), windows },
             { QStringLiteral("writes"), writes },
             { QStringLiteral("faults"), m_options.faults.toJson() } };
}

void TenantSimulator::handleAdmin(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    const SimRequest req = fromHttp(request);
    const QString path = req.path;
    auto reply = [&](const QJsonObject &o, int status = 200) {
        responder.write(QJsonDocument(o), QHttpServerResponder::StatusCode(status));
    };
    QString error;
    if (path == QStringLiteral("/admin/stats") && req.method == "GET") {
        reply(stats());
    } else if (path == QStringLiteral("/admin/state") && req.method == "GET") {
        reply(m_state.toJson());
    } else if (path == QStringLiteral("/admin/faults") && req.method == "POST") {
        m_options.faults.merge(QJsonDocument::fromJson(req.body).object());
        reply(m_options.faults.toJson());
    } else if (path == QStringLiteral("/admin/reset-stats") && req.method == "POST") {
        m_windows.clear();
        m_requests = m_injected429 = m_injected503 = m_ceiling429 = m_dropped = 0;
        m_exchangeAnchors.clear();
        for (SimUser &u : m_state.users)
            u.graphWrites = u.exchangeWrites = 0;
        reply({});
    } else if (path == QStringLiteral("/admin/expire-tokens") && req.method == "POST") {
        for (IssuedToken &t : m_tokens)
            t.expiresAtMs = 0;
        reply({ { QStringLiteral("expired"), int(m_tokens.size()) } });
    } else if (path == QStringLiteral("/admin/expire-delta") && req.method == "POST") {
        ++m_state.deltaGeneration;
        changed();
        reply({ { QStringLiteral("deltaGeneration"), qint64(m_state.deltaGeneration) } });
    } else if (path == QStringLiteral("/admin/save") && req.method == "POST") {
        if (saveNow(&error))
            reply({});
        else
            reply({ { QStringLiteral("error"), error } }, 500);
    } else if (path == QStringLiteral("/admin/users") && req.method == "POST") {
        // Upsert one user in the seed format, as if it changed in the directory or the tenant.
        const QJsonObject patch = QJsonDocument::fromJson(req.body).object();
        QJsonObject merged = patch;
        if (SimUser *existing =
                m_state.find(patch.value(QStringLiteral("id"))
                                 .toString(patch.value(QStringLiteral("userPrincipalName")).toString()))) {
            SimState one;
            one.users = { *existing };
            merged = one.toJson().value(QStringLiteral("users")).toArray().first().toObject();
            for (auto it = patch.begin(); it != patch.end(); ++it)
                merged.insert(it.key(), it.value());
        }
        SimState parsed;
        QJsonObject wrapper { { QStringLiteral("tenantId"), m_state.tenantId },
                              { QStringLiteral("users"), QJsonArray { merged } } };
        if (!parsed.loadJson(wrapper, &error)) {
            reply({ { QStringLiteral("error"), error } }, 400);
            return;
        }
        SimUser user = parsed.users.first();
        SimUser *slot = nullptr;
        for (SimUser &u : m_state.users)
            if (u.id == user.id)
                slot = &u; // also a tombstone: the user comes back under the same id
        if (slot)
            *slot = user;
        else {
            m_state.users.append(user);
            std::sort(m_state.users.begin(), m_state.users.end(),
                      [](const SimUser &a, const SimUser &b) { return a.id < b.id; });
            slot = m_state.find(user.id);
        }
        slot->deleted = false;
        m_state.touch(*slot);
        changed();
        reply(QJsonObject { { QStringLiteral("id"), user.id } });
    } else if (path == QStringLiteral("/admin/smime-config") && req.method == "POST") {
        // Another administrator's Set-SmimeConfig: {"smimeCertificateIssuingCA": base64 of the store}.
        const auto store =
            QByteArray::fromBase64Encoding(QJsonDocument::fromJson(req.body)
                                               .object()
                                               .value(QStringLiteral("smimeCertificateIssuingCA"))
                                               .toString()
                                               .toLatin1(),
                                           QByteArray::AbortOnBase64DecodingErrors);
        if (!store) {
            reply({ { QStringLiteral("error"), QStringLiteral("smimeCertificateIssuingCA is not base64") } },
                  400);
            return;
        }
        m_state.smimeCertificateIssuingCa = *store;
        changed();
        reply({});
    } else if (path.startsWith(QStringLiteral("/admin/users/")) && req.method == "DELETE") {
        SimUser *u = m_state.find(path.mid(13));
        if (!u) {
            reply({ { QStringLiteral("error"), QStringLiteral("no such user") } }, 404);
            return;
        }
        u->deleted = true;
        m_state.touch(*u);
        changed();
        reply({});
    } else {
        reply({ { QStringLiteral("error"), QStringLiteral("unknown admin request") } }, 404);
    }
}

} // namespace certsync::tenantsim
