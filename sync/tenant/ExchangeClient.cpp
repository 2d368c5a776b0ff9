#include "tenant/ExchangeClient.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

namespace certsync::tenant {

namespace {

// Exchange's well-known system mailbox of an organisation, the anchor app-only requests name.
QByteArray anchorMailbox(const TenantSettings &settings)
{
    return QByteArrayLiteral("APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@")
        + settings.tenantId.toUtf8();
}

TenantError canceledError()
{
    TenantError e;
    e.source = TenantError::Source::Canceled;
    e.code = errc::Canceled;
    e.message = QStringLiteral("canceled");
    return e;
}

QString setCmdletFor(const QString &recipientTypeDetails)
{
    if (recipientTypeDetails == QStringLiteral("MailUser"))
        return QStringLiteral("Set-MailUser");
    return QStringLiteral("Set-Mailbox"); // UserMailbox, SharedMailbox, ...
}

QString getCmdletFor(const QString &recipientTypeDetails)
{
    return recipientTypeDetails == QStringLiteral("MailUser") ? QStringLiteral("Get-MailUser")
                                                              : QStringLiteral("Get-Mailbox");
}

QList<QByteArray> sorted(QList<QByteArray> values)
{
    std::sort(values.begin(), values.end());
    return values;
}

// Same values, whatever their order (an Add/Remove update appends where a replace would reorder).
bool sameValues(const QList<QByteArray> &a, const QList<QByteArray> &b)
{
    return sorted(a) == sorted(b);
}

QJsonValue parameterValue(const QList<QByteArray> &after, const std::optional<QList<QByteArray>> &before,
                          const TenantSettings &settings)
{
    if (!before || settings.exchangeMultiValuedUpdate != MultiValuedUpdate::AddRemove)
        return encodeByteArrays(after, settings.exchangeByteEncoding);
    QList<QByteArray> add, remove;
    for (const QByteArray &v : after)
        if (!before->contains(v))
            add.append(v);
    for (const QByteArray &v : *before)
        if (!after.contains(v))
            remove.append(v);
    return QJsonObject { { QStringLiteral("@odata.type"), QStringLiteral("#Exchange.GenericHashTable") },
                         { QStringLiteral("Add"), encodeByteArrays(add, settings.exchangeByteEncoding) },
                         { QStringLiteral("Remove"),
                           encodeByteArrays(remove, settings.exchangeByteEncoding) } };
}

} // namespace

QJsonValue encodeByteArrays(const QList<QByteArray> &values, ByteArrayEncoding encoding)
{
    QJsonArray out;
    for (const QByteArray &value : values) {
        if (encoding == ByteArrayEncoding::Base64String) {
            out.append(QString::fromLatin1(value.toBase64()));
        } else {
            QJsonArray bytes;
            for (const char c : value)
                bytes.append(int(quint8(c)));
            out.append(bytes);
        }
    }
    return out;
}

std::optional<QList<QByteArray>> decodeByteArrays(const QJsonValue &value)
{
    // Reading accepts both forms, whatever the setting: the answer's shape tells.
    QList<QByteArray> out;
    if (value.isNull() || value.isUndefined())
        return out;
    const QJsonArray values = value.isArray() ? value.toArray() : QJsonArray { value };
    for (const QJsonValue &v : values) {
        if (v.isString()) {
            const auto decoded = QByteArray::fromBase64Encoding(v.toString().toLatin1(),
                                                                QByteArray::AbortOnBase64DecodingErrors);
            if (!decoded)
                return std::nullopt;
            out.append(*decoded);
        } else if (v.isArray()) {
            QByteArray bytes;
            for (const QJsonValue &b : v.toArray()) {
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

ExchangeRecipient ExchangeRecipient::fromJson(const QJsonObject &o, ByteArrayEncoding)
{
    ExchangeRecipient r;
    r.externalDirectoryObjectId = o.value(QStringLiteral("ExternalDirectoryObjectId")).toString();
    r.identity = o.value(QStringLiteral("Identity")).toString();
    r.userPrincipalName = o.value(QStringLiteral("UserPrincipalName")).toString();
    r.primarySmtpAddress = o.value(QStringLiteral("PrimarySmtpAddress")).toString();
    r.recipientTypeDetails = o.value(QStringLiteral("RecipientTypeDetails")).toString();
    r.isDirSynced = o.value(QStringLiteral("IsDirSynced")).toBool();
    if (const QJsonValue managed = o.value(QStringLiteral("IsExchangeCloudManaged")); managed.isBool())
        r.isExchangeCloudManaged = managed.toBool();
    r.userCertificate =
        decodeByteArrays(o.value(QStringLiteral("UserCertificate"))).value_or(QList<QByteArray> {});
    r.userSMimeCertificate =
        decodeByteArrays(o.value(QStringLiteral("UserSMimeCertificate"))).value_or(QList<QByteArray> {});
    return r;
}

std::optional<QByteArray> decodeByteArray(const QJsonValue &value)
{
    if (value.isNull() || value.isUndefined())
        return QByteArray();
    if (!value.isString() && !value.isArray())
        return std::nullopt;
    const auto decoded = decodeByteArrays(QJsonArray { value });
    if (!decoded || decoded->size() != 1)
        return std::nullopt;
    return decoded->first();
}

ExchangeClient::ExchangeClient(TenantHttp *http, QObject *parent)
    : QObject(parent)
    , m_http(http)
{ }

void ExchangeClient::invoke(const QString &cmdlet, const QJsonObject &parameters, bool isWrite,
                            std::function<bool(int)> onPage,
                            std::function<void(TenantResult<QList<QJsonObject>>)> done)
{
    const QByteArray body =
        QJsonDocument(QJsonObject { { QStringLiteral("CmdletInput"),
                                      QJsonObject { { QStringLiteral("CmdletName"), cmdlet },
                                                    { QStringLiteral("Parameters"), parameters } } } })
            .toJson(QJsonDocument::Compact);
    const QString identity = parameters.value(QStringLiteral("Identity")).toString();
    const QString what = identity.isEmpty() ? cmdlet : cmdlet + QStringLiteral(" -Identity ") + identity;
    invokePage(QUrl(m_http->settings().exchangeBase().toString() + QStringLiteral("/InvokeCommand")), body,
               isWrite, std::move(onPage), {}, std::move(done), what);
}

void ExchangeClient::invokePage(const QUrl &url, const QByteArray &body, bool isWrite,
                                std::function<bool(int)> onPage, QList<QJsonObject> soFar,
                                std::function<void(TenantResult<QList<QJsonObject>>)> done,
                                const QString &what)
{
    if (!m_http)
        return;
    TenantRequest request;
    request.service = Service::Exchange;
    request.verb = "POST";
    request.url = url;
    request.body = body;
    request.isWrite = isWrite;
    request.what = what;
    // The Exchange module asks for large pages; the service answers with @odata.nextLink.
    request.headers.append({ QByteArrayLiteral("Prefer"), QByteArrayLiteral("odata.maxpagesize=1000") });
    // Routes an app-only request to the organisation's system mailbox, as public clients of the
    // endpoint do (DOMAIN.md).
    request.headers.append({ QByteArrayLiteral("X-AnchorMailbox"), anchorMailbox(m_http->settings()) });
    QPointer<ExchangeClient> self(this);
    m_http->send(
        request,
        [self, body, isWrite, onPage, soFar = std::move(soFar), done,
         what](TenantResult<TenantResponse> result) mutable {
            if (!self)
                return;
            if (!result) {
                done(result.error());
                return;
            }
            const QJsonObject page = result->json();
            for (const QJsonValue &v : page.value(QStringLiteral("value")).toArray())
                soFar.append(v.toObject());
            // The cmdlet ran, with something to say (nothing changed, a value ignored...): the log
            // keeps it with the request's ids.
            for (const QJsonValue &w : page.value(QStringLiteral("@adminapi.warnings")).toArray()) {
                jobs::LogRecord record;
                record.level = jobs::LogRecord::Level::Warning;
                record.channel = QStringLiteral("exchange");
                record.message = QStringLiteral("Exchange Online warns (%1): %2").arg(what, w.toString());
                record.requestId = result->requestId;
                record.clientRequestId = result->clientRequestId;
                self->m_http->report(record);
            }
            if (onPage && !onPage(int(soFar.size()))) {
                done(canceledError());
                return;
            }
            const QUrl next(page.value(QStringLiteral("@odata.nextLink")).toString());
            const QUrl base = self->m_http->settings().exchangeBase();
            if (next.isEmpty()) {
                done(soFar);
                return;
            }
            if (next.host() != base.host() || next.port(443) != base.port(443)
                || next.scheme() != QStringLiteral("https")) {
                TenantError e;
                e.source = TenantError::Source::Protocol;
                e.code = QStringLiteral("foreignLink");
                e.message =
                    QStringLiteral("refusing to follow a next link to another service: %1").arg(next.host());
                done(e);
                return;
            }
            self->invokePage(next, body, isWrite, onPage, std::move(soFar), done, what);
        });
}

void ExchangeClient::listRecipients(const QString &getCmdlet, std::function<bool(int)> onPage,
                                    std::function<void(TenantResult<QList<ExchangeRecipient>>)> done)
{
    const ByteArrayEncoding encoding = m_http->settings().exchangeByteEncoding;
    invoke(getCmdlet, QJsonObject { { QStringLiteral("ResultSize"), QStringLiteral("Unlimited") } }, false,
           std::move(onPage), [done, encoding](TenantResult<QList<QJsonObject>> rows) {
               if (!rows) {
                   done(rows.error());
                   return;
               }
               QList<ExchangeRecipient> out;
               for (const QJsonObject &o : std::as_const(rows.value()))
                   out.append(ExchangeRecipient::fromJson(o, encoding));
               done(out);
           });
}

void ExchangeClient::getRecipient(const QString &identity,
                                  std::function<void(TenantResult<ExchangeRecipient>)> done)
{
    QPointer<ExchangeClient> self(this);
    invoke(QStringLiteral("Get-Recipient"), QJsonObject { { QStringLiteral("Identity"), identity } }, false,
           {}, [self, identity, done](TenantResult<QList<QJsonObject>> rows) {
               if (!self)
                   return;
               if (!rows) {
                   done(rows.error());
                   return;
               }
               if (rows->isEmpty()) {
                   TenantError e;
                   e.source = TenantError::Source::Exchange;
                   e.code = QStringLiteral("notFound");
                   e.message = QStringLiteral("no recipient %1").arg(identity);
                   done(e);
                   return;
               }
               // The certificates come from the type's own cmdlet.
               self->getCertificates(
                   identity, rows->first().value(QStringLiteral("RecipientTypeDetails")).toString(), done);
           });
}

void ExchangeClient::getSmimeIssuingCa(std::function<void(TenantResult<QByteArray>)> done)
{
    invoke(QStringLiteral("Get-SmimeConfig"), {}, false, {}, [done](TenantResult<QList<QJsonObject>> rows) {
        if (!rows) {
            done(rows.error());
            return;
        }
        const QJsonValue value =
            rows->isEmpty() ? QJsonValue() : rows->first().value(QStringLiteral("SMIMECertificateIssuingCA"));
        if (const auto bytes = decodeByteArray(value)) {
            done(*bytes);
            return;
        }
        TenantError e;
        e.source = TenantError::Source::Protocol;
        e.code = QStringLiteral("badBytes");
        e.message = QStringLiteral("Get-SmimeConfig: SMIMECertificateIssuingCA is neither base64 nor a byte "
                                   "array");
        done(e);
    });
}

void ExchangeClient::setSmimeIssuingCa(const QByteArray &store,
                                       std::function<void(TenantResult<WriteReceipt>)> done)
{
    if (!m_http)
        return;
    // One byte[], not a list: the first (only) element of the list encoding.
    const QJsonValue bytes =
        encodeByteArrays({ store }, m_http->settings().exchangeByteEncoding).toArray().first();
    const QString cmdlet = QStringLiteral("Set-SmimeConfig");
    TenantRequest request;
    request.service = Service::Exchange;
    request.verb = "POST";
    request.url = QUrl(m_http->settings().exchangeBase().toString() + QStringLiteral("/InvokeCommand"));
    request.body =
        QJsonDocument(
            QJsonObject { { QStringLiteral("CmdletInput"),
                            QJsonObject { { QStringLiteral("CmdletName"), cmdlet },
                                          { QStringLiteral("Parameters"),
                                            QJsonObject { { QStringLiteral("SMIMECertificateIssuingCA"),
                                                            bytes } } } } } })
            .toJson(QJsonDocument::Compact);
    request.isWrite = true;
    request.what = cmdlet + QStringLiteral(" -SMIMECertificateIssuingCA");
    m_http->send(request, [done](TenantResult<TenantResponse> result) {
        if (!result) {
            done(result.error());
            return;
        }
        done(WriteReceipt { result->requestId, result->clientRequestId, result->attempts, false });
    });
}

void ExchangeClient::getCertificates(const QString &identity, const QString &recipientTypeDetails,
                                     std::function<void(TenantResult<ExchangeRecipient>)> done)
{
    const ByteArrayEncoding encoding = m_http->settings().exchangeByteEncoding;
    invoke(getCmdletFor(recipientTypeDetails), QJsonObject { { QStringLiteral("Identity"), identity } },
           false, {}, [done, identity, encoding](TenantResult<QList<QJsonObject>> rows) {
               if (!rows) {
                   done(rows.error());
               } else if (rows->isEmpty()) {
                   TenantError e;
                   e.source = TenantError::Source::Exchange;
                   e.code = QStringLiteral("notFound");
                   e.message = QStringLiteral("no recipient %1").arg(identity);
                   done(e);
               } else {
                   done(ExchangeRecipient::fromJson(rows->first(), encoding));
               }
           });
}

void ExchangeClient::setCertificates(const RecipientCertificateChange &change,
                                     std::function<void(TenantResult<WriteReceipt>)> done)
{
    setAttempt(change, 0, std::move(done));
}

void ExchangeClient::setAttempt(const RecipientCertificateChange &change, int writes,
                                std::function<void(TenantResult<WriteReceipt>)> done)
{
    if (!m_http)
        return;
    const TenantSettings &settings = m_http->settings();
    QJsonObject parameters { { QStringLiteral("Identity"), change.identity } };
    if (change.userCertificate)
        parameters.insert(QStringLiteral("UserCertificate"),
                          parameterValue(*change.userCertificate, change.userCertificateBefore, settings));
    if (change.userSMimeCertificate)
        parameters.insert(
            QStringLiteral("UserSMimeCertificate"),
            parameterValue(*change.userSMimeCertificate, change.userSMimeCertificateBefore, settings));
    const QString cmdlet = setCmdletFor(change.recipientTypeDetails);
    const QByteArray body =
        QJsonDocument(QJsonObject { { QStringLiteral("CmdletInput"),
                                      QJsonObject { { QStringLiteral("CmdletName"), cmdlet },
                                                    { QStringLiteral("Parameters"), parameters } } } })
            .toJson(QJsonDocument::Compact);
    TenantRequest request;
    request.service = Service::Exchange;
    request.verb = "POST";
    request.url = QUrl(m_http->settings().exchangeBase().toString() + QStringLiteral("/InvokeCommand"));
    request.body = body;
    request.isWrite = true;
    request.what = cmdlet + QStringLiteral(" -Identity ") + change.identity;
    QPointer<ExchangeClient> self(this);
    m_http->send(request, [self, change, writes, done, cmdlet](TenantResult<TenantResponse> result) {
        if (!self)
            return;
        if (result) {
            done(WriteReceipt { result->requestId, result->clientRequestId, writes + result->attempts,
                                false });
            return;
        }
        TenantError e = result.error();
        if (e.isRecipientTaskRefusal()) {
            self->confirmSyncedRefusal(change, e, done);
            return;
        }
        if (!e.outcomeUnknown || writes + 1 >= self->m_http->settings().maxAttempts) {
            done(e);
            return;
        }
        // The answer was lost: read what is there before deciding to write again.
        self->invoke(getCmdletFor(change.recipientTypeDetails),
                     QJsonObject { { QStringLiteral("Identity"), change.identity } }, false, {},
                     [self, change, writes, done, lost = e](TenantResult<QList<QJsonObject>> rows) {
                         if (!self)
                             return;
                         if (!rows || rows->isEmpty()) {
                             TenantError failed = lost;
                             failed.message += QStringLiteral("; reading the recipient to check failed too");
                             if (!rows)
                                 failed.message += QStringLiteral(": ") + rows.error().toString();
                             done(failed);
                             return;
                         }
                         const ExchangeRecipient now = ExchangeRecipient::fromJson(
                             rows->first(), self->m_http->settings().exchangeByteEncoding);
                         const bool inPlace = (!change.userCertificate
                                               || sameValues(now.userCertificate, *change.userCertificate))
                             && (!change.userSMimeCertificate
                                 || sameValues(now.userSMimeCertificate, *change.userSMimeCertificate));
                         if (inPlace)
                             done(WriteReceipt { {}, lost.clientRequestId, writes + 1, true });
                         else
                             self->setAttempt(change, writes + 1, done);
                     });
    });
}

void ExchangeClient::confirmSyncedRefusal(const RecipientCertificateChange &change, TenantError refusal,
                                          std::function<void(TenantResult<WriteReceipt>)> done)
{
    // Exchange's error body has no code for "mastered on-premises": only a generic exception type
    // (RecipientTaskException, innererror.type) and a message in the admin's language. The recipient's
    // IsDirSynced property is the structured fact: read it. The English message stays the fallback
    // for when that read fails (TenantError::fromExchange).
    auto explain = [change](TenantError e, const QString &how) {
        e.code = errc::SyncedObject;
        e.message =
            QStringLiteral("Exchange Online refuses to change %1 on %2: the object is synchronised from "
                           "on-premises (%3); change the values in the directory and let Entra "
                           "Connect carry them. (%4)")
                .arg(change.userSMimeCertificate ? QStringLiteral("UserSMimeCertificate")
                                                 : QStringLiteral("UserCertificate"),
                     change.identity, how, e.message);
        return e;
    };
    if (change.isDirSynced.value_or(false)) { // known before sending: nothing to ask
        done(explain(refusal, QStringLiteral("IsDirSynced")));
        return;
    }
    QPointer<ExchangeClient> self(this);
    invoke(QStringLiteral("Get-Recipient"), QJsonObject { { QStringLiteral("Identity"), change.identity } },
           false, {}, [self, refusal, done, explain](TenantResult<QList<QJsonObject>> rows) {
               if (!self)
                   return;
               if (!rows || rows->isEmpty()) { // fall back to what the message said
                   done(refusal.code == errc::SyncedObject
                            ? explain(refusal, QStringLiteral("by its message"))
                            : refusal);
                   return;
               }
               const ExchangeRecipient recipient =
                   ExchangeRecipient::fromJson(rows->first(), self->m_http->settings().exchangeByteEncoding);
               if (recipient.isDirSynced) {
                   done(explain(refusal, QStringLiteral("IsDirSynced")));
                   return;
               }
               TenantError other = refusal; // another refusal of the same type, whatever its words
               if (other.code == errc::SyncedObject)
                   other.code = QStringLiteral("BadRequest");
               done(other);
           });
}

} // namespace certsync::tenant
