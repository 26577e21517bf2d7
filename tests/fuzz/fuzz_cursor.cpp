// libFuzzer entry point for the gateway's keyset cursor (shared/protocol decodeCursor, what a
// client sends back in `cursor`): any text decodes to (ts, id) or a BadField error. A decoded
// cursor encodes to a cursor that decodes to the same (ts, id).
#include "fuzz_check.h"
#include "idl/protocol/requests.h"

#include <cstdint>
#include <string_view>

using idl::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    const auto decoded = idl::protocol::decodeCursor(text);
    if (!decoded.ok()) {
        require(decoded.error().code == idl::ErrorCode::BadField, "a bad cursor is bad_field");
        require(!decoded.error().message.empty(), "an error has a message");
        return 0;
    }
    const auto &[ts, id] = *decoded;
    const auto again = idl::protocol::decodeCursor(idl::protocol::encodeCursor(ts, id));
    require(again.ok() && *again == *decoded, "a cursor re-encodes to the same (ts, id)");
    return 0;
}
