#pragma once

// The fuzz targets' property check: a failed property prints what was expected and aborts,
// which libFuzzer reports as a finding (with the input saved under build-asan/fuzz/artifacts/).
#include <cstdio>
#include <cstdlib>

namespace idl::fuzz {

inline void require(bool condition, const char *what)
{
    if (!condition) {
        std::fprintf(stderr, "fuzz property failed: %s\n", what);
        std::abort();
    }
}

} // namespace idl::fuzz
