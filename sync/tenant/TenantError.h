#pragma once

#include "core/Result.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <utility>
#include <variant>

namespace certsync::tenant {

// A failure talking to the tenant, with everything a person or Microsoft support needs to follow
// it up: the service's code (branch on it, never on the message), the ids of the request.
struct TenantError
{
    enum class Source {
        Network, // no usable answer: refused, reset, timed out, dropped
        Tls, // certificate verification or handshake failed
        Authority, // the token endpoint said no (AADSTS)
        Graph,
        Exchange,
        Protocol, // an answer we cannot read
        Configuration, // bad settings, unreadable credential
        Canceled,
    };

    Source source = Source::Protocol;
    int httpStatus = 0;
    QString code; // AAD "error", Graph error.code, Exchange exception type, or our own
    QString message;
    QList<int> aadstsCodes; // from error_codes
    QString traceId; // AAD trace_id
    QString correlationId; // AAD correlation_id
    QString requestId; // the service's request-id
    QString clientRequestId; // the client-request-id we sent
    QString innerCode; // Graph details / innerError code, when present
    // True when a write may or may not have been applied (timeout, connection dropped after the
    // request left): the caller must read the current state before deciding to write again.
    bool outcomeUnknown = false;
    int attempts = 0;
    // Throttled with a Retry-After longer than the run may wait (TenantSettings::
    // maxRetryAfterSeconds): the seconds asked for. The caller ends its run cleanly.
    qint64 retryAfterSeconds = 0;

    [[nodiscard]] QString sourceName() const;
    // One line for a person: source, status, code, message, and the ids.
    [[nodiscard]] QString toString() const;
    // The core's Error: code "tenant.<source>.<code>".
    [[nodiscard]] Error toError() const;
    // Exchange refused a cmdlet with RecipientTaskException (the exception type Exchange uses for
    // "mastered on-premises", among other refusals), or its English message said "synchronized".
    [[nodiscard]] bool isRecipientTaskRefusal() const;

    // Error bodies. Each returns a TenantError with source, status, code, message and ids filled
    // as far as the body allows; an unreadable body still yields the status and the raw text.
    static TenantError fromAuthority(int httpStatus, const QByteArray &body);
    static TenantError fromGraph(int httpStatus, const QByteArray &body);
    static TenantError fromExchange(int httpStatus, const QByteArray &body);
};

// Stable codes of our own.
namespace errc {
inline const QString OutcomeUnknown = QStringLiteral("outcomeUnknown");
inline const QString Throttled = QStringLiteral("throttled");
inline const QString Canceled = QStringLiteral("canceled");
inline const QString SyncedObject = QStringLiteral("syncedObject"); // Exchange refuses: on-premises mastered
inline const QString SyncStateNotFound = QStringLiteral("syncStateNotFound"); // Graph delta token expired
inline const QString Credential = QStringLiteral("credential");
} // namespace errc

// A value or a TenantError; the tenant layer's Result.
template<typename T> class [[nodiscard]] TenantResult
{
public:
    TenantResult(T value)
        : m_state(std::in_place_index<0>, std::move(value))
    { }
    TenantResult(TenantError error)
        : m_state(std::in_place_index<1>, std::move(error))
    { }
    [[nodiscard]] bool ok() const { return m_state.index() == 0; }
    explicit operator bool() const { return ok(); }
    T &value() & { return std::get<0>(m_state); }
    const T &value() const & { return std::get<0>(m_state); }
    T &&value() && { return std::get<0>(std::move(m_state)); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    [[nodiscard]] const TenantError &error() const { return std::get<1>(m_state); }
    [[nodiscard]] Result<T> toResult() const &
    {
        if (ok())
            return value();
        return error().toError();
    }

private:
    std::variant<T, TenantError> m_state;
};

} // namespace certsync::tenant
