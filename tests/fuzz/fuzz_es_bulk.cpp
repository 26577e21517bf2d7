// libFuzzer entry point for the Elasticsearch bulk decoder: any bytes give items or a
// request-level error, never a crash; every item is answered (201 with an event, or an error
// with a type and reason); every accepted event survives the canonical encoding; the reply is
// JSON.
#include "idl/collector/es_bulk.h"
#include "idl/core/json_codec.h"

#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static idl::collector::EsBulkDecoder decoder;
    static simdjson::dom::parser parser;
    const std::string_view input(reinterpret_cast<const char *>(data), size);
    idl::collector::BatchLimits limits;
    limits.maxEvents = 1000;
    auto bulk = decoder.decode(input, "logs-fuzz-default", 1, limits, {});
    if (!bulk.ok()) {
        if (bulk.error().message.empty() || bulk.error().code == idl::ErrorCode::Internal)
            std::abort();
        return 0;
    }
    std::size_t created = 0;
    for (const auto &item : bulk->items) {
        if (item.status == 201)
            ++created;
        else if (item.errorType.empty() || item.reason.empty())
            std::abort();
        if (item.indexRef >= bulk->indices.size())
            std::abort();
    }
    if (created != bulk->batch.encoded.size() ||
        created + bulk->batch.rejected != bulk->items.size())
        std::abort();
    for (std::size_t i = 0; i < bulk->batch.encoded.size(); ++i) {
        auto event = idl::decodeEvent(bulk->batch.encoded.value(i));
        if (!event.ok() || event->app != bulk->batch.encoded.key(i))
            std::abort();
    }
    const std::string reply = idl::collector::esBulkResponse(*bulk, 1);
    simdjson::dom::element root;
    if (parser.parse(reply).get(root) != simdjson::SUCCESS)
        std::abort();
    return 0;
}
