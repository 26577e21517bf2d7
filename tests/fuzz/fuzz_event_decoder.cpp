// libFuzzer entry point: any bytes must decode to an event or an Error, never crash, and a
// decoded event must survive the canonical encoding unchanged.
#include "fuzz_check.h"
#include "idl/core/json_codec.h"

#include <cstdint>
#include <string_view>

using idl::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static idl::EventDecoder decoder;
    const std::string_view input(reinterpret_cast<const char *>(data), size);
    const idl::Result<idl::LogEvent> event = decoder.decodeIncoming(input, 1);
    if (!event.ok()) {
        require(event.error().code != idl::ErrorCode::Internal && !event.error().message.empty(),
                "an error has a code and a message");
        return 0;
    }
    const idl::Result<idl::LogEvent> back = idl::decodeEvent(idl::encodeEvent(*event));
    require(back.ok() && *back == *event, "an event survives the canonical encoding");
    return 0;
}
