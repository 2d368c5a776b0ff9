// libFuzzer target: the one Retry-After parser (tenant/RetryAfter.h, issue 13) that Graph, Exchange
// and $batch items share. Built only when that parser is in the tree (see CMakeLists.txt). The fuzz
// bytes are the header value; "now" is fixed so that a run is repeatable.
#include "tenant/RetryAfter.h"

#include "FuzzSupport.h"

#include <QByteArray>
#include <QDateTime>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace certsync::tenant;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView value(reinterpret_cast<const char *>(data), qsizetype(size));
    const QDateTime now = QDateTime::fromSecsSinceEpoch(1795000000, Qt::UTC);
    const std::optional<qint64> seconds = parseRetryAfterSeconds(value, now);
    if (seconds) {
        check(*seconds >= 0, "a negative delay");
        check(*seconds <= RetryAfterCeilingSeconds, "a delay past the ceiling");
        check(*seconds * 1000 / 1000 == *seconds, "a delay that overflows in milliseconds");
    }
    check(parseRetryAfterSeconds(value, now) == seconds, "two answers for one value");

    // delay-seconds as digits only: read exactly, up to the ceiling.
    bool digits = size > 0;
    for (size_t i = 0; i < size && digits; ++i)
        digits = data[i] >= '0' && data[i] <= '9';
    if (digits && size <= 18) {
        const qint64 n = QByteArray(value.data(), value.size()).toLongLong();
        check(seconds && *seconds == std::min(n, RetryAfterCeilingSeconds), "digits read wrongly");
    }
    reportLiveHeap();
    return 0;
}
