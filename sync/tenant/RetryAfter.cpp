#include "tenant/RetryAfter.h"

#include <QLocale>
#include <QTimeZone>

#include <algorithm>

namespace certsync::tenant {

namespace {

bool isBlank(char c)
{
    return c == ' ' || c == '\t';
}

} // namespace

std::optional<qint64> parseRetryAfterSeconds(QByteArrayView value, const QDateTime &now)
{
    while (!value.isEmpty() && isBlank(value.front()))
        value = value.sliced(1);
    while (!value.isEmpty() && isBlank(value.back()))
        value.chop(1);
    if (value.isEmpty())
        return std::nullopt;

    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        // delay-seconds: any number of digits; saturate instead of overflowing.
        qint64 seconds = 0;
        for (const char c : value) {
            seconds = seconds * 10 + (c - '0');
            if (seconds >= RetryAfterCeilingSeconds)
                return RetryAfterCeilingSeconds;
        }
        return seconds;
    }

    // HTTP-date. IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") is what servers send (RFC 9110
    // 5.6.7); a numeric zone ("+0000", RFC 2822) is read too. The obsolete RFC 850 and asctime
    // forms are not accepted: the caller then backs off as for an absent value.
    if (value.size() > 64)
        return std::nullopt;
    const QString text = QString::fromLatin1(value);
    QDateTime at;
    if (text.endsWith(QStringLiteral(" GMT"))) {
        at = QLocale::c().toDateTime(text.chopped(4), QStringLiteral("ddd, dd MMM yyyy HH:mm:ss"));
        at.setTimeZone(QTimeZone::utc());
    } else {
        at = QDateTime::fromString(text, Qt::RFC2822Date);
    }
    if (!at.isValid())
        return std::nullopt;
    const qint64 seconds = now.secsTo(at);
    return std::clamp<qint64>(seconds, 0, RetryAfterCeilingSeconds);
}

} // namespace certsync::tenant
