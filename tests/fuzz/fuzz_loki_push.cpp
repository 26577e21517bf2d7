// libFuzzer entry point for the Loki push decoders. The first byte picks the path: the label
// parser, the JSON body, the protobuf body, or snappy then protobuf (as the route does). Any
// bytes give events or errors, never a crash; every entry is counted once (accepted or
// rejected); accepted events survive the canonical encoding unchanged.
#include "idl/collector/ingest_decoder.h"
#include "idl/collector/loki_push.h"
#include "idl/core/json_codec.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void checkBatch(const idl::Result<idl::collector::LokiBatch> &r)
{
    if (!r.ok()) {
        if (r.error().message.empty() || r.error().code == idl::ErrorCode::Internal)
            std::abort();
        return;
    }
    if (r->batch.events.size() + r->batch.rejected != r->batch.total)
        std::abort();
    if (r->batch.rejected > 0 && idl::collector::lokiErrorText(*r).empty())
        std::abort();
    for (const idl::LogEvent &ev : r->batch.events) {
        auto back = idl::decodeEvent(idl::encodeEvent(ev));
        if (!back.ok() || !(*back == ev))
            std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::string_view input(reinterpret_cast<const char *>(data) + 1, size - 1);
    idl::collector::BatchLimits limits;
    limits.maxEvents = 1000;
    switch (data[0] % 4) {
    case 0: {
        auto labels = idl::collector::parseLokiLabels(input);
        if (!labels.ok() && labels.error().message.empty())
            std::abort();
        if (labels.ok() && labels->empty())
            std::abort();
        return 0;
    }
    case 1:
        checkBatch(idl::collector::decodeLokiJson(input, 1, {}, limits, {}));
        return 0;
    case 2:
        checkBatch(idl::collector::decodeLokiProtobuf(input, 1, {}, limits, {}));
        return 0;
    default: {
        auto plain = idl::collector::decompress(std::string(input),
                                                idl::collector::ContentEncoding::Snappy, 1 << 20);
        if (plain.ok())
            checkBatch(idl::collector::decodeLokiProtobuf(*plain, 1, {}, limits, {}));
        return 0;
    }
    }
}
