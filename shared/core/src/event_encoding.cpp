// The canonical event encoding, version 1 (the Kafka raw and events topics; the format is
// described in idl/core/event_encoding.h): a fixed key order on the way out, a strict
// reader on the way in.
#include "json_decoder_impl.h"

#include "idl/core/json_dom.h"
#include "idl/core/json_writer.h"

#include <algorithm>

namespace idl {

using namespace json_detail;

namespace {

// TooDeep when a container inside `value` (itself at nesting `depth`) sits deeper than
// maxDepth: the check writeMinified makes, without writing anything.
Result<void> checkDepth(element value, std::size_t depth, std::size_t maxDepth)
{
    if (value.type() != element_type::OBJECT && value.type() != element_type::ARRAY)
        return {};
    if (depth > maxDepth)
        return makeError(ErrorCode::TooDeep,
                         "JSON nesting is deeper than " + std::to_string(maxDepth) + " levels");
    if (simdjson::dom::object object; !value.get_object().get(object)) {
        for (const simdjson::dom::key_value_pair field : object)
            if (Result<void> r = checkDepth(field.value, depth + 1, maxDepth); !r)
                return r;
    } else if (simdjson::dom::array array; !value.get_array().get(array)) {
        for (const element item : array)
            if (Result<void> r = checkDepth(item, depth + 1, maxDepth); !r)
                return r;
    }
    return {};
}

} // namespace

Result<void> EventDecoder::Impl::decodeEventView(std::string_view json, CanonicalEventView &event)
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
    event = CanonicalEventView{};
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
            if (value.get_string().get(event.id))
                return wrongType(key, "a string");
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
            (key == "app" ? event.app : key == "host" ? event.host : event.message) = text;
            seen[key == "app" ? App : key == "host" ? Host : Msg] = true;
        } else if (key == "attrs") {
            if (!value.is<simdjson::dom::object>())
                return wrongType(key, "an object");
            event.attrs = value;
            seen[Attrs] = true;
        } else if (key == "trace_id" || key == "span_id") {
            if (value.get_string().get(text))
                return wrongType(key, "a string");
            (key == "trace_id" ? event.traceId : event.spanId) = text;
        }
        // Other keys: optional additions of a later v1 writer; ignored.
    }
    for (int i = 0; i < FieldCount; ++i) {
        if (!seen[i])
            return makeError(ErrorCode::MissingField,
                             "canonical event: missing field '" + std::string(kNames[i]) + "'");
    }
    // The depth limit on attrs: only a text with more brackets than the limit can break it,
    // so the walk is skipped for ordinary events.
    const std::size_t brackets = static_cast<std::size_t>(
        std::count_if(json.begin(), json.end(), [](char c) { return c == '{' || c == '['; }));
    if (brackets > limits.maxDepth)
        return checkDepth(event.attrs, 2, limits.maxDepth + 1);
    return {};
}

Result<LogEvent> EventDecoder::Impl::decodeEvent(std::string_view json)
{
    CanonicalEventView view;
    if (Result<void> r = decodeEventView(json, view); !r)
        return r.error();
    LogEvent event;
    event.id.assign(view.id);
    event.tsNs = view.tsNs;
    event.receivedNs = view.receivedNs;
    event.level = view.level;
    event.app.assign(view.app);
    event.host.assign(view.host);
    event.message.assign(view.message);
    event.attrsJson.clear();
    if (Result<void> r = writeMinified(event.attrsJson, view.attrs, 2, limits.maxDepth + 1); !r)
        return r.error();
    event.traceId.assign(view.traceId);
    event.spanId.assign(view.spanId);
    return event;
}

Result<void> EventDecoder::decodeEventView(std::string_view json, CanonicalEventView &view)
{
    return d->decodeEventView(json, view);
}

Result<LogEvent> EventDecoder::decodeEvent(std::string_view json)
{
    return d->decodeEvent(json);
}

void appendEncodedEventHead(std::string &out, std::string_view id, std::int64_t tsNs,
                            std::int64_t receivedNs, Level level, std::string_view app,
                            std::string_view host, std::string_view message)
{
    out.append("{\"v\":1,\"id\":");
    appendJsonString(out, id);
    out.append(",\"ts\":");
    appendJsonInt(out, tsNs);
    out.append(",\"rt\":");
    appendJsonInt(out, receivedNs);
    out.append(",\"level\":\"");
    out.append(levelName(level));
    out.append("\",\"app\":");
    appendJsonString(out, app);
    out.append(",\"host\":");
    appendJsonString(out, host);
    out.append(",\"msg\":");
    appendJsonString(out, message);
    out.append(",\"attrs\":");
}

void appendEncodedEventTail(std::string &out, std::string_view traceId, std::string_view spanId)
{
    if (!traceId.empty()) {
        out.append(",\"trace_id\":");
        appendJsonString(out, traceId);
    }
    if (!spanId.empty()) {
        out.append(",\"span_id\":");
        appendJsonString(out, spanId);
    }
    out.push_back('}');
}

void appendEncodedEvent(std::string &out, const LogEvent &event)
{
    out.reserve(out.size() + 160 + event.id.size() + event.app.size() + event.host.size() +
                event.message.size() + event.attrsJson.size());
    appendEncodedEventHead(out, event.id, event.tsNs, event.receivedNs, event.level, event.app,
                           event.host, event.message);
    out.append(event.attrsJson.empty() ? std::string_view("{}")
                                       : std::string_view(event.attrsJson));
    appendEncodedEventTail(out, event.traceId, event.spanId);
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
