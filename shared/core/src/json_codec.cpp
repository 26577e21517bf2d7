#include "idl/core/json_codec.h"

#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"
#include "idl/core/uuid.h"

#include <simdjson.h>

#include <algorithm>
#include <unordered_set>
#include <vector>

namespace idl {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// The role a top-level key plays in the native ingestion format.
enum class Role { Extra, Time, Level, App, Host, Message, Attrs, TraceId, SpanId, Id };

struct RoleKey
{
    std::string_view key;
    Role role;
};

constexpr RoleKey kRoleKeys[] = {
    {"ts", Role::Time},          {"timestamp", Role::Time},   {"time", Role::Time},
    {"@timestamp", Role::Time},  {"level", Role::Level},      {"severity", Role::Level},
    {"lvl", Role::Level},        {"loglevel", Role::Level},   {"app", Role::App},
    {"service", Role::App},      {"service.name", Role::App}, {"application", Role::App},
    {"host", Role::Host},        {"hostname", Role::Host},    {"message", Role::Message},
    {"msg", Role::Message},      {"body", Role::Message},     {"attrs", Role::Attrs},
    {"attributes", Role::Attrs}, {"trace_id", Role::TraceId}, {"traceId", Role::TraceId},
    {"span_id", Role::SpanId},   {"spanId", Role::SpanId},    {"id", Role::Id},
};
constexpr std::size_t kRoleCount = static_cast<std::size_t>(Role::Id) + 1;

Role roleOf(std::string_view key) noexcept
{
    for (const RoleKey &entry : kRoleKeys) {
        if (entry.key == key)
            return entry.role;
    }
    return Role::Extra;
}

// The value of an access whose type was checked before (a default value otherwise).
template <typename T> T take(simdjson::simdjson_result<T> &&result) noexcept
{
    T value{};
    if (std::move(result).get(value) != simdjson::SUCCESS)
        return T{};
    return value;
}

const char *typeName(element_type type) noexcept
{
    switch (type) {
    case element_type::ARRAY:
        return "an array";
    case element_type::OBJECT:
        return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
        return "a number";
    case element_type::STRING:
        return "a string";
    case element_type::BOOL:
        return "a boolean";
    case element_type::NULL_VALUE:
        return "null";
    }
    return "a value";
}

// User text quoted for an error message: at most `limit` bytes, cut on a UTF-8 boundary.
std::string quoted(std::string_view text, std::size_t limit = 64)
{
    std::string out = "'";
    if (text.size() <= limit) {
        out.append(text);
    } else {
        std::size_t cut = limit;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
            --cut;
        out.append(text.substr(0, cut));
        out.append("...");
    }
    out.push_back('\'');
    return out;
}

std::string sizeMessage(std::string_view what, std::size_t size, std::size_t limit)
{
    return std::string(what) + " is " + std::to_string(size) + " bytes; the limit is " +
           std::to_string(limit);
}

// Writes `value` as minified JSON. Fails with TooDeep when a container is nested deeper
// than maxDepth (depth = nesting level of `value` itself).
Result<void> writeMinified(std::string &out, element value, std::size_t depth, std::size_t maxDepth)
{
    switch (value.type()) {
    case element_type::OBJECT: {
        if (depth > maxDepth)
            break;
        simdjson::dom::object object;
        if (value.get_object().get(object))
            return makeError(ErrorCode::Internal, "object access failed");
        out.push_back('{');
        bool first = true;
        for (const simdjson::dom::key_value_pair field : object) {
            if (!first)
                out.push_back(',');
            first = false;
            appendJsonString(out, field.key);
            out.push_back(':');
            if (Result<void> r = writeMinified(out, field.value, depth + 1, maxDepth); !r)
                return r;
        }
        out.push_back('}');
        return {};
    }
    case element_type::ARRAY: {
        if (depth > maxDepth)
            break;
        simdjson::dom::array array;
        if (value.get_array().get(array))
            return makeError(ErrorCode::Internal, "array access failed");
        out.push_back('[');
        bool first = true;
        for (const element item : array) {
            if (!first)
                out.push_back(',');
            first = false;
            if (Result<void> r = writeMinified(out, item, depth + 1, maxDepth); !r)
                return r;
        }
        out.push_back(']');
        return {};
    }
    case element_type::STRING: {
        std::string_view text;
        if (value.get_string().get(text))
            return makeError(ErrorCode::Internal, "string access failed");
        appendJsonString(out, text);
        return {};
    }
    case element_type::INT64: {
        std::int64_t number = 0;
        if (value.get_int64().get(number))
            return makeError(ErrorCode::Internal, "number access failed");
        appendJsonInt(out, number);
        return {};
    }
    case element_type::UINT64: {
        std::uint64_t number = 0;
        if (value.get_uint64().get(number))
            return makeError(ErrorCode::Internal, "number access failed");
        appendJsonUInt(out, number);
        return {};
    }
    case element_type::DOUBLE: {
        double number = 0;
        if (value.get_double().get(number))
            return makeError(ErrorCode::Internal, "number access failed");
        appendJsonDouble(out, number);
        return {};
    }
    case element_type::BOOL: {
        bool flag = false;
        if (value.get_bool().get(flag))
            return makeError(ErrorCode::Internal, "boolean access failed");
        out.append(flag ? "true" : "false");
        return {};
    }
    case element_type::NULL_VALUE:
        out.append("null");
        return {};
    }
    return makeError(ErrorCode::TooDeep,
                     "JSON nesting is deeper than " + std::to_string(maxDepth) + " levels");
}

// Maps a simdjson parse failure to a stable error.
Error parseError(simdjson::error_code code, std::string_view json, std::size_t maxDepth)
{
    switch (code) {
    case simdjson::UTF8_ERROR: {
        const std::size_t at = findInvalidUtf8(json);
        const long long position = at == std::string_view::npos ? -1 : static_cast<long long>(at);
        return makeError(ErrorCode::InvalidUtf8,
                         position >= 0 ? "invalid UTF-8 at byte " + std::to_string(position)
                                       : std::string("invalid UTF-8"),
                         position);
    }
    case simdjson::DEPTH_ERROR:
        return makeError(ErrorCode::TooDeep,
                         "JSON nesting is deeper than " + std::to_string(maxDepth) + " levels");
    case simdjson::NUMBER_ERROR:
        return makeError(ErrorCode::BadNumber,
                         "a number is malformed or cannot be represented (integers are limited "
                         "to 64 bits, doubles to about 1.8e308)");
    case simdjson::EMPTY:
        return makeError(ErrorCode::BadJson, "empty input: expected a JSON object", 0);
    case simdjson::CAPACITY:
        return makeError(ErrorCode::TooLarge, "JSON document is too large");
    case simdjson::MEMALLOC:
        return makeError(ErrorCode::Internal, "out of memory while parsing JSON");
    case simdjson::STRING_ERROR:
        return makeError(ErrorCode::BadJson, "malformed JSON: invalid escape sequence in a string");
    case simdjson::UNESCAPED_CHARS:
        return makeError(ErrorCode::BadJson,
                         "malformed JSON: unescaped control character in a string");
    case simdjson::UNCLOSED_STRING:
        return makeError(ErrorCode::BadJson, "malformed JSON: unterminated string");
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
        return makeError(ErrorCode::BadJson,
                         "malformed JSON: invalid literal (expected true, false or null)");
    default:
        return makeError(ErrorCode::BadJson,
                         std::string("malformed JSON: ") + simdjson::error_message(code));
    }
}

// Validates a hex trace/span id of `length` digits; lower-cases it into `out`. An all-zero
// id (W3C "invalid") yields "".
Result<void> readHexId(std::string_view key, element value, std::size_t length, std::string &out)
{
    std::string_view text;
    if (value.get_string().get(text))
        return makeError(ErrorCode::BadField,
                         "field '" + std::string(key) + "' must be a string of " +
                             std::to_string(length) + " hex digits, got " + typeName(value.type()));
    if (text.empty())
        return {};
    bool allZero = true;
    bool valid = text.size() == length;
    for (std::size_t i = 0; valid && i < text.size(); ++i) {
        const char c = text[i];
        valid = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        allZero = allZero && c == '0';
    }
    if (!valid)
        return makeError(ErrorCode::BadField, "field '" + std::string(key) + "' must be " +
                                                  std::to_string(length) + " hex digits, got " +
                                                  quoted(text));
    if (allZero)
        return {};
    out.assign(text);
    for (char &c : out) {
        if (c >= 'A' && c <= 'F')
            c = static_cast<char>(c - 'A' + 'a');
    }
    return {};
}

Result<std::int64_t> readTimestamp(std::string_view key, element value)
{
    Result<std::int64_t> ns = std::int64_t{0};
    switch (value.type()) {
    case element_type::STRING: {
        const auto text = take(value.get_string());
        const bool numeric =
            !text.empty() &&
            text.find_first_not_of("0123456789.", text[0] == '-' ? 1 : 0) == std::string_view::npos;
        ns = numeric ? epochTextToNs(text) : parseRfc3339(text);
        break;
    }
    case element_type::INT64: {
        const auto number = take(value.get_int64());
        ns = epochToNs(number);
        break;
    }
    case element_type::UINT64:
        ns = makeError(ErrorCode::BadTimestamp,
                       "epoch time out of range: it is after 2262-04-11T23:47:16.854775807Z");
        break;
    case element_type::DOUBLE: {
        const auto number = take(value.get_double());
        ns = epochToNs(static_cast<long double>(number));
        break;
    }
    default:
        return makeError(ErrorCode::BadTimestamp,
                         "field '" + std::string(key) +
                             "' must be an RFC 3339 string or an epoch number, got " +
                             typeName(value.type()));
    }
    if (!ns.ok()) {
        Error error = std::move(ns).error();
        error.message = "field '" + std::string(key) + "': " + error.message;
        error.position = -1;
        return error;
    }
    return ns;
}

Result<Level> readLevel(std::string_view key, element value)
{
    std::optional<Level> level;
    switch (value.type()) {
    case element_type::STRING: {
        const auto text = take(value.get_string());
        level = parseLevel(text);
        if (!level)
            return makeError(ErrorCode::BadLevel,
                             "field '" + std::string(key) + "': unknown level " + quoted(text, 32));
        return *level;
    }
    case element_type::INT64: {
        const auto number = take(value.get_int64());
        level = levelFromSyslog(number);
        break;
    }
    case element_type::DOUBLE: {
        const auto number = take(value.get_double());
        if (number >= 0 && number <= 7 && number == static_cast<double>(static_cast<int>(number)))
            level = levelFromSyslog(static_cast<int>(number));
        break;
    }
    case element_type::UINT64:
        break;
    default:
        return makeError(ErrorCode::BadLevel, "field '" + std::string(key) +
                                                  "' must be a level name or a syslog severity "
                                                  "0..7, got " +
                                                  typeName(value.type()));
    }
    if (!level)
        return makeError(ErrorCode::BadLevel, "field '" + std::string(key) +
                                                  "': a numeric level must be a syslog "
                                                  "severity 0..7");
    return *level;
}

Result<void> readString(std::string_view key, element value, std::size_t limit, std::string &out)
{
    std::string_view text;
    if (value.get_string().get(text))
        return makeError(ErrorCode::BadField, "field '" + std::string(key) +
                                                  "' must be a string, got " +
                                                  typeName(value.type()));
    if (text.size() > limit)
        return makeError(ErrorCode::TooLarge,
                         sizeMessage("field '" + std::string(key) + "'", text.size(), limit));
    out.assign(text);
    return {};
}

} // namespace

struct EventDecoder::Impl
{
    explicit Impl(IngestLimits l) : limits(l)
    {
        // The parser's own maximum capacity stays at simdjson's default: incoming events are
        // size-checked before parsing, and canonical events may legitimately be larger than
        // maxEventBytes (the envelope adds a few fields). Buffers grow on demand and are kept.
        // simdjson's depth limit is only a backstop (its counting differs slightly by
        // container kind); the exact limit is enforced while walking the document.
        if (parser.allocate(std::min<std::size_t>(l.maxEventBytes, 64 * 1024) + 64,
                            std::max<std::size_t>(l.maxDepth, 1) + 2) != simdjson::SUCCESS)
            allocationFailed = true;
    }

    Result<element> parse(std::string_view json, std::size_t maxDepth)
    {
        if (allocationFailed)
            return makeError(ErrorCode::Internal, "JSON parser could not allocate memory");
        element root;
        const simdjson::error_code code = parser.parse(json.data(), json.size(), true).get(root);
        if (code != simdjson::SUCCESS)
            return parseError(code, json, maxDepth);
        return root;
    }

    // Adds one attribute; checks the count, sizes and uniqueness of keys.
    Result<void> addAttribute(std::string_view key, element value)
    {
        if (attributeCount == limits.maxAttributes)
            return makeError(ErrorCode::TooMany,
                             "more than " + std::to_string(limits.maxAttributes) + " attributes");
        if (key.size() > limits.maxFieldBytes)
            return makeError(ErrorCode::TooLarge,
                             sizeMessage("an attribute key", key.size(), limits.maxFieldBytes));
        if (!insertKey(key))
            return makeError(ErrorCode::BadField,
                             "attribute " + quoted(key) + " is given more than once");
        if (attributeCount != 0)
            attrs.push_back(',');
        ++attributeCount;
        appendJsonString(attrs, key);
        attrs.push_back(':');
        const std::size_t start = attrs.size();
        // The attribute value sits at depth 2 (top-level extra) or 3 (inside attrs).
        if (Result<void> r = writeMinified(attrs, value, currentDepth, limits.maxDepth); !r)
            return r;
        if (attrs.size() - start > limits.maxFieldBytes)
            return makeError(ErrorCode::TooLarge,
                             sizeMessage("attribute " + quoted(key), attrs.size() - start,
                                         limits.maxFieldBytes));
        return {};
    }

    // Records an attribute key; false when it was seen before in this event. Few keys (the
    // usual case) are compared in a small vector, without a node allocation per key.
    bool insertKey(std::string_view key)
    {
        if (attributeKeys.empty()) {
            if (std::find(smallKeys.begin(), smallKeys.end(), key) != smallKeys.end())
                return false;
            if (smallKeys.size() < kSmallKeys) {
                smallKeys.push_back(key);
                return true;
            }
            attributeKeys.insert(smallKeys.begin(), smallKeys.end());
        }
        return attributeKeys.insert(key).second;
    }

    Result<void> decodeIncoming(std::string_view json, std::int64_t receivedNs, LogEvent &event);
    Result<LogEvent> decodeEvent(std::string_view json);

    IngestLimits limits;
    simdjson::dom::parser parser;
    bool allocationFailed = false;
    std::string attrs;
    std::size_t attributeCount = 0;
    std::size_t currentDepth = 2;
    static constexpr std::size_t kSmallKeys = 16;
    std::vector<std::string_view> smallKeys;
    std::unordered_set<std::string_view> attributeKeys; // past kSmallKeys keys
    std::vector<simdjson::dom::key_value_pair> extras;
};

Result<void> EventDecoder::Impl::decodeIncoming(std::string_view json, std::int64_t receivedNs,
                                                LogEvent &event)
{
    if (json.size() > limits.maxEventBytes)
        return makeError(ErrorCode::TooLarge,
                         sizeMessage("the event", json.size(), limits.maxEventBytes));
    Result<element> parsed = parse(json, limits.maxDepth);
    if (!parsed)
        return std::move(parsed).error();
    const element root = *parsed;
    simdjson::dom::object object;
    if (root.get_object().get(object))
        return makeError(ErrorCode::NotAnObject,
                         std::string("an event must be a JSON object, got ") +
                             typeName(root.type()));
    if (limits.maxDepth < 1)
        return makeError(ErrorCode::TooDeep, "JSON nesting is deeper than 0 levels");

    event.id.clear();
    event.receivedNs = receivedNs;
    event.tsNs = receivedNs;
    event.level = Level::Info;
    event.app.clear();
    event.host.clear();
    event.message.clear();
    event.traceId.clear();
    event.spanId.clear();
    attrs.assign("{");
    attributeCount = 0;
    smallKeys.clear();
    attributeKeys.clear();
    extras.clear();
    bool filled[kRoleCount] = {};
    bool haveMessage = false;
    std::string_view messageKey;

    for (const simdjson::dom::key_value_pair field : object) {
        const Role role = roleOf(field.key);
        const auto slot = static_cast<std::size_t>(role);
        const element value = field.value;
        if (role == Role::Extra || filled[slot]) {
            extras.push_back(field);
            continue;
        }
        if (value.is_null()) {
            if (role == Role::Message)
                messageKey = field.key;
            continue;
        }
        filled[slot] = true;
        switch (role) {
        case Role::Time: {
            Result<std::int64_t> ns = readTimestamp(field.key, value);
            if (!ns)
                return std::move(ns).error();
            event.tsNs = *ns;
            break;
        }
        case Role::Level: {
            Result<Level> level = readLevel(field.key, value);
            if (!level)
                return std::move(level).error();
            event.level = *level;
            break;
        }
        case Role::App:
            if (Result<void> r = readString(field.key, value, limits.maxFieldBytes, event.app); !r)
                return r.error();
            break;
        case Role::Host:
            if (Result<void> r = readString(field.key, value, limits.maxFieldBytes, event.host); !r)
                return r.error();
            break;
        case Role::Message: {
            haveMessage = true;
            std::string_view text;
            if (value.get_string().get(text) == simdjson::SUCCESS) {
                if (text.size() > limits.maxMessageBytes)
                    return makeError(ErrorCode::TooLarge, sizeMessage("the message", text.size(),
                                                                      limits.maxMessageBytes));
                event.message.assign(text);
            } else {
                // A structured body is kept as its JSON text.
                if (Result<void> r = writeMinified(event.message, value, 2, limits.maxDepth); !r)
                    return r.error();
                if (event.message.size() > limits.maxMessageBytes)
                    return makeError(
                        ErrorCode::TooLarge,
                        sizeMessage("the message", event.message.size(), limits.maxMessageBytes));
            }
            break;
        }
        case Role::Attrs: {
            simdjson::dom::object attrObject;
            if (value.get_object().get(attrObject))
                return makeError(ErrorCode::BadField, "field '" + std::string(field.key) +
                                                          "' must be an object, got " +
                                                          typeName(value.type()));
            if (limits.maxDepth < 2)
                return makeError(ErrorCode::TooDeep, "JSON nesting is deeper than " +
                                                         std::to_string(limits.maxDepth) +
                                                         " levels");
            currentDepth = 3;
            for (const simdjson::dom::key_value_pair attr : attrObject) {
                if (Result<void> r = addAttribute(attr.key, attr.value); !r)
                    return r.error();
            }
            break;
        }
        case Role::TraceId:
            if (Result<void> r = readHexId(field.key, value, 32, event.traceId); !r)
                return r.error();
            break;
        case Role::SpanId:
            if (Result<void> r = readHexId(field.key, value, 16, event.spanId); !r)
                return r.error();
            break;
        case Role::Id: {
            std::string_view text;
            if (value.get_string().get(text) == simdjson::SUCCESS && isValidUuid(text)) {
                event.id.assign(text);
                std::transform(event.id.begin(), event.id.end(), event.id.begin(), [](char c) {
                    return (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
                });
            } else {
                filled[slot] = false; // not used as the id: kept as an attribute
                extras.push_back(field);
            }
            break;
        }
        case Role::Extra:
            break;
        }
    }

    currentDepth = 2;
    for (const simdjson::dom::key_value_pair &field : extras) {
        if (Result<void> r = addAttribute(field.key, field.value); !r)
            return r.error();
    }
    if (!haveMessage)
        return makeError(ErrorCode::MissingField,
                         messageKey.empty()
                             ? std::string("missing field 'message' (or 'msg', 'body')")
                             : "field '" + std::string(messageKey) +
                                   "' is null; a message is "
                                   "required");
    attrs.push_back('}');
    event.attrsJson.swap(attrs); // both buffers keep their capacity for the next event
    if (event.id.empty())
        assignNewEventId(event.id);
    return {};
}

Result<LogEvent> EventDecoder::Impl::decodeEvent(std::string_view json)
{
    // Canonical events come from the platform itself; the size limit of a single incoming
    // event does not apply (escaping may grow it), the depth limit does (plus the wrapper).
    Result<element> parsed = parse(json, limits.maxDepth + 1);
    if (!parsed)
        return std::move(parsed).error();
    simdjson::dom::object object;
    if (parsed->get_object().get(object))
        return makeError(ErrorCode::NotAnObject,
                         std::string("an event must be a JSON object, got ") +
                             typeName(parsed->type()));

    enum Field { V, Id, Ts, Rt, Lvl, App, Host, Msg, Attrs, FieldCount };
    static constexpr std::string_view kNames[FieldCount] = {"v",   "id",   "ts",  "rt",   "level",
                                                            "app", "host", "msg", "attrs"};
    bool seen[FieldCount] = {};
    LogEvent event;
    event.attrsJson.clear();
    auto wrongType = [](std::string_view key, const char *expected) {
        return makeError(ErrorCode::BadField,
                         "canonical event: field '" + std::string(key) + "' must be " + expected);
    };
    for (const simdjson::dom::key_value_pair field : object) {
        const std::string_view key = field.key;
        const element value = field.value;
        std::string_view text;
        if (key == "v") {
            std::int64_t version = 0;
            if (value.get_int64().get(version))
                return wrongType(key, "an integer");
            if (version != 1)
                return makeError(ErrorCode::BadField, "canonical event: unsupported version " +
                                                          std::to_string(version) +
                                                          " (this reader knows version 1)");
            seen[V] = true;
        } else if (key == "id") {
            if (value.get_string().get(text))
                return wrongType(key, "a string");
            event.id.assign(text);
            seen[Id] = true;
        } else if (key == "ts" || key == "rt") {
            std::int64_t ns = 0;
            if (value.get_int64().get(ns))
                return wrongType(key, "an integer (ns since the epoch)");
            (key == "ts" ? event.tsNs : event.receivedNs) = ns;
            seen[key == "ts" ? Ts : Rt] = true;
        } else if (key == "level") {
            if (value.get_string().get(text))
                return wrongType(key, "a string");
            const std::optional<Level> level = parseLevel(text);
            if (!level)
                return makeError(ErrorCode::BadLevel,
                                 "canonical event: unknown level " + quoted(text, 32));
            event.level = *level;
            seen[Lvl] = true;
        } else if (key == "app" || key == "host" || key == "msg") {
            if (value.get_string().get(text))
                return wrongType(key, "a string");
            (key == "app" ? event.app : key == "host" ? event.host : event.message).assign(text);
            seen[key == "app" ? App : key == "host" ? Host : Msg] = true;
        } else if (key == "attrs") {
            if (!value.is<simdjson::dom::object>())
                return wrongType(key, "an object");
            event.attrsJson.clear();
            if (Result<void> r = writeMinified(event.attrsJson, value, 2, limits.maxDepth + 1); !r)
                return r.error();
            seen[Attrs] = true;
        } else if (key == "trace_id" || key == "span_id") {
            if (value.get_string().get(text))
                return wrongType(key, "a string");
            (key == "trace_id" ? event.traceId : event.spanId).assign(text);
        }
        // Other keys: optional additions of a later v1 writer; ignored.
    }
    for (int i = 0; i < FieldCount; ++i) {
        if (!seen[i])
            return makeError(ErrorCode::MissingField,
                             "canonical event: missing field '" + std::string(kNames[i]) + "'");
    }
    return event;
}

EventDecoder::EventDecoder(IngestLimits limits) : m_impl(std::make_unique<Impl>(limits)) {}
EventDecoder::~EventDecoder() = default;
EventDecoder::EventDecoder(EventDecoder &&) noexcept = default;
EventDecoder &EventDecoder::operator=(EventDecoder &&) noexcept = default;

Result<LogEvent> EventDecoder::decodeIncoming(std::string_view json, std::int64_t receivedNs)
{
    LogEvent event;
    if (Result<void> r = m_impl->decodeIncoming(json, receivedNs, event); !r)
        return std::move(r).error();
    return event;
}

Result<void> EventDecoder::decodeIncoming(std::string_view json, std::int64_t receivedNs,
                                          LogEvent &event)
{
    return m_impl->decodeIncoming(json, receivedNs, event);
}

Result<LogEvent> EventDecoder::decodeEvent(std::string_view json)
{
    return m_impl->decodeEvent(json);
}

const IngestLimits &EventDecoder::limits() const noexcept
{
    return m_impl->limits;
}

void appendEncodedEvent(std::string &out, const LogEvent &event)
{
    out.reserve(out.size() + 160 + event.id.size() + event.app.size() + event.host.size() +
                event.message.size() + event.attrsJson.size());
    out.append("{\"v\":1,\"id\":");
    appendJsonString(out, event.id);
    out.append(",\"ts\":");
    appendJsonInt(out, event.tsNs);
    out.append(",\"rt\":");
    appendJsonInt(out, event.receivedNs);
    out.append(",\"level\":\"");
    out.append(levelName(event.level));
    out.append("\",\"app\":");
    appendJsonString(out, event.app);
    out.append(",\"host\":");
    appendJsonString(out, event.host);
    out.append(",\"msg\":");
    appendJsonString(out, event.message);
    out.append(",\"attrs\":");
    out.append(event.attrsJson.empty() ? std::string_view("{}")
                                       : std::string_view(event.attrsJson));
    if (!event.traceId.empty()) {
        out.append(",\"trace_id\":");
        appendJsonString(out, event.traceId);
    }
    if (!event.spanId.empty()) {
        out.append(",\"span_id\":");
        appendJsonString(out, event.spanId);
    }
    out.push_back('}');
}

std::string encodeEvent(const LogEvent &event)
{
    std::string out;
    appendEncodedEvent(out, event);
    return out;
}

Result<LogEvent> decodeEvent(std::string_view json)
{
    thread_local EventDecoder decoder;
    return decoder.decodeEvent(json);
}

} // namespace idl
