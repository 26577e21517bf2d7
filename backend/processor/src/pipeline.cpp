#include "idl/processor/pipeline.h"

#include "idl/core/json_codec.h"
#include "idl/core/json_dom.h"
#include "idl/core/json_writer.h"
#include "idl/core/uuid.h"

#include <simdjson.h>

#include <algorithm>
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

// The longest prefix of `s` of at most `limit` bytes that does not split a UTF-8 sequence.
std::string_view utf8Prefix(std::string_view s, std::size_t limit)
{
    if (s.size() <= limit)
        return s;
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
        --cut;
    return s.substr(0, cut);
}

// Cuts `s` to at most `limit` bytes without splitting a UTF-8 sequence.
void truncateUtf8(std::string &s, std::size_t limit)
{
    s.resize(utf8Prefix(s, limit).size());
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

// `id` lower-cased into `buffer` when it has upper-case hex digits (the view otherwise).
std::string_view normalizeHexId(std::string_view id, std::string &buffer)
{
    if (std::none_of(id.begin(), id.end(), [](char c) { return c >= 'A' && c <= 'F'; }))
        return id;
    buffer.assign(id);
    for (char &c : buffer)
        if (c >= 'A' && c <= 'F')
            c = static_cast<char>(c - 'A' + 'a');
    return buffer;
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
    // The event being processed (views into the decoder's parser, `native`, the buffers
    // below or the options) and what its fields are copied into when a rule rewrites them.
    using EventFields = CanonicalEventView;
    EventFields fields;
    LogEvent native; // the native ingestion format's decode (reused)
    std::string messageBuffer;
    std::string traceIdBuffer;
    std::string spanIdBuffer;
    std::string generatedId;
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
        const std::uint64_t n = redactor->redactText(text, redactCounts, &stats.redactionFailures);
        if (n > 0) {
            for (std::size_t i = 0; i < redactCounts.size(); ++i) {
                stats.redactedByRule[i] += redactCounts[i];
                redactCounts[i] = 0;
            }
        }
        return n;
    }

    // Writes a string attribute value: redacted (first, so that a cut cannot hide a secret
    // from its rule), then truncated to the value limit.
    void writeString(std::string &out, std::string_view text, bool redactIt = true,
                     bool truncate = true)
    {
        if (!redactIt || !redactor || !redactor->anyTextMatch(text)) {
            // Nothing to redact (anyTextMatch is true when the matcher fails, so a failure
            // still takes the redacting path below and fails closed): no copy.
            if (truncate && text.size() > opt.maxValueBytes) {
                text = utf8Prefix(text, opt.maxValueBytes);
                ++truncatedHere;
            }
            appendJsonString(out, text);
            return;
        }
        scratch.assign(text);
        if (redactIt)
            redactionsHere += redact(scratch);
        if (truncate && scratch.size() > opt.maxValueBytes) {
            truncateUtf8(scratch, opt.maxValueBytes);
            ++truncatedHere;
        }
        appendJsonString(out, scratch);
    }

    // The value of a member whose key matches key rule `keyRule`.
    void writeKeyRedacted(std::string &out, int keyRule)
    {
        appendJsonString(out, redactor->rule(static_cast<std::size_t>(keyRule)).replacement);
        ++stats.redactedByRule[static_cast<std::size_t>(keyRule)];
        ++redactionsHere;
    }

    int keyRuleOf(std::string_view key) const
    {
        return redactor && redactor->hasKeyRules() ? redactor->matchKey(key) : -1;
    }

    // Numbers, booleans and null as JSON.
    static void writeScalar(std::string &out, simdjson::dom::element v)
    {
        using simdjson::dom::element_type;
        switch (v.type()) {
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
        default:
            out.append("null");
            return;
        }
    }

    // Writes any JSON value minified with every rule applied at any depth: key rules replace
    // the (non-null) value of every member whose key matches, text rules run on every string.
    // No limits: used for values kept as JSON text (too deep attributes, structured bodies)
    // and for the copies written to the retry and dead-letter topics.
    void writeRedacted(std::string &out, simdjson::dom::element v) { writeValue(out, v, 1, false); }

    // Writes one attribute value at nesting `depth` (1 = a top-level attribute's value).
    // `limited`: the attribute limits apply (depth, key count, value size); without, only the
    // redaction rules (writeRedacted).
    void writeValue(std::string &out, simdjson::dom::element v, std::size_t depth,
                    bool limited = true)
    {
        using simdjson::dom::element_type;
        switch (v.type()) {
        case element_type::OBJECT:
        case element_type::ARRAY:
            if (limited && depth >= opt.maxAttrDepth) {
                // Too deep to keep as structure: kept as its JSON text, redacted at every
                // depth (key rules included) before it becomes a string.
                ++stats.attrsFlattened;
                std::string flat;
                writeRedacted(flat, v);
                writeString(out, flat, false);
                return;
            }
            if (v.type() == element_type::OBJECT) {
                simdjson::dom::object object;
                if (v.get_object().get(object))
                    return;
                writeObject(out, object, depth + 1, false, limited);
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
                    writeValue(out, item, depth + 1, limited);
                }
                out.push_back(']');
            }
            return;
        case element_type::STRING:
            writeString(out, v.get_string().value_unsafe(), true, limited);
            return;
        default:
            writeScalar(out, v);
            return;
        }
    }

    // Writes an object's members (without braces when top-level: the caller adds extras).
    void writeObject(std::string &out, simdjson::dom::object object, std::size_t depth,
                     bool topLevel, bool limited = true)
    {
        if (!topLevel)
            out.push_back('{');
        bool first = true; // top level: written right after the opening brace
        for (const simdjson::dom::key_value_pair field : object) {
            if (topLevel && isReserved(field.key)) {
                ++keysDropped; // the processor's own attribute wins; counted
                continue;
            }
            if (limited && keysSeen >= opt.maxAttrKeys) {
                ++keysDropped;
                continue;
            }
            if (limited)
                ++keysSeen;
            if (!first)
                out.push_back(',');
            first = false;
            appendJsonString(out, field.key);
            out.push_back(':');
            const int keyRule = keyRuleOf(field.key);
            if (keyRule >= 0 && field.value.type() != simdjson::dom::element_type::NULL_VALUE) {
                writeKeyRedacted(out, keyRule);
                continue;
            }
            writeValue(out, field.value, depth, limited);
        }
        if (!topLevel)
            out.push_back('}');
    }

    // A structured body (the message is a JSON object or array: a native object/array body,
    // an OTLP kvlist/array body) is redacted like attributes, at any depth; it is rewritten
    // (minified) only when something was redacted. Any other message: the text rules. Returns
    // the message to write: `message` itself when nothing changed, else messageBuffer.
    std::string_view redactMessage(std::string_view message)
    {
        if (!redactor)
            return message;
        const std::size_t start = message.find_first_not_of(" \t\r\n");
        if (start != std::string_view::npos && (message[start] == '{' || message[start] == '[')) {
            simdjson::dom::element root;
            if (!attrParser.parse(message.data(), message.size()).get(root)) {
                const std::uint64_t before = redactionsHere;
                messageBuffer.clear();
                writeRedacted(messageBuffer, root);
                return redactionsHere != before ? std::string_view(messageBuffer) : message;
            }
        }
        // anyTextMatch is true when the matcher fails: the text is then redacted (fail closed).
        if (!redactor->anyTextMatch(message))
            return message;
        messageBuffer.assign(message);
        redactionsHere += redact(messageBuffer);
        return messageBuffer;
    }

    // Key rules over text that is not valid JSON (a dead letter's bad_json value): the value
    // after every `"key":` whose key matches is replaced (a string to its closing quote, an
    // object or array to its closing bracket or the end, anything else to , } ] or a space).
    void redactKeysLexically(std::string &text)
    {
        if (!redactor || !redactor->hasKeyRules())
            return;
        const auto stringEnd = [&text](std::size_t from) { // from: after the opening quote
            for (std::size_t j = from; j < text.size(); ++j) {
                if (text[j] == '\\')
                    ++j;
                else if (text[j] == '"')
                    return j + 1;
            }
            return text.size();
        };
        const auto skipSpace = [&text](std::size_t j) {
            while (j < text.size() &&
                   (text[j] == ' ' || text[j] == '\t' || text[j] == '\r' || text[j] == '\n'))
                ++j;
            return j;
        };
        std::string out;
        std::size_t copied = 0;
        std::size_t i = 0;
        while ((i = text.find('"', i)) != std::string::npos) {
            const std::size_t keyEnd = stringEnd(i + 1);
            std::size_t j = skipSpace(keyEnd);
            if (j >= text.size() || text[j] != ':') {
                i = keyEnd;
                continue;
            }
            const int keyRule = keyRuleOf(std::string_view(text).substr(i + 1, keyEnd - i - 2));
            j = skipSpace(j + 1);
            i = j;
            if (keyRule < 0 || j >= text.size())
                continue;
            std::size_t end = j;
            if (text[j] == '"') {
                end = stringEnd(j + 1);
            } else if (text[j] == '{' || text[j] == '[') {
                int depth = 0;
                for (end = j; end < text.size(); ++end) {
                    if (text[end] == '"') {
                        end = stringEnd(end + 1) - 1;
                    } else if (text[end] == '{' || text[end] == '[') {
                        ++depth;
                    } else if ((text[end] == '}' || text[end] == ']') && --depth == 0) {
                        ++end;
                        break;
                    }
                }
                end = std::min(end, text.size());
            } else {
                while (end < text.size() &&
                       std::string_view(",}] \t\r\n").find(text[end]) == std::string_view::npos)
                    ++end;
                if (std::string_view(text).substr(j, end - j) == "null")
                    continue;
            }
            out.append(text, copied, j - copied);
            writeKeyRedacted(out, keyRule);
            copied = end;
            i = end;
        }
        if (copied > 0) {
            out.append(text, copied, std::string::npos);
            text.swap(out);
        }
    }

    PayloadForm redactPayload(std::string_view value, std::string &out)
    {
        if (!redactor)
            return PayloadForm::Original;
        // Not the event's redactions: the per-rule counts are put back afterwards.
        const std::vector<std::uint64_t> countsBefore = stats.redactedByRule;
        const std::uint64_t failuresBefore = stats.redactionFailures;
        redactionsHere = 0;
        out.clear();
        PayloadForm form = PayloadForm::Original;
        simdjson::dom::element root;
        if (!attrParser.parse(value.data(), value.size()).get(root)) {
            writeRedacted(out, root);
            if (redactionsHere > 0)
                form = PayloadForm::Redacted;
        } else {
            out.assign(value);
            redactKeysLexically(out);
            redactionsHere += redact(out);
            if (stats.redactionFailures != failuresBefore)
                form = PayloadForm::Withheld; // the whole text is kRedactionFailed
            else if (redactionsHere > 0)
                form = PayloadForm::Redacted;
        }
        stats.redactedByRule = countsBefore;
        redactionsHere = 0;
        return form;
    }

    // Writes the attributes with limits, redaction and enrichment to `out`. `attrs` is the
    // event's attribute object (nullptr: none). Clears e.traceId / e.spanId when they
    // are not valid hex (they are kept as attributes instead).
    void writeAttrs(std::string &out, const simdjson::dom::element *attrs, EventFields &e,
                    const RecordInfo &info, std::int64_t origTs)
    {
        keysSeen = 0;
        keysDropped = 0;
        truncatedHere = messageTruncated ? 1 : 0; // the message counts as a truncated value
        const std::size_t open = out.size();
        out.push_back('{');
        if (simdjson::dom::object object; attrs && !attrs->get_object().get(object))
            writeObject(out, object, 1, true);
        auto addExtra = [&](std::string_view key, auto &&writeVal) {
            if (out.size() > open + 1)
                out.push_back(',');
            appendJsonString(out, key);
            out.push_back(':');
            writeVal();
        };
        if (info.collector)
            addExtra(kAttrCollector, [&] { appendJsonString(out, *info.collector); });
        if (info.keyId)
            addExtra(kAttrKeyId, [&] { appendJsonString(out, *info.keyId); });
        if (origTs != 0)
            addExtra(kAttrOrigTs, [&] { appendJsonInt(out, origTs); });
        if (keysDropped > 0) {
            stats.attrsDropped += keysDropped;
            addExtra(kAttrDroppedAttrs, [&] { appendJsonUInt(out, keysDropped); });
        }
        if (!e.traceId.empty() && !isLowerHex(e.traceId, 32)) {
            ++stats.badTraceIds;
            addExtra(kAttrBadTraceId, [&] { appendJsonString(out, e.traceId); });
            e.traceId = {};
        }
        if (!e.spanId.empty() && !isLowerHex(e.spanId, 16)) {
            ++stats.badTraceIds;
            addExtra(kAttrBadSpanId, [&] { appendJsonString(out, e.spanId); });
            e.spanId = {};
        }
        if (truncatedHere > 0) {
            stats.valuesTruncated += truncatedHere - (messageTruncated ? 1 : 0);
            addExtra(kAttrTruncated, [&] { appendJsonUInt(out, truncatedHere); });
        }
        out.push_back('}');
    }

    // Test-only transient failure rule: "<marker><N>" in the message fails N attempts.
    bool injectedTransient(std::string_view message, int attempt) const
    {
        if (opt.transientMarker.empty())
            return false;
        const std::size_t at = message.find(opt.transientMarker);
        if (at == std::string_view::npos)
            return false;
        const char *p = message.data() + at + opt.transientMarker.size();
        const char *end = message.data() + message.size();
        int n = 0;
        const auto [q, ec] = std::from_chars(p, end, n);
        if (ec != std::errc() || q == p)
            return false;
        return attempt < n;
    }

    static PipelineResult poison(Error error)
    {
        PipelineResult r;
        r.outcome = Outcome::Poison;
        r.error = std::move(error);
        return r;
    }

    // One pass: the record is parsed once, its fields stay views into the parser's buffers
    // (copied only where a rule rewrites them: a redacted message, upper-case hex ids), and
    // the normalized event is written straight into `out` in the canonical v1 encoding. On
    // any outcome but Produce, `out` is left as it was.
    PipelineResult run(std::string_view value, const RecordInfo &info, std::string &out)
    {
        redactionsHere = 0;
        messageTruncated = false;
        if (value.size() > opt.maxEventBytes)
            return poison(makeError(ErrorCode::TooLarge, "event of " +
                                                             std::to_string(value.size()) +
                                                             " bytes is over the limit of " +
                                                             std::to_string(opt.maxEventBytes)));
        std::int64_t fallbackRt = info.nowNs;
        if (info.recordTimestampMs > 0)
            fallbackRt = info.recordTimestampMs * 1'000'000;
        EventFields &e = fields;
        simdjson::dom::element attrsElement;
        const simdjson::dom::element *attrs = nullptr; // none
        const bool canonical = value.starts_with("{\"v\":");
        if (canonical) {
            if (Result<void> d = decoder.decodeEventView(value, e); !d)
                return poison(d.error());
        } else {
            if (Result<void> d = decoder.decodeIncoming(value, fallbackRt, native); !d)
                return poison(d.error());
            ++stats.nativeFormat;
            e = EventFields{};
            e.id = native.id;
            e.tsNs = native.tsNs;
            e.receivedNs = native.receivedNs;
            e.level = native.level;
            e.app = native.app;
            e.host = native.host;
            e.message = native.message;
            e.traceId = native.traceId;
            e.spanId = native.spanId;
        }
        if (canonical)
            attrs = &e.attrs;

        if (injectedTransient(e.message, info.attempt)) {
            PipelineResult r;
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
            e.app = info.key && !info.key->empty() ? *info.key : std::string_view(opt.defaultApp);
        }
        if (e.host.empty()) {
            ++stats.defaultedHost;
            e.host = opt.defaultHost;
        }
        if (e.id.empty()) {
            generatedId = newEventId();
            e.id = generatedId;
        }
        e.traceId = normalizeHexId(e.traceId, traceIdBuffer);
        e.spanId = normalizeHexId(e.spanId, spanIdBuffer);
        e.message = redactMessage(e.message); // before the cut: a cut body is no longer JSON
        if (e.message.size() > opt.maxMessageBytes) {
            ++stats.messagesTruncated;
            e.message = utf8Prefix(e.message, opt.maxMessageBytes);
            messageTruncated = true;
        }

        // Sampling happens before the attributes are written: dropped events cost little.
        if (sampler) {
            if (auto rule = sampler->dropRule(e.app, e.level, e.id)) {
                PipelineResult r;
                r.outcome = Outcome::Drop;
                r.dropRule = *rule;
                r.level = e.level;
                r.app.assign(e.app);
                return r;
            }
        }
        if (!canonical && !native.attrsJson.empty() && native.attrsJson != "{}") {
            // The native decoder hands its attributes over as JSON text (parsed after the
            // message: redactMessage uses the same parser).
            if (auto err = attrParser.parse(native.attrsJson).get(attrsElement); err)
                return poison(makeError(ErrorCode::BadJson,
                                        std::string("attrs: ") + simdjson::error_message(err)));
            if (attrsElement.type() != simdjson::dom::element_type::OBJECT)
                return poison(makeError(ErrorCode::BadField, "attrs must be an object"));
            attrs = &attrsElement;
        }

        // The canonical v1 encoding (idl/core/event_encoding.h), attributes written in place.
        out.reserve(out.size() + 200 + value.size());
        appendEncodedEventHead(out, e.id, e.tsNs, e.receivedNs, e.level, e.app, e.host, e.message);
        writeAttrs(out, attrs, e, info, origTs);
        appendEncodedEventTail(out, e.traceId, e.spanId);

        PipelineResult r;
        r.outcome = Outcome::Produce;
        r.app.assign(e.app);
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
    return d->run(value, info, out);
}

PipelineResult Pipeline::processEvent(std::string_view value, const RecordInfo &info,
                                      LogEvent &event)
{
    std::string encoded;
    PipelineResult r = d->run(value, info, encoded);
    if (r.outcome == Outcome::Produce) {
        Result<LogEvent> decoded = decodeEvent(encoded);
        if (!decoded) { // the pipeline wrote something its own reader refuses: a bug
            r.outcome = Outcome::Poison;
            r.error = std::move(decoded).error();
        } else {
            event = std::move(decoded).value();
        }
    }
    return r;
}

PayloadForm Pipeline::redactPayload(std::string_view value, std::string &out)
{
    return d->redactPayload(value, out);
}

std::string Pipeline::redactText(std::string text)
{
    const std::vector<std::uint64_t> countsBefore = d->stats.redactedByRule;
    d->redact(text);
    d->stats.redactedByRule = countsBefore;
    return text;
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
