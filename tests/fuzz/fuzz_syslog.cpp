// libFuzzer entry point for the syslog parser and framer (backend/collector): any bytes parse
// to an event whose message and host are valid UTF-8 and which survives the canonical
// encoding unchanged (so attrsJson is a valid minified object); the framer never crashes,
// never hands out more bytes than it got, and splits a stream the same way however it
// arrives (in one piece, or cut at a point taken from the input).
#include "idl/collector/syslog_parser.h"
#include "idl/core/event_encoding.h"
#include "idl/core/utf8.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using idl::collector::syslog::Framer;

void check(bool ok)
{
    if (!ok)
        std::abort();
}

// Every frame of `stream` fed in two reads cut at `cut`; kinds and messages in order. The
// framed bytes are skipped with an offset and dropped once per read, as the listener does
// (erasing them frame by frame made this quadratic in the frames of an input).
std::vector<std::string> frames(std::string_view stream, std::size_t cut)
{
    Framer framer({64, 4096});
    std::vector<std::string> out;
    std::string buf;
    std::size_t off = 0;
    const auto drain = [&](bool atEnd) {
        for (;;) {
            const std::string_view rest = std::string_view(buf).substr(off);
            auto n = atEnd ? framer.finish(rest) : framer.next(rest);
            check(n.consumed <= rest.size());
            if (n.kind == Framer::Kind::Message) {
                check(n.message.size() <= 64);
                out.push_back("M" + std::string(n.message));
            } else if (n.kind == Framer::Kind::TooLarge) {
                out.emplace_back("T");
            } else if (n.kind == Framer::Kind::Error) {
                out.emplace_back("E");
                buf.clear();
                off = 0;
                return false;
            }
            off += n.consumed;
            if (n.kind == Framer::Kind::NeedMore) {
                buf.erase(0, off);
                off = 0;
                return true;
            }
        }
    };
    buf.append(stream.substr(0, cut));
    if (!drain(false))
        return out;
    buf.append(stream.substr(cut));
    if (!drain(false))
        return out;
    drain(true);
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string_view input(reinterpret_cast<const char *>(data), size);

    idl::LogEvent ev;
    ev.id = "0190a4b2-7c3e-7d41-9a2b-3c4d5e6f7a8b";
    idl::collector::syslog::ParseContext ctx;
    ctx.receivedNs = 1'700'000'000'000'000'000;
    ctx.peerHost = "127.0.0.1";
    ctx.rfc3164UtcOffsetSeconds = size % 2 ? 3600 : -36000;
    ctx.appFromAppName = size % 3 == 0;
    idl::collector::syslog::parseMessage(input, ctx, ev);
    check(idl::findInvalidUtf8(ev.message) == std::string_view::npos);
    check(idl::findInvalidUtf8(ev.host) == std::string_view::npos);
    check(idl::findInvalidUtf8(ev.app) == std::string_view::npos);
    check(ev.tsNs >= 0);
    const auto back = idl::decodeEvent(idl::encodeEvent(ev));
    check(back.ok() && *back == ev);

    // The same stream in one read and cut in two: the same frames (unless one of them hit a
    // framing error, which may be reported at a different point).
    const std::size_t cut = size ? data[0] % (size + 1) : 0;
    const auto whole = frames(input, input.size());
    const auto split = frames(input, cut);
    if ((whole.empty() || whole.back() != "E") && (split.empty() || split.back() != "E"))
        check(whole == split);
    return 0;
}
