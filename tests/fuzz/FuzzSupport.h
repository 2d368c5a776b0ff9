#pragma once

// What every fuzz target shares.

#include <sanitizer/allocator_interface.h>

#include <algorithm>
#include <cerrno> // program_invocation_short_name (glibc)
#include <cstdio>
#include <cstdlib>

// The targets' assertion: a property that does not hold is named (with the target's name) and
// aborts, which libFuzzer reports as a crash and keeps the input that broke it.
inline void check(bool condition, const char *what)
{
    if (!condition) {
        fprintf(stderr, "%s: %s\n", program_invocation_short_name, what);
        abort();
    }
}

// Called once per input. CERTSYNC_FUZZ_HEAP=N prints the live heap every N inputs, to tell the
// product's memory (a leak or a cache would grow it) from the fuzzer's own (its corpus, ASan's
// quarantine) when resident memory grows (docs/FUZZING.md).
inline void reportLiveHeap()
{
    static const long every = [] {
        const char *n = getenv("CERTSYNC_FUZZ_HEAP");
        return n ? std::max(1L, atol(n)) : 0L;
    }();
    static long runs = 0;
    if (every && ++runs % every == 0)
        fprintf(stderr, "heap: %ld inputs, %zu bytes live\n", runs,
                __sanitizer_get_current_allocated_bytes());
}
