#include "idl/processor/pipeline.h"

#include "idl/core/json_codec.h"
#include "idl/core/json_writer.h"
#include "idl/core/uuid.h"

#include <simdjson.h>

#include <charconv>

namespace idl::processor {

namespace {

// Attribute names the processor itself writes (see docs/processor.md).
constexpr std::string_view kAttrCollector = "idl.collector";
constexpr std::string_view kAttrKeyId = "idl.key_id";
constexpr std::string_view kAttrOrigTs = "idl.orig_ts";
constexpr std::string_view kAttrDroppedAttrs = "idl.dropped_attrs";
constexpr std::string_view kAttrTruncated = "idl.truncated";
constexpr std::string_view kAttrBadTraceId = "idl.bad_trace_id";
constexpr std::string_view kAttrBadSpanId = "idl.bad_span_id";

bool isReserved(std::string_view key)
{
    return key == kAttrCollector || key == kAttrKeyId || key == kAttrOrigTs ||
           key == kAttrDroppedAttrs || key == kAttrTruncated || key == kAttrBadTraceId ||
           key == kAttrBadSpanId;
}

// Cuts `s` to at most `limit` bytes without splitting a UTF-8 sequence.
void truncateUtf8(std::string &s, std::size_t limit)
{
    if (s.size() <= limit)
        return;
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
        --cut;
    s.resize(cut);
}

bool isLowerHex(std::string_view s, std::size_t length)
{
    if (s.size() != length)
        return false;
    for (const char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    return true;
}

void normalizeHexId(std::string &id)
{
    for (char &c : id)
        if (c >= 'A' && c <= 'F')
            c = static_cast<char>(c - 'A' + 'a');
}

} // namespace

struct Pipeline::Impl
{
    PipelineOptions opt;
    std::shared_ptr<const Redactor> redactor;
    std::shared_ptr<const Sampler> sampler;
    EventDecoder decoder;
    simdjson::dom::parser attrParser;
    PipelineStats stats;
    std::vector<std::uint64_t> redactCounts;
    std::string scratch;
    std::string attrsOut;
    std::size_t keysSeen = 0;
    std::uint64_t keysDropped = 0;
    std::uint64_t truncatedHere = 0;
    std::uint64_t redactionsHere = 0;
    bool messageTruncated = false;

    Impl(PipelineOptions o, std::shared_ptr<const Redactor> r, std::shared_ptr<const Sampler> s)
        : opt(std::move(o)), redactor(std::move(r)), sampler(std::move(s)),
          decoder(
              IngestLimits{opt.maxEventBytes, 64, 1u << 20, opt.maxEventBytes, opt.maxEventBytes})
    {
        if (redactor)
            stats.redactedByRule.assign(redactor->ruleCount(), 0);
    }

    std::uint64_t redact(std::string &text)
    {
        if (!redactor)
            return 0;
        const std::uint64_t n = redactor->redactText(text, redactCounts);
        if (n > 0) {
            for (std::size_t i = 0; i < redactCounts.size(); ++i) {
                stats.redactedByRule[i] += redactCounts[i];
                redactCounts[i] = 0;
            }
        }
        return n;
    }

    // Writes a string attribute value: truncated to the value limit, redacted.
    void writeString(std::string &out, std::string_view text)
    {
        scratch.assign(text);
        if (scratch.size() > opt.maxValueBytes) {
            truncateUtf8(scratch, opt.maxValueBytes);
            ++truncatedHere;
        }
        redactionsHere += redact(scratch);
        appendJsonString(out, scratch);
    }

    // Writes one attribute value at nesting `depth` (1 = a top-level attribute's value).
    void writeValue(std::string &out, simdjson::dom::element v, std::size_t depth)
    {
        using simdjson::dom::element_type;
        switch (v.type()) {
        case element_type::OBJECT:
        case element_type::ARRAY:
            if (depth >= opt.maxAttrDepth) {
                // Too deep to keep as structure: kept as its JSON text (still redacted).
                ++stats.attrsFlattened;
                writeString(out, simdjson::minify(v));
                return;
            }
            if (v.type() == element_type::OBJECT) {
                simdjson::dom::object object;
                if (v.get_object().get(object))
                    return;
                writeObject(out, object, depth + 1, false);
            } else {
                simdjson::dom::array array;
                if (v.get_array().get(array))
                    return;
                out.push_back('[');
                bool first = true;
                for (const simdjson::dom::element item : array) {
                    if (!first)
                        out.push_back(',');
                    first = false;
                    writeValue(out, item, depth + 1);
                }
                out.push_back(']');
            }
            return;
        case element_type::STRING:
            writeString(out, v.get_string().value_unsafe());
            return;
        case element_type::INT64:
            appendJsonInt(out, v.get_int64().value_unsafe());
            return;
        case element_type::UINT64:
            appendJsonUInt(out, v.get_uint64().value_unsafe());
            return;
        case element_type::DOUBLE:
            appendJsonDouble(out, v.get_double().value_unsafe());
            return;
        case element_type::BOOL:
            out.append(v.get_bool().value_unsafe() ? "true" : "false");
            return;
        case element_type::NULL_VALUE:
            out.append("null");
            return;
        }
    }

    // Writes an object's members (without braces when top-level: the caller adds extras).
    void writeObject(std::string &out, simdjson::dom::object object, std::size_t depth,
                     bool topLevel)
    {
        if (!topLevel)
            out.push_back('{');
        bool first = !topLevel || out.size() == 1;
        for (const simdjson::dom::key_value_pair field : object) {
            if (topLevel && isReserved(field.key)) {
                ++keysDropped; // the processor's own attribute wins; counted
                continue;
            }
            if (keysSeen >= opt.maxAttrKeys) {
                ++keysDropped;
                continue;
            }
            ++keysSeen;
            if (!first)
                out.push_back(',');
            first = false;
            appendJsonString(out, field.key);
            out.push_back(':');
            const int keyRule =
                redactor && redactor->hasKeyRules() ? redactor->matchKey(field.key) : -1;
            if (keyRule >= 0 && field.value.type() != simdjson::dom::element_type::NULL_VALUE) {
                appendJsonString(out,
                                 redactor->rule(static_cast<std::size_t>(keyRule)).replacement);
                ++stats.redactedByRule[static_cast<std::size_t>(keyRule)];
                ++redactionsHere;
                continue;
            }
            writeValue(out, field.value, depth);
        }
        if (!topLevel)
            out.push_back('}');
    }

    // Rebuilds the attributes with limits, redaction and enrichment. BadField when the
    // attributes are not an object (the decoder guarantees it; defensive).
    Result<void> rebuildAttrs(LogEvent &e, const RecordInfo &info, std::int64_t origTs)
    {
        keysSeen = 0;
        keysDropped = 0;
        truncatedHere = messageTruncated ? 1 : 0; // the message counts as a truncated value
        attrsOut.clear();
        attrsOut.push_back('{');
        if (!e.attrsJson.empty() && e.attrsJson != "{}") {
            simdjson::dom::element root;
            if (auto err = attrParser.parse(e.attrsJson).get(root); err)
                return makeError(ErrorCode::BadJson,
                                 std::string("attrs: ") + simdjson::error_message(err));
            simdjson::dom::object object;
            if (root.get_object().get(object))
                return makeError(ErrorCode::BadField, "attrs must be an object");
            writeObject(attrsOut, object, 1, true);
        }
        auto addExtra = [&](std::string_view key, auto &&writeVal) {
            if (attrsOut.size() > 1)
                attrsOut.push_back(',');
            appendJsonString(attrsOut, key);
            attrsOut.push_back(':');
            writeVal();
        };
        if (info.collector)
            addExtra(kAttrCollector, [&] { appendJsonString(attrsOut, *info.collector); });
        if (info.keyId)
            addExtra(kAttrKeyId, [&] { appendJsonString(attrsOut, *info.keyId); });
        if (origTs != 0)
            addExtra(kAttrOrigTs, [&] { appendJsonInt(attrsOut, origTs); });
        if (keysDropped > 0) {
            stats.attrsDropped += keysDropped;
            addExtra(kAttrDroppedAttrs, [&] { appendJsonUInt(attrsOut, keysDropped); });
        }
        if (!e.traceId.empty() && !isLowerHex(e.traceId, 32)) {
            ++stats.badTraceIds;
            addExtra(kAttrBadTraceId, [&] { appendJsonString(attrsOut, e.traceId); });
            e.traceId.clear();
        }
        if (!e.spanId.empty() && !isLowerHex(e.spanId, 16)) {
            ++stats.badTraceIds;
            addExtra(kAttrBadSpanId, [&] { appendJsonString(attrsOut, e.spanId); });
            e.spanId.clear();
        }
        if (truncatedHere > 0) {
            stats.valuesTruncated += truncatedHere - (messageTruncated ? 1 : 0);
            addExtra(kAttrTruncated, [&] { appendJsonUInt(attrsOut, truncatedHere); });
        }
        attrsOut.push_back('}');
        e.attrsJson.swap(attrsOut);
        return {};
    }

    // Test-only transient failure rule: "<marker><N>" in the message fails N attempts.
    bool injectedTransient(const LogEvent &e, int attempt) const
    {
        if (opt.transientMarker.empty())
            return false;
        const std::size_t at = e.message.find(opt.transientMarker);
        if (at == std::string::npos)
            return false;
        const char *p = e.message.data() + at + opt.transientMarker.size();
        const char *end = e.message.data() + e.message.size();
        int n = 0;
        const auto [q, ec] = std::from_chars(p, end, n);
        if (ec != std::errc() || q == p)
            return false;
        return attempt < n;
    }

    PipelineResult run(std::string_view value, const RecordInfo &info, LogEvent &e)
    {
        PipelineResult r;
        redactionsHere = 0;
        messageTruncated = false;
        if (value.size() > opt.maxEventBytes) {
            r.outcome = Outcome::Poison;
            r.error = makeError(ErrorCode::TooLarge, "event of " + std::to_string(value.size()) +
                                                         " bytes is over the limit of " +
                                                         std::to_string(opt.maxEventBytes));
            return r;
        }
        std::int64_t fallbackRt = info.nowNs;
        if (info.recordTimestampMs > 0)
            fallbackRt = info.recordTimestampMs * 1'000'000;
        const bool canonical = value.starts_with("{\"v\":");
        Result<LogEvent> decoded =
            canonical ? decoder.decodeEvent(value) : decoder.decodeIncoming(value, fallbackRt);
        if (!decoded) {
            r.outcome = Outcome::Poison;
            r.error = std::move(decoded).error();
            return r;
        }
        if (!canonical)
            ++stats.nativeFormat;
        e = std::move(decoded).value();

        if (injectedTransient(e, info.attempt)) {
            r.outcome = Outcome::Transient;
            r.error = makeError(ErrorCode::Unavailable,
                                "injected transient failure (test rule), attempt " +
                                    std::to_string(info.attempt));
            return r;
        }

        // Enrichment: receive time, app and host defaults, id.
        if (e.receivedNs <= 0)
            e.receivedNs = fallbackRt;
        std::int64_t origTs = 0;
        if (e.tsNs <= 0) {
            ++stats.missingTimestamps;
            e.tsNs = e.receivedNs;
        } else if (e.tsNs > e.receivedNs && e.tsNs - e.receivedNs > opt.maxFutureSkewNs) {
            ++stats.futureTimestamps;
            origTs = e.tsNs;
            e.tsNs = e.receivedNs;
        }
        if (e.app.empty()) {
            ++stats.defaultedApp;
            e.app = info.key && !info.key->empty() ? std::string(*info.key) : opt.defaultApp;
        }
        if (e.host.empty()) {
            ++stats.defaultedHost;
            e.host = opt.defaultHost;
        }
        if (e.id.empty())
            e.id = newEventId();
        normalizeHexId(e.traceId);
        normalizeHexId(e.spanId);
        if (e.message.size() > opt.maxMessageBytes) {
            ++stats.messagesTruncated;
            truncateUtf8(e.message, opt.maxMessageBytes);
            messageTruncated = true;
        }
        redactionsHere += redact(e.message);

        // Sampling happens before the attribute rebuild: dropped events cost little.
        if (sampler) {
            if (auto rule = sampler->dropRule(e.app, e.level, e.id)) {
                r.outcome = Outcome::Drop;
                r.dropRule = *rule;
                r.level = e.level;
                r.app = e.app;
                return r;
            }
        }
        if (Result<void> a = rebuildAttrs(e, info, origTs); !a) {
            r.outcome = Outcome::Poison;
            r.error = a.error();
            return r;
        }
        r.outcome = Outcome::Produce;
        r.app = e.app;
        r.level = e.level;
        r.redactions = redactionsHere;
        return r;
    }
};

Pipeline::Pipeline(PipelineOptions options, std::shared_ptr<const Redactor> redactor,
                   std::shared_ptr<const Sampler> sampler)
    : d(std::make_unique<Impl>(std::move(options), std::move(redactor), std::move(sampler)))
{}

Pipeline::~Pipeline() = default;

PipelineResult Pipeline::process(std::string_view value, const RecordInfo &info, std::string &out)
{
    LogEvent e;
    PipelineResult r = d->run(value, info, e);
    if (r.outcome == Outcome::Produce)
        appendEncodedEvent(out, e);
    return r;
}

PipelineResult Pipeline::processEvent(std::string_view value, const RecordInfo &info,
                                      LogEvent &event)
{
    return d->run(value, info, event);
}

const PipelineStats &Pipeline::stats() const
{
    return d->stats;
}

const PipelineOptions &Pipeline::options() const
{
    return d->opt;
}

} // namespace idl::processor
