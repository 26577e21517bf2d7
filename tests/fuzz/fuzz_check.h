#pragma once

// The fuzz targets' property check: a failed property prints what was expected and aborts,
// which libFuzzer reports as a finding (with the input saved under build-asan/fuzz/artifacts/).
#include "idl/core/json_codec.h"

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

// Event limits small enough that every rejection (too deep, too many attributes, a field,
// message or event over its size) fits in an input of -max_len 16 KiB.
inline IngestLimits smallIngestLimits()
{
    IngestLimits limits;
    limits.maxDepth = 8;
    limits.maxAttributes = 32;
    limits.maxFieldBytes = 1024;
    limits.maxMessageBytes = 2048;
    limits.maxEventBytes = 4096;
    return limits;
}

} // namespace idl::fuzz
