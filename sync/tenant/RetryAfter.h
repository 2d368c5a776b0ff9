#pragma once

// Retry-After (RFC 9110, 10.2.3) as Graph and Exchange send it with 429 and 503: delay-seconds or
// an HTTP-date. One parser for every answer and every batch item, so that a hostile or broken
// value cannot overflow a delay or hang a run in one place while another place handles it.

#include <QByteArrayView>
#include <QDateTime>

#include <optional>

namespace certsync::tenant {

// The longest delay this parser reports; longer values are clamped to it (they are refused by the
// caller's cap long before: TenantSettings::maxRetryAfterSeconds).
inline constexpr qint64 RetryAfterCeilingSeconds = 100'000'000; // about three years

// Seconds to wait, from `now`, or nothing when the value is absent or neither form. A date in the
// past means 0. Leading and trailing blanks are ignored; a sign, a fraction or trailing text is
// not delay-seconds.
std::optional<qint64> parseRetryAfterSeconds(QByteArrayView value, const QDateTime &now);

} // namespace certsync::tenant
