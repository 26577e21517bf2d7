#pragma once

#include "idl/core/log_event.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Syslog messages (RFC 5424 and RFC 3164 "BSD" with its real-world variants) into LogEvents,
// and the framing of a syslog TCP stream (RFC 6587: octet counting, or LF/NUL delimited).
// Pure functions and a small state machine: no I/O, never throws on any input (only
// std::bad_alloc). The mapping is in docs/collector.md ("Syslog").
namespace idl::collector::syslog {

// What a message was read as.
enum class Format {
    Rfc5424,  // "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]"
    Rfc3164,  // "<PRI>[TIMESTAMP ][HOSTNAME ][TAG[PID]: ]MSG" (timestamp and host optional)
    Malformed // kept whole as the message (see parseMessage)
};

// The context of one message.
struct ParseContext
{
    std::int64_t receivedNs = 0; // receive time: the event time when the message has none,
                                 // and the reference for RFC 3164's missing year
    std::string_view peerHost;   // the sender's address: the host when the message names none
    // Offset of the local time zone from UTC in seconds, for RFC 3164 timestamps (local time
    // without a zone, as rsyslog and syslog-ng read them). localUtcOffset() gives the
    // collector's.
    std::int64_t rfc3164UtcOffsetSeconds = 0;
    // Set event.app to the message's APP-NAME (RFC 5424) or TAG (RFC 3164), "syslog" when it
    // has none (listeners whose app is "the message's").
    bool appFromAppName = false;
};

// The collector's local time zone offset from UTC at `ns` (seconds, DST included).
std::int64_t localUtcOffset(std::int64_t ns);

// Parses one message (without its framing) into `event`: tsNs, receivedNs, level, host,
// message and attrsJson (a "syslog" object: facility, severity, appname, procid, msgid,
// sd, and parse_error for malformed messages). `event.app` (unless appFromAppName) and
// `event.id` are left as they are (the listener's app; the id is set when it is produced).
//
// Rule for malformed input: a message without a valid PRI ("<0>".."<191>") is kept whole as
// the message with PRI 13 (user.notice), as RFC 3164 section 4.3.3 tells a relay to do; a
// message announcing RFC 5424 ("<PRI>1 ") whose header or structured data does not follow
// the grammar is kept whole as the message with the severity and facility of its PRI. Both
// get attrs.syslog.parse_error and return Format::Malformed. Everything after a valid PRI
// that is not RFC 5424 is read as RFC 3164, whose parts are all optional. Bytes that are not
// UTF-8 become U+FFFD; a leading BOM, leading spaces and trailing CR/LF/NUL are dropped.
Format parseMessage(std::string_view raw, const ParseContext &context, LogEvent &event);

// Facility and severity names ("local0", "warning"), for numbers 0..23 and 0..7.
std::string_view facilityName(int facility) noexcept;
std::string_view severityName(int severity) noexcept;

// Framing limits of one TCP connection.
struct FramingLimits
{
    std::size_t maxMessage = 64 * 1024; // larger messages are skipped (dropped, counted)
    // An octet count above this is a framing error (the stream cannot be trusted any more:
    // the connection is closed); between maxMessage and maxFrame the frame is skipped.
    std::size_t maxFrame = 1024 * 1024;
};

// Splits a TCP byte stream into messages. Each frame is octet-counted ("LEN SP MSG", RFC 6587
// 3.4.1) when it starts with a digit, else delimited by LF or NUL (3.4.2; a CR before the LF
// is dropped); the choice is made per frame, so a sender may mix them. LF, CR and NUL
// between frames are skipped.
//
// Usage: append received bytes to a buffer, call next(buffer) until it returns NeedMore,
// dropping `consumed` bytes from the front of the buffer after each call (a Message's view
// points into the buffer and stays valid until then). At the end of the stream call
// finish(buffer) once for what is left.
class Framer
{
public:
    enum class Kind {
        NeedMore, // no complete frame yet (`consumed` may still be > 0)
        Message,  // `message` is one frame's message
        TooLarge, // a message over maxMessage was (or is being) skipped: count it once
        Error     // framing error: the stream is unusable, close the connection
    };
    struct Next
    {
        Kind kind = Kind::NeedMore;
        std::string_view message;
        std::size_t consumed = 0;
        std::string error; // Kind::Error
    };

    explicit Framer(FramingLimits limits = {}) : m_limits(limits) {}

    Next next(std::string_view buffered);
    // End of stream: the last unterminated LF frame as a Message, an incomplete octet-counted
    // frame as an Error, or NeedMore when nothing is left.
    Next finish(std::string_view buffered);

    // Bytes a connection must be able to buffer for a whole frame of maxMessage.
    std::size_t minBuffer() const { return m_limits.maxMessage + 12; }

private:
    FramingLimits m_limits;
    std::size_t m_skipBytes = 0;    // octet-counted frame being skipped
    bool m_skipToDelimiter = false; // delimited frame being skipped
};

} // namespace idl::collector::syslog
