// libFuzzer entry point: any bytes must decode to an event or an Error, never crash, and a
// decoded event must survive the canonical encoding unchanged.
#include "idl/core/json_codec.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static idl::EventDecoder decoder;
    const std::string_view input(reinterpret_cast<const char *>(data), size);
    const idl::Result<idl::LogEvent> event = decoder.decodeIncoming(input, 1);
    if (!event.ok()) {
        if (event.error().code == idl::ErrorCode::Internal || event.error().message.empty())
            std::abort();
        return 0;
    }
    const idl::Result<idl::LogEvent> back = idl::decodeEvent(idl::encodeEvent(*event));
    if (!back.ok() || !(*back == *event))
        std::abort();
    return 0;
}
