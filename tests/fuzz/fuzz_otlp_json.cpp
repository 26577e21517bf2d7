// libFuzzer entry point for the collector's OTLP/HTTP JSON decoder (POST /v1/logs): any bytes
// give a batch or a request-level error, never a crash. Properties: the counts add up
// (accepted + rejected = total), the listed errors are in index order within the request,
// and every accepted event survives the canonical Kafka encoding unchanged.
#include "fuzz_check.h"
#include "idl/collector/ingest_decoder.h"
#include "idl/core/json_codec.h"

#include <cstdint>
#include <string_view>

namespace {

constexpr std::int64_t kNow = 1'700'000'000'000'000'000;

} // namespace

using idl::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string_view body(reinterpret_cast<const char *>(data), size);
    // Limits small enough that every rejection (too many records too) fits in 16 KiB.
    const idl::IngestLimits eventLimits = idl::fuzz::smallIngestLimits();
    idl::collector::BatchLimits limits;
    limits.maxEvents = 200;
    limits.maxErrors = 8;
    const auto batch = idl::collector::decodeOtlpJson(body, kNow, eventLimits, limits, {});
    if (!batch.ok()) {
        require(batch.error().code != idl::ErrorCode::Internal, "no internal error");
        require(!batch.error().message.empty(), "an error has a message");
        return 0;
    }
    require(batch->encoded.size() == 0, "events kept as LogEvents");
    require(batch->events.size() + batch->rejected == batch->total, "accepted + rejected = total");
    require(batch->total <= limits.maxEvents, "at most maxEvents records");
    require(batch->errors.size() <= batch->rejected && batch->errors.size() <= limits.maxErrors,
            "at most maxErrors errors listed");
    std::size_t previous = 0;
    for (std::size_t i = 0; i < batch->errors.size(); ++i) {
        const auto &e = batch->errors[i];
        require(e.index < batch->total && (i == 0 || e.index > previous), "errors in index order");
        require(!e.error.message.empty() && e.error.code != idl::ErrorCode::Internal,
                "an event error has a code and a message");
        previous = e.index;
    }
    for (const idl::LogEvent &event : batch->events) {
        const auto back = idl::decodeEvent(idl::encodeEvent(event));
        require(back.ok() && *back == event, "an accepted event survives the canonical encoding");
    }
    return 0;
}
