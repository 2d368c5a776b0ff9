#include "tenant/TenantError.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

namespace certsync::tenant {

QString TenantError::sourceName() const
{
    switch (source) {
    case Source::Network:
        return QStringLiteral("network");
    case Source::Tls:
        return QStringLiteral("tls");
    case Source::Authority:
        return QStringLiteral("authority");
    case Source::Graph:
        return QStringLiteral("graph");
    case Source::Exchange:
        return QStringLiteral("exchange");
    case Source::Protocol:
        return QStringLiteral("protocol");
    case Source::Configuration:
        return QStringLiteral("configuration");
    case Source::Canceled:
        return QStringLiteral("canceled");
    }
    return {};
}

QString TenantError::toString() const
{
    QString s = sourceName();
    if (httpStatus)
        s += QStringLiteral(" HTTP %1").arg(httpStatus);
    if (!code.isEmpty())
        s += QStringLiteral(" ") + code;
    if (!aadstsCodes.isEmpty())
        s += QStringLiteral(" (AADSTS%1)").arg(aadstsCodes.first());
    s += QStringLiteral(": ") + message;
    QStringList ids;
    if (!requestId.isEmpty())
        ids << QStringLiteral("request-id ") + requestId;
    if (!clientRequestId.isEmpty())
        ids << QStringLiteral("client-request-id ") + clientRequestId;
    if (!traceId.isEmpty())
        ids << QStringLiteral("trace id ") + traceId;
    if (!correlationId.isEmpty())
        ids << QStringLiteral("correlation id ") + correlationId;
    if (!ids.isEmpty())
        s += QStringLiteral(" [") + ids.join(QStringLiteral(", ")) + QLatin1Char(']');
    return s;
}

Error TenantError::toError() const
{
    return Error { QStringLiteral("tenant.") + sourceName()
                       + (code.isEmpty() ? QString() : QLatin1Char('.') + code),
                   toString() };
}

TenantError TenantError::fromAuthority(int httpStatus, const QByteArray &body)
{
    TenantError e;
    e.source = Source::Authority;
    e.httpStatus = httpStatus;
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    if (o.isEmpty()) {
        e.code = QStringLiteral("http%1").arg(httpStatus);
        e.message = QString::fromUtf8(body.left(300));
        return e;
    }
    e.code = o.value(QStringLiteral("error")).toString();
    // error_description repeats the ids after the sentence; keep the sentence for people.
    QString description = o.value(QStringLiteral("error_description")).toString();
    const qsizetype cut = description.indexOf(QStringLiteral(" Trace ID:"));
    e.message = (cut > 0 ? description.left(cut) : description).trimmed();
    for (const QJsonValue &v : o.value(QStringLiteral("error_codes")).toArray())
        e.aadstsCodes.append(v.toInt());
    e.traceId = o.value(QStringLiteral("trace_id")).toString();
    e.correlationId = o.value(QStringLiteral("correlation_id")).toString();
    return e;
}

TenantError TenantError::fromGraph(int httpStatus, const QByteArray &body)
{
    TenantError e;
    e.source = Source::Graph;
    e.httpStatus = httpStatus;
    const QJsonObject error =
        QJsonDocument::fromJson(body).object().value(QStringLiteral("error")).toObject();
    if (error.isEmpty()) {
        e.code = QStringLiteral("http%1").arg(httpStatus);
        e.message = body.isEmpty() ? QStringLiteral("HTTP %1 without a body").arg(httpStatus)
                                   : QString::fromUtf8(body.left(300));
        return e;
    }
    e.code = error.value(QStringLiteral("code")).toString();
    e.message = error.value(QStringLiteral("message")).toString();
    // Graph spells it innerError, some workloads innererror.
    QJsonObject inner = error.value(QStringLiteral("innerError")).toObject();
    if (inner.isEmpty())
        inner = error.value(QStringLiteral("innererror")).toObject();
    e.requestId = inner.value(QStringLiteral("request-id")).toString();
    e.clientRequestId = inner.value(QStringLiteral("client-request-id")).toString();
    e.innerCode = inner.value(QStringLiteral("code")).toString();
    const QJsonArray details = error.value(QStringLiteral("details")).toArray();
    if (e.innerCode.isEmpty() && !details.isEmpty())
        e.innerCode = details.first().toObject().value(QStringLiteral("code")).toString();
    return e;
}

TenantError TenantError::fromExchange(int httpStatus, const QByteArray &body)
{
    TenantError e;
    e.source = Source::Exchange;
    e.httpStatus = httpStatus;
    const QJsonObject error =
        QJsonDocument::fromJson(body).object().value(QStringLiteral("error")).toObject();
    if (error.isEmpty()) {
        e.code = QStringLiteral("http%1").arg(httpStatus);
        e.message = body.isEmpty() ? QStringLiteral("HTTP %1 without a body").arg(httpStatus)
                                   : QString::fromUtf8(body.left(300));
        return e;
    }
    // Exchange's error code is generic ("BadRequest"), and so is its message at times ("An error has
    // occurred."): the text is read as the Exchange module's public clients do, from
    // error.details[].message first, then error.innererror.internalException.message, then
    // error.message. The .NET exception type sits between bars at the start of the text, e.g.
    // "|Microsoft.Exchange...RecipientTaskException|The operation ...", in details after an
    // "Ex<id>" tag.
    const QJsonObject inner = error.value(QStringLiteral("innererror")).toObject();
    QString message;
    for (const QJsonValue &detail : error.value(QStringLiteral("details")).toArray())
        if (message.isEmpty())
            message = detail.toObject().value(QStringLiteral("message")).toString();
    static const QRegularExpression tag(QStringLiteral("^Ex[0-9A-Fa-f]+(?=\\|)"));
    message.remove(tag);
    if (message.isEmpty())
        message = inner.value(QStringLiteral("internalException"))
                      .toObject()
                      .value(QStringLiteral("message"))
                      .toString();
    if (message.isEmpty())
        message = error.value(QStringLiteral("message")).toString();
    QString type = inner.value(QStringLiteral("type")).toString();
    static const QRegularExpression typed(QStringLiteral("^\\|([^|]+)\\|(.*)$"),
                                          QRegularExpression::DotMatchesEverythingOption);
    if (const auto m = typed.match(message); m.hasMatch()) {
        if (type.isEmpty())
            type = m.captured(1);
        message = m.captured(2);
    }
    e.message = message;
    e.innerCode = type;
    e.code = error.value(QStringLiteral("code")).toString();
    // The endpoint is undocumented and has no code for "mastered on-premises". The English message
    // is the fallback signal, matched here in one place; ExchangeClient confirms a
    // RecipientTaskException by the recipient's IsDirSynced, which holds in any language.
    if (message.contains(QStringLiteral("synchronized from your on-premises organization"),
                         Qt::CaseInsensitive))
        e.code = errc::SyncedObject;
    else if (type.endsWith(QStringLiteral("ManagementObjectNotFoundException")))
        e.code = QStringLiteral("notFound");
    return e;
}

bool TenantError::isRecipientTaskRefusal() const
{
    return source == Source::Exchange && !outcomeUnknown
        && (code == errc::SyncedObject || innerCode.endsWith(QStringLiteral(".RecipientTaskException")));
}

} // namespace certsync::tenant
