// The lenient ingest format (what applications send; the table in json_codec.h): aliases
// per role, timestamps in many units, levels by name or syslog number, every other field
// kept as an attribute.
#include "json_decoder_impl.h"

#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"
#include "idl/core/uuid.h"

#include <algorithm>

namespace idl {

using namespace json_detail;

namespace {

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

// Adds one attribute; checks the count, sizes and uniqueness of keys.
Result<void> EventDecoder::Impl::addAttribute(std::string_view key, element value)
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
        return makeError(
            ErrorCode::TooLarge,
            sizeMessage("attribute " + quoted(key), attrs.size() - start, limits.maxFieldBytes));
    return {};
}

// Records an attribute key; false when it was seen before in this event. Few keys (the
// usual case) are compared in a small vector, without a node allocation per key.
bool EventDecoder::Impl::insertKey(std::string_view key)
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

Result<LogEvent> EventDecoder::decodeIncoming(std::string_view json, std::int64_t receivedNs)
{
    LogEvent event;
    if (Result<void> r = d->decodeIncoming(json, receivedNs, event); !r)
        return std::move(r).error();
    return event;
}

Result<void> EventDecoder::decodeIncoming(std::string_view json, std::int64_t receivedNs,
                                          LogEvent &event)
{
    return d->decodeIncoming(json, receivedNs, event);
}

} // namespace idl
