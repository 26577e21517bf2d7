#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace idl::loadgen {

// Wire format of a request body.
enum class Format { Native, Otlp };

// Attribute keys every generated event carries, read back by the checker.
inline constexpr std::string_view kGeneratorAttr = "loadgen.id";
inline constexpr std::string_view kSequenceAttr = "loadgen.seq";

// Builds request bodies of realistic application logs: seven services with their hosts, a
// level mix (2% trace, 13% debug, 65% info, 12% warn, 7% error, 1% fatal), message templates
// (access logs, queries, cache, upstream failures, jobs, auth, multi-line errors), typed
// attributes, trace ids on a third of the events, and an optional payload attribute of about
// `payloadBytes` bytes (varied ±50%). Every event carries the generator id and its sequence
// number (kGeneratorAttr / kSequenceAttr). Not thread-safe: one factory per thread.
class EventFactory
{
public:
    EventFactory(std::string generatorId, std::uint64_t seed, int payloadBytes);

    // Appends to `out` a body holding the events with sequence numbers [firstSeq, firstSeq+n),
    // event times around nowNs.
    void appendBody(std::string &out, Format format, std::uint64_t firstSeq, int n,
                    std::int64_t nowNs);

    // Content-Type and request path of a format.
    static std::string_view contentType(Format format);
    static std::string_view path(Format format);
    // "native"/"ndjson" or "otlp".
    static bool parseFormat(std::string_view text, Format &format);

private:
    struct Draft;
    void draft(Draft &d, std::uint64_t seq, std::int64_t nowNs);
    std::uint64_t next();
    std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }

    std::string m_generatorId;
    std::uint64_t m_state;
    int m_payloadBytes;
};

} // namespace idl::loadgen
