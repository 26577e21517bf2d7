#include "idl/writer/sanitize.h"

#include "idl/core/json_codec.h"
#include "idl/core/uuid.h"

#include <array>
#include <cstdio>

namespace idl::writer {

std::string fixNames(unsigned fixes)
{
    static constexpr std::array<std::pair<unsigned, const char *>, 5> kNames = {{
        {FixInvalidUtf8, "invalid_utf8"},
        {FixNulBytes, "nul_bytes"},
        {FixBadId, "bad_id"},
        {FixTimestamp, "timestamp_clamped"},
        {FixReceivedTime, "received_time_clamped"},
    }};
    std::string out;
    for (const auto &[bit, name] : kNames) {
        if (fixes & bit) {
            if (!out.empty())
                out += ',';
            out += name;
        }
    }
    return out;
}

bool stripNul(std::string &text)
{
    const auto before = text.size();
    std::erase(text, '\0');
    return text.size() != before;
}

bool stripJsonNulEscapes(std::string &json)
{
    if (json.find("\\u0000") == std::string::npos)
        return false;
    std::string out;
    out.reserve(json.size());
    bool removed = false;
    for (std::size_t i = 0; i < json.size(); ++i) {
        if (json[i] != '\\' || i + 1 >= json.size()) {
            out.push_back(json[i]);
            continue;
        }
        if (json.compare(i, 6, "\\u0000") == 0) {
            removed = true;
            i += 5;
            continue;
        }
        out.push_back(json[i]);
        out.push_back(json[i + 1]);
        ++i;
    }
    json.swap(out);
    return removed;
}

std::string stableUuid(std::string_view seed)
{
    // Two FNV-1a 64-bit hashes with different offsets make 128 bits.
    std::uint64_t a = 0xcbf29ce484222325ULL;
    std::uint64_t b = 0x84222325cbf29ce4ULL;
    for (const char ch : seed) {
        a = (a ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
        b = (b ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
        b ^= b >> 29;
    }
    unsigned char bytes[16];
    for (int k = 0; k < 8; ++k) {
        bytes[k] = static_cast<unsigned char>(a >> (56 - 8 * k));
        bytes[8 + k] = static_cast<unsigned char>(b >> (56 - 8 * k));
    }
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x80); // version 8
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80); // variant 10
    char text[37];
    std::snprintf(text, sizeof text,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                  bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                  bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
    return std::string(text, 36);
}

Result<LogEvent> prepareEvent(std::string_view payload, std::string_view sourceKey,
                              const SanitizePolicy &policy, std::int64_t nowNs, unsigned &fixes)
{
    fixes = FixNone;
    Result<LogEvent> decoded = decodeEvent(payload);
    if (!decoded && decoded.error().code == ErrorCode::InvalidUtf8) {
        const std::string repaired = replaceInvalidUtf8(payload);
        decoded = decodeEvent(repaired);
        fixes |= FixInvalidUtf8;
    }
    if (!decoded)
        return std::move(decoded).error();
    LogEvent e = std::move(decoded).value();

    bool nul = false;
    nul |= stripNul(e.id);
    nul |= stripNul(e.app);
    nul |= stripNul(e.host);
    nul |= stripNul(e.message);
    nul |= stripNul(e.traceId);
    nul |= stripNul(e.spanId);
    nul |= stripJsonNulEscapes(e.attrsJson);
    if (nul)
        fixes |= FixNulBytes;
    if (e.attrsJson.empty() || e.attrsJson.front() != '{')
        e.attrsJson = "{}";

    if (!isValidUuid(e.id)) {
        e.id = stableUuid(sourceKey);
        fixes |= FixBadId;
    }

    const std::int64_t latest = nowNs + policy.maxFutureNs;
    if (e.receivedNs <= 0 || e.receivedNs > latest) {
        e.receivedNs = nowNs;
        fixes |= FixReceivedTime;
    }
    if (e.tsNs < 0 || e.tsNs > latest) {
        const std::string original = std::to_string(e.tsNs);
        e.tsNs = e.receivedNs;
        fixes |= FixTimestamp;
        std::string attrs = "{\"idl.original_ts\":" + original;
        if (e.attrsJson.size() > 2)
            attrs += ',';
        attrs.append(e.attrsJson, 1, std::string::npos);
        e.attrsJson = std::move(attrs);
    }
    if (policy.oldestAcceptedNs > 0 && e.tsNs < policy.oldestAcceptedNs) {
        return makeError(ErrorCode::BadTimestamp,
                         "event time " + std::to_string(e.tsNs) +
                             " ns is older than the retention period (oldest accepted " +
                             std::to_string(policy.oldestAcceptedNs) + ")");
    }
    return e;
}

} // namespace idl::writer
