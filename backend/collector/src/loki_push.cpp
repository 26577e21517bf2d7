// The Loki push API (JSON and protobuf) to events. The label mapping is documented in
// docs/ingest.md; the label syntax is Prometheus's, as Loki's own parser reads it.
#include "idl/collector/loki_push.h"

#include "idl/core/hex.h"
#include "idl/core/json_dom.h"
#include "idl/core/json_writer.h"
#include "idl/core/utf8.h"
#include "idl/core/uuid.h"
#include "proto/loki_push.pb.h"

#include <google/protobuf/arena.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>

namespace idl::collector {

namespace {

namespace sj = simdjson;

Error labelError(std::string message, std::size_t at)
{
    return makeError(ErrorCode::BadField,
                     "at byte " + std::to_string(at) + ": " + std::move(message),
                     static_cast<long long>(at));
}

bool isNameStart(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool isNameChar(char c)
{
    return isNameStart(c) || (c >= '0' && c <= '9');
}

bool validLabelName(std::string_view name)
{
    if (name.empty() || !isNameStart(name[0]))
        return false;
    return std::all_of(name.begin() + 1, name.end(), isNameChar);
}

void appendUtf8(std::string &out, std::uint32_t cp)
{
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// A quoted label value starting at text[i] (the quote); i ends after the closing quote.
Result<std::string> readQuoted(std::string_view text, std::size_t &i)
{
    const char quote = text[i];
    const std::size_t start = i;
    ++i;
    std::string out;
    while (true) {
        if (i >= text.size())
            return labelError("unterminated quoted label value", start);
        const char c = text[i];
        if (c == quote) {
            ++i;
            break;
        }
        if (quote == '`' || c != '\\') {
            if (quote != '`' && c == '\n')
                return labelError("newline in a quoted label value", i);
            out.push_back(c);
            ++i;
            continue;
        }
        // an escape in a double-quoted value
        if (i + 1 >= text.size())
            return labelError("unterminated escape sequence", i);
        const char e = text[i + 1];
        const std::size_t escAt = i;
        i += 2;
        switch (e) {
        case 'a':
            out.push_back('\a');
            break;
        case 'b':
            out.push_back('\b');
            break;
        case 'f':
            out.push_back('\f');
            break;
        case 'n':
            out.push_back('\n');
            break;
        case 'r':
            out.push_back('\r');
            break;
        case 't':
            out.push_back('\t');
            break;
        case 'v':
            out.push_back('\v');
            break;
        case '\\':
        case '"':
        case '\'':
            out.push_back(e);
            break;
        case 'x':
        case 'u':
        case 'U': {
            const std::size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            if (i + digits > text.size())
                return labelError("truncated escape sequence", escAt);
            std::uint32_t v = 0;
            for (std::size_t k = 0; k < digits; ++k) {
                const int h = hexDigitValue(text[i + k]);
                if (h < 0)
                    return labelError("invalid hex digit in an escape sequence", i + k);
                v = v * 16 + static_cast<std::uint32_t>(h);
            }
            i += digits;
            if (e == 'x') {
                out.push_back(static_cast<char>(v));
            } else {
                if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
                    return labelError("escape sequence is not a valid Unicode code point", escAt);
                appendUtf8(out, v);
            }
            break;
        }
        default:
            if (e >= '0' && e <= '7') {
                if (escAt + 4 > text.size())
                    return labelError("truncated octal escape", escAt);
                std::uint32_t v = 0;
                for (std::size_t k = 1; k <= 3; ++k) {
                    const char o = text[escAt + k];
                    if (o < '0' || o > '7')
                        return labelError("invalid octal escape", escAt);
                    v = v * 8 + static_cast<std::uint32_t>(o - '0');
                }
                if (v > 255)
                    return labelError("octal escape value over 255", escAt);
                out.push_back(static_cast<char>(v));
                i = escAt + 4;
                break;
            }
            return labelError(std::string("unknown escape sequence \\") + e, escAt);
        }
    }
    if (const auto bad = findInvalidUtf8(out); bad != std::string::npos)
        return labelError("label value is not valid UTF-8", start);
    return out;
}

void skipSpace(std::string_view text, std::size_t &i)
{
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        ++i;
}

// Text of user input for an error message: cut, valid UTF-8.
std::string shown(std::string_view text, std::size_t limit = 256)
{
    if (text.size() > limit)
        return replaceInvalidUtf8(text.substr(0, limit)) + "...";
    return replaceInvalidUtf8(text);
}

// Where the label roles are found, first present wins (docs/ingest.md).
constexpr std::string_view kAppLabels[] = {"service_name", "app", "application", "service", "job"};
constexpr std::string_view kHostLabels[] = {"host", "hostname", "host_name"};
constexpr std::string_view kLevelLabels[] = {"level", "detected_level", "severity", "log_level",
                                             "lvl"};
constexpr std::string_view kTraceKeys[] = {"trace_id", "traceID", "traceid"};
constexpr std::string_view kSpanKeys[] = {"span_id", "spanID", "spanid"};

// What a stream's labels give every entry of it.
struct StreamDefaults
{
    std::string labelsText; // for error messages
    std::string app, host;
    std::optional<Level> level;
    LokiLabels rest; // labels that become attributes
};

StreamDefaults streamDefaults(LokiLabels labels, std::string labelsText)
{
    StreamDefaults s;
    s.labelsText = std::move(labelsText);
    std::vector<bool> used(labels.size(), false);
    auto takeFirst = [&](auto &names, auto &&accept) {
        for (std::string_view name : names)
            for (std::size_t i = 0; i < labels.size(); ++i)
                if (!used[i] && labels[i].first == name && accept(labels[i].second)) {
                    used[i] = true;
                    return;
                }
    };
    takeFirst(kAppLabels, [&](const std::string &v) {
        s.app = v;
        return !v.empty();
    });
    takeFirst(kHostLabels, [&](const std::string &v) {
        s.host = v;
        return !v.empty();
    });
    takeFirst(kLevelLabels, [&](const std::string &v) {
        s.level = parseLevel(v);
        return s.level.has_value();
    });
    for (std::size_t i = 0; i < labels.size(); ++i)
        if (!used[i])
            s.rest.push_back(std::move(labels[i]));
    return s;
}

// Builds events out of streams and entries, with the limits and error messages of Loki.
class Assembler
{
public:
    Assembler(std::int64_t receivedNs, const IngestLimits &eventLimits, const BatchLimits &limits,
              const EventCheck &check)
        : m_receivedNs(receivedNs), m_event(eventLimits), m_limits(limits), m_check(check)
    {}

    LokiBatch out;

    // Counts one more entry; false (TooMany) over the limit.
    Result<void> count(std::size_t entries)
    {
        m_total += entries;
        if (m_total > m_limits.maxEvents)
            return makeError(ErrorCode::TooMany, "more than " + std::to_string(m_limits.maxEvents) +
                                                     " entries in one push request");
        return {};
    }

    // A stream whose labels cannot be used: all its entries are rejected.
    void rejectStream(std::string_view labelsText, std::size_t entries, const Error &why)
    {
        ++out.streams;
        note("stream '" + shown(labelsText) + "': " + why.message);
        for (std::size_t k = 0; k < entries; ++k)
            out.batch.reject(m_index++, why, m_limits.maxErrors);
    }

    void beginStream(StreamDefaults defaults)
    {
        ++out.streams;
        m_stream = std::move(defaults);
    }

    // One entry of the current stream. `metadata` pairs become attributes (they win over
    // labels of the same name).
    template <typename Pairs>
    void entry(Result<std::int64_t> tsNs, std::string_view line, const Pairs &metadata)
    {
        const std::size_t index = m_index++;
        auto reject = [&](Error e) {
            note("stream '" + shown(m_stream.labelsText) + "': entry " + std::to_string(index) +
                 ": " + e.message);
            out.batch.reject(index, std::move(e), m_limits.maxErrors);
        };
        if (!tsNs)
            return reject(tsNs.error());
        if (line.size() > m_event.maxMessageBytes)
            return reject(makeError(ErrorCode::TooLarge,
                                    "Max entry size '" + std::to_string(m_event.maxMessageBytes) +
                                        "' bytes exceeded while adding an entry with length '" +
                                        std::to_string(line.size()) + "' bytes"));
        LogEvent ev;
        assignNewEventId(ev.id);
        ev.tsNs = *tsNs;
        ev.receivedNs = m_receivedNs;
        ev.app = m_stream.app;
        ev.host = m_stream.host;
        ev.level = m_stream.level.value_or(Level::Info);
        ev.message = findInvalidUtf8(line) == std::string_view::npos ? std::string(line)
                                                                     : replaceInvalidUtf8(line);
        std::string attrs = "{";
        std::size_t n = 0;
        std::vector<std::string_view> keys;
        auto add = [&](std::string_view k, std::string_view v) -> std::optional<Error> {
            if (std::find(keys.begin(), keys.end(), k) != keys.end())
                return std::nullopt; // an entry's own metadata wins over the stream's labels
            if (++n > m_event.maxAttributes)
                return makeError(ErrorCode::TooMany, "more than " +
                                                         std::to_string(m_event.maxAttributes) +
                                                         " labels and metadata");
            if (k.size() > m_event.maxFieldBytes || v.size() > m_event.maxFieldBytes)
                return makeError(ErrorCode::TooLarge, "a label or metadata value is over " +
                                                          std::to_string(m_event.maxFieldBytes) +
                                                          " bytes");
            keys.push_back(k);
            if (attrs.size() > 1)
                attrs.push_back(',');
            appendJsonString(attrs, k);
            attrs.push_back(':');
            appendJsonString(attrs, v);
            return std::nullopt;
        };
        bool levelSet = false;
        for (const auto &[k, v] : metadata) {
            const std::string_view key = k, value = v;
            if (ev.traceId.empty() && std::find(std::begin(kTraceKeys), std::end(kTraceKeys),
                                                key) != std::end(kTraceKeys))
                if (auto id = traceIdText(value, 32)) {
                    ev.traceId = std::move(*id);
                    continue;
                }
            if (ev.spanId.empty() &&
                std::find(std::begin(kSpanKeys), std::end(kSpanKeys), key) != std::end(kSpanKeys))
                if (auto id = traceIdText(value, 16)) {
                    ev.spanId = std::move(*id);
                    continue;
                }
            if (!levelSet && std::find(std::begin(kLevelLabels), std::end(kLevelLabels), key) !=
                                 std::end(kLevelLabels))
                if (auto l = parseLevel(value)) {
                    ev.level = *l;
                    levelSet = true;
                    continue;
                }
            if (findInvalidUtf8(key) != std::string_view::npos ||
                findInvalidUtf8(value) != std::string_view::npos)
                return reject(
                    makeError(ErrorCode::InvalidUtf8, "structured metadata is not valid UTF-8"));
            if (auto e = add(key, value))
                return reject(*e);
        }
        for (const auto &[k, v] : m_stream.rest)
            if (auto e = add(k, v))
                return reject(*e);
        attrs.push_back('}');
        ev.attrsJson = std::move(attrs);
        if (ev.message.size() + ev.attrsJson.size() > m_event.maxEventBytes)
            return reject(makeError(ErrorCode::TooLarge, "the entry with its labels is over " +
                                                             std::to_string(m_event.maxEventBytes) +
                                                             " bytes"));
        if (m_check)
            if (auto e = m_check(ev))
                return reject(*e);
        out.batch.events.push_back(std::move(ev));
    }

    LokiBatch finish()
    {
        out.batch.total = m_index;
        return std::move(out);
    }

private:
    void note(std::string line)
    {
        if (out.errors.size() < m_limits.maxErrors)
            out.errors.push_back(std::move(line));
    }

    std::int64_t m_receivedNs;
    const IngestLimits &m_event;
    const BatchLimits &m_limits;
    const EventCheck &m_check;
    StreamDefaults m_stream;
    std::size_t m_index = 0;
    std::size_t m_total = 0;
};

Result<std::int64_t> nsFromText(std::string_view text)
{
    std::int64_t ns = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), ns);
    if (ec != std::errc() || p != text.data() + text.size() || ns < 0)
        return makeError(ErrorCode::BadTimestamp,
                         "timestamp must be Unix nanoseconds as a decimal string, got '" +
                             shown(text, 40) + "'");
    return ns;
}

} // namespace

Result<LokiLabels> parseLokiLabels(std::string_view text)
{
    LokiLabels out;
    std::size_t i = 0;
    skipSpace(text, i);
    if (i >= text.size() || text[i] != '{')
        return labelError("expected '{' at the start of the label set", i);
    ++i;
    while (true) {
        skipSpace(text, i);
        if (i < text.size() && text[i] == '}') {
            ++i;
            break;
        }
        const std::size_t nameAt = i;
        while (i < text.size() && isNameChar(text[i]))
            ++i;
        const std::string_view name = text.substr(nameAt, i - nameAt);
        if (name.empty() || !isNameStart(name[0]))
            return labelError("expected a label name", nameAt);
        skipSpace(text, i);
        if (i >= text.size() || text[i] != '=')
            return labelError("expected '=' after label name '" + std::string(name) + "'", i);
        if (i + 1 < text.size() && (text[i + 1] == '~' || text[i + 1] == '='))
            return labelError("only '=' may join a label name and value", i);
        ++i;
        skipSpace(text, i);
        if (i >= text.size() || (text[i] != '"' && text[i] != '`'))
            return labelError("expected a quoted value for label '" + std::string(name) + "'", i);
        auto value = readQuoted(text, i);
        if (!value)
            return value.error();
        for (const auto &[n, v] : out)
            if (n == name)
                return labelError("duplicate label name '" + std::string(name) + "'", nameAt);
        out.emplace_back(std::string(name), std::move(*value));
        skipSpace(text, i);
        if (i < text.size() && text[i] == ',') {
            ++i;
            continue;
        }
        skipSpace(text, i);
        if (i < text.size() && text[i] == '}') {
            ++i;
            break;
        }
        return labelError("expected ',' or '}' after a label", i);
    }
    skipSpace(text, i);
    if (i != text.size())
        return labelError("unexpected text after the label set", i);
    if (out.empty())
        return makeError(ErrorCode::BadField, "at least one label pair is required per stream");
    return out;
}

Result<LokiBatch> decodeLokiJson(std::string_view body, std::int64_t receivedNs,
                                 const IngestLimits &eventLimits, const BatchLimits &limits,
                                 const EventCheck &check)
{
    thread_local sj::dom::parser parser;
    sj::dom::element root;
    if (auto code = parser.parse(body.data(), body.size(), true).get(root); code != sj::SUCCESS)
        return jsonParseError(code, body, 64);
    sj::dom::array streams;
    if (root["streams"].get_array().get(streams) != sj::SUCCESS)
        return makeError(ErrorCode::BadJson,
                         "the body must be a JSON object with a \"streams\" array");
    Assembler as(receivedNs, eventLimits, limits, check);
    for (sj::dom::element s : streams) {
        sj::dom::array values;
        const bool haveValues = s["values"].get_array().get(values) == sj::SUCCESS;
        if (auto r = as.count(haveValues ? values.size() : 0); !r)
            return r.error();
    }
    std::vector<std::pair<std::string_view, std::string_view>> metadata;
    for (sj::dom::element s : streams) {
        sj::dom::array values;
        const bool haveValues = s["values"].get_array().get(values) == sj::SUCCESS;
        const std::size_t entries = haveValues ? values.size() : 0;
        sj::dom::object labelsObj;
        std::string labelsText;
        {
            sj::dom::element labels;
            if (s["stream"].get(labels) == sj::SUCCESS)
                labelsText = sj::minify(labels);
        }
        if (s.type() != sj::dom::element_type::OBJECT) {
            as.rejectStream("(not an object)", entries,
                            makeError(ErrorCode::BadField, "a stream must be a JSON object"));
            continue;
        }
        if (!haveValues) {
            sj::dom::element v;
            if (s["values"].get(v) == sj::SUCCESS)
                as.rejectStream(labelsText, 0,
                                makeError(ErrorCode::BadField, "\"values\" must be an array"));
            continue;
        }
        if (s["stream"].get_object().get(labelsObj) != sj::SUCCESS) {
            as.rejectStream(labelsText, entries,
                            makeError(ErrorCode::BadField,
                                      "\"stream\" must be an object of label names to strings"));
            continue;
        }
        LokiLabels labels;
        std::optional<Error> bad;
        for (auto field : labelsObj) {
            std::string_view v;
            if (!validLabelName(field.key))
                bad = makeError(ErrorCode::BadField,
                                "invalid label name '" + shown(field.key, 64) + "'");
            else if (field.value.get_string().get(v) != sj::SUCCESS)
                bad = makeError(ErrorCode::BadField,
                                "label '" + std::string(field.key) + "' must be a string");
            else if (std::any_of(labels.begin(), labels.end(),
                                 [&](const auto &l) { return l.first == field.key; }))
                bad = makeError(ErrorCode::BadField,
                                "duplicate label name '" + std::string(field.key) + "'");
            if (bad)
                break;
            labels.emplace_back(std::string(field.key), std::string(v));
        }
        if (!bad && labels.empty())
            bad = makeError(ErrorCode::BadField, "at least one label pair is required per stream");
        if (bad) {
            as.rejectStream(labelsText, entries, *bad);
            continue;
        }
        as.beginStream(streamDefaults(std::move(labels), labelsText));
        for (sj::dom::element value : values) {
            sj::dom::array tuple;
            std::string_view tsText, line;
            metadata.clear();
            if (value.get_array().get(tuple) != sj::SUCCESS || tuple.size() < 2 ||
                tuple.size() > 3) {
                as.entry(
                    makeError(ErrorCode::BadField,
                              "an entry must be [\"<unix ns>\", \"<line>\"] or [\"<unix ns>\", "
                              "\"<line>\", {structured metadata}]"),
                    {}, metadata);
                continue;
            }
            Result<std::int64_t> ts = std::int64_t{0};
            std::int64_t tsNumber = 0;
            if (tuple.at(0).get_string().get(tsText) == sj::SUCCESS)
                ts = nsFromText(tsText);
            else if (tuple.at(0).get_int64().get(tsNumber) == sj::SUCCESS && tsNumber >= 0)
                ts = tsNumber;
            else
                ts = makeError(ErrorCode::BadTimestamp,
                               "timestamp must be Unix nanoseconds as a decimal string");
            if (tuple.at(1).get_string().get(line) != sj::SUCCESS) {
                as.entry(makeError(ErrorCode::BadField, "the log line must be a string"), {},
                         metadata);
                continue;
            }
            if (tuple.size() == 3) {
                sj::dom::object meta;
                bool ok = tuple.at(2).get_object().get(meta) == sj::SUCCESS;
                if (ok)
                    for (auto field : meta) {
                        std::string_view v;
                        if (field.value.get_string().get(v) != sj::SUCCESS) {
                            ok = false;
                            break;
                        }
                        metadata.emplace_back(field.key, v);
                    }
                if (!ok) {
                    metadata.clear();
                    as.entry(makeError(ErrorCode::BadField,
                                       "structured metadata must be an object of strings"),
                             {}, metadata);
                    continue;
                }
            }
            as.entry(std::move(ts), line, metadata);
        }
    }
    return as.finish();
}

Result<LokiBatch> decodeLokiProtobuf(std::string_view body, std::int64_t receivedNs,
                                     const IngestLimits &eventLimits, const BatchLimits &limits,
                                     const EventCheck &check)
{
    if (body.size() > static_cast<std::size_t>(INT32_MAX))
        return makeError(ErrorCode::TooLarge, "the push request is too large");
    google::protobuf::Arena arena;
    auto *req = google::protobuf::Arena::CreateMessage<logproto::PushRequest>(&arena);
    if (!req->ParseFromArray(body.data(), static_cast<int>(body.size())))
        return makeError(ErrorCode::BadRequest,
                         "the body is not a logproto.PushRequest (protobuf, snappy-compressed)");
    Assembler as(receivedNs, eventLimits, limits, check);
    for (const auto &s : req->streams())
        if (auto r = as.count(static_cast<std::size_t>(s.entries_size())); !r)
            return r.error();
    std::vector<std::pair<std::string_view, std::string_view>> metadata;
    for (const auto &s : req->streams()) {
        auto labels = parseLokiLabels(s.labels());
        if (!labels) {
            as.rejectStream(
                s.labels(), static_cast<std::size_t>(s.entries_size()),
                makeError(ErrorCode::BadField, "invalid labels: " + labels.error().message));
            continue;
        }
        as.beginStream(streamDefaults(std::move(*labels), s.labels()));
        for (const auto &e : s.entries()) {
            metadata.clear();
            for (const auto &m : e.structuredmetadata())
                metadata.emplace_back(m.name(), m.value());
            Result<std::int64_t> ts = std::int64_t{0};
            const auto &t = e.timestamp();
            constexpr std::int64_t kMaxSeconds = INT64_MAX / 1'000'000'000 - 1;
            if (t.seconds() < 0 || t.seconds() > kMaxSeconds || t.nanos() < 0 ||
                t.nanos() > 999'999'999)
                ts = makeError(ErrorCode::BadTimestamp, "timestamp out of range");
            else
                ts = t.seconds() * 1'000'000'000 + t.nanos();
            as.entry(std::move(ts), e.line(), metadata);
        }
    }
    return as.finish();
}

std::string lokiErrorText(const LokiBatch &batch)
{
    std::string out;
    for (const auto &line : batch.errors) {
        out += line;
        out += '\n';
    }
    if (batch.batch.rejected > batch.errors.size())
        out += "(" + std::to_string(batch.batch.rejected - batch.errors.size()) +
               " more entries rejected)\n";
    return out;
}

} // namespace idl::collector
