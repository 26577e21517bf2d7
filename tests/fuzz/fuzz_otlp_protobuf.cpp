// libFuzzer entry point for OTLP protobuf (OTLP/HTTP application/x-protobuf; gRPC's messages
// go through the same mapping): any bytes decode to a batch or an Error, never crash. In a
// batch, every record is counted once (accepted + rejected = total), every rejection has a
// message and an index inside the request, and every accepted event survives the canonical
// encoding unchanged.
#include "fuzz_check.h"
#include "idl/collector/ingest_decoder.h"
#include "idl/core/event_encoding.h"
#include "idl/core/json_codec.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string_view input(reinterpret_cast<const char *>(data), size);
    // Limits small enough that every rejection (too many records too) fits in 16 KiB.
    const idl::IngestLimits limits = idl::fuzz::smallIngestLimits();
    idl::collector::BatchLimits batchLimits;
    batchLimits.maxEvents = 200;
    batchLimits.maxErrors = 5;
    const auto batch =
        idl::collector::decodeOtlpProtobuf(input, 1, limits, batchLimits, /*check=*/{});
    if (!batch.ok()) {
        if (batch.error().code == idl::ErrorCode::Internal || batch.error().message.empty())
            std::abort();
        return 0;
    }
    if (batch->events.size() + batch->rejected != batch->total || batch->total > 200 ||
        batch->errors.size() > 5)
        std::abort();
    for (const auto &e : batch->errors)
        if (e.index >= batch->total || e.error.message.empty())
            std::abort();
    for (const auto &event : batch->events) {
        const idl::Result<idl::LogEvent> back = idl::decodeEvent(idl::encodeEvent(event));
        if (!back.ok() || !(*back == event))
            std::abort();
    }
    return 0;
}
