#pragma once

// The fuzz targets' assertion: a property that does not hold is named (with the target's name) and
// aborts, which libFuzzer reports as a crash and keeps the input that broke it.

#include <cerrno> // program_invocation_short_name (glibc)
#include <cstdio>
#include <cstdlib>

inline void check(bool condition, const char *what)
{
    if (!condition) {
        fprintf(stderr, "%s: %s\n", program_invocation_short_name, what);
        abort();
    }
}
