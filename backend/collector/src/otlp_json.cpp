// OTLP/HTTP JSON logs (ExportLogsServiceRequest, opentelemetry-proto logs/v1) to LogEvents.
// Field names are accepted in lowerCamelCase (the OTLP JSON encoding) and in the proto's
// snake_case; trace and span ids are hex as the OTLP specification requires; 64-bit integers
// may be JSON numbers or decimal strings; enums may be numbers or their names.
#include "idl/collector/ingest_decoder.h"
#include "otlp_mapping.h"

#include "idl/core/json_writer.h"

#include <simdjson.h>

#include <charconv>
#include <set>

namespace idl::collector {

namespace {

namespace sj = simdjson;
using sj::dom::element;

using Field = std::optional<element>;

// A field by either of its spellings; nullopt when absent or JSON null.
Field field(const sj::dom::object &obj, std::string_view camel, std::string_view snake = {})
{
    element e;
    if (obj[camel].get(e) == sj::SUCCESS && !e.is_null())
        return e;
    if (!snake.empty() && obj[snake].get(e) == sj::SUCCESS && !e.is_null())
        return e;
    return std::nullopt;
}

bool present(const Field &e)
{
    return e.has_value();
}

// The string value of a field, or "" when absent or not a string.
std::string_view fieldString(const sj::dom::object &obj, std::string_view camel,
                             std::string_view snake = {})
{
    std::string_view s;
    if (auto e = field(obj, camel, snake))
        if (e->get_string().get(s) != sj::SUCCESS)
            s = {};
    return s;
}

// A 64-bit unsigned integer written as a number or a decimal string.
std::optional<std::uint64_t> readUint(const element &e)
{
    std::uint64_t u = 0;
    if (e.get_uint64().get(u) == sj::SUCCESS)
        return u;
    std::int64_t i = 0;
    if (e.get_int64().get(i) == sj::SUCCESS && i >= 0)
        return static_cast<std::uint64_t>(i);
    std::string_view s;
    if (e.get_string().get(s) == sj::SUCCESS && !s.empty()) {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), u);
        if (ec == std::errc() && p == s.data() + s.size())
            return u;
    }
    return std::nullopt;
}

std::optional<std::int64_t> readInt(const element &e)
{
    std::int64_t i = 0;
    if (e.get_int64().get(i) == sj::SUCCESS)
        return i;
    std::string_view s;
    if (e.get_string().get(s) == sj::SUCCESS && !s.empty()) {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
        if (ec == std::errc() && p == s.data() + s.size())
            return i;
    }
    return std::nullopt;
}

// SeverityNumber as a number or its enum name ("SEVERITY_NUMBER_WARN2").
std::optional<long long> readSeverity(const element &e)
{
    if (auto n = readInt(e))
        return *n;
    std::string_view s;
    if (e.get_string().get(s) != sj::SUCCESS)
        return std::nullopt;
    static constexpr std::pair<std::string_view, int> kNames[] = {
        {"TRACE", 1}, {"DEBUG", 5}, {"INFO", 9}, {"WARN", 13}, {"ERROR", 17}, {"FATAL", 21}};
    constexpr std::string_view prefix = "SEVERITY_NUMBER_";
    if (s.substr(0, prefix.size()) != prefix)
        return std::nullopt;
    s.remove_prefix(prefix.size());
    for (const auto &[name, base] : kNames) {
        if (s.substr(0, name.size()) != name)
            continue;
        const auto rest = s.substr(name.size());
        if (rest.empty())
            return base;
        if (rest.size() == 1 && rest[0] >= '2' && rest[0] <= '4')
            return base + (rest[0] - '1');
    }
    return std::nullopt;
}

struct Limits
{
    const IngestLimits &event;
    std::size_t attributes = 0;
};

// The `values` list of an ArrayValue/KeyValueList: {"values":[...]} as the proto says, or a
// bare array (as some published examples write it). nullopt when malformed; an inner
// nullopt when there are no values.
std::optional<std::optional<sj::dom::array>> listValues(const element &e)
{
    sj::dom::array arr;
    if (e.get_array().get(arr) == sj::SUCCESS)
        return std::optional<sj::dom::array>(arr);
    sj::dom::object obj;
    if (e.get_object().get(obj) != sj::SUCCESS)
        return std::nullopt;
    const Field v = field(obj, "values");
    if (!v)
        return std::optional<sj::dom::array>();
    if (v->get_array().get(arr) != sj::SUCCESS)
        return std::nullopt;
    return std::optional<sj::dom::array>(arr);
}

// Writes an AnyValue as plain JSON. Fails on malformed values.
std::optional<Error> writeAnyValue(JsonWriter &w, const element &value, std::size_t depth,
                                   const IngestLimits &limits)
{
    if (depth > limits.maxDepth)
        return makeError(ErrorCode::TooDeep, "attribute value nested too deeply");
    sj::dom::object obj;
    if (value.get_object().get(obj) != sj::SUCCESS)
        return makeError(ErrorCode::BadField, "AnyValue must be an object");
    if (auto e = field(obj, "stringValue", "string_value"); present(e)) {
        std::string_view s;
        if (e->get_string().get(s) != sj::SUCCESS)
            return makeError(ErrorCode::BadField, "stringValue must be a string");
        if (s.size() > limits.maxFieldBytes)
            return makeError(ErrorCode::TooLarge, "attribute value over the field size limit");
        w.value(s);
        return std::nullopt;
    }
    if (auto e = field(obj, "boolValue", "bool_value"); present(e)) {
        bool b = false;
        if (e->get_bool().get(b) != sj::SUCCESS)
            return makeError(ErrorCode::BadField, "boolValue must be true or false");
        w.value(b);
        return std::nullopt;
    }
    if (auto e = field(obj, "intValue", "int_value"); present(e)) {
        auto n = readInt(*e);
        if (!n)
            return makeError(ErrorCode::BadNumber, "intValue must be a 64-bit integer");
        w.value(*n);
        return std::nullopt;
    }
    if (auto e = field(obj, "doubleValue", "double_value"); present(e)) {
        double d = 0;
        std::string_view s;
        if (e->get_double().get(d) == sj::SUCCESS)
            w.value(d);
        else if (e->get_string().get(s) == sj::SUCCESS &&
                 (s == "NaN" || s == "Infinity" || s == "-Infinity"))
            w.value(s); // not representable as a JSON number: kept as its text
        else
            return makeError(ErrorCode::BadNumber, "doubleValue must be a number");
        return std::nullopt;
    }
    if (auto e = field(obj, "bytesValue", "bytes_value"); present(e)) {
        std::string_view s;
        if (e->get_string().get(s) != sj::SUCCESS)
            return makeError(ErrorCode::BadField, "bytesValue must be a base64 string");
        w.value(s); // kept as its base64 text
        return std::nullopt;
    }
    if (auto e = field(obj, "arrayValue", "array_value"); present(e)) {
        auto values = listValues(*e);
        if (!values)
            return makeError(ErrorCode::BadField, "arrayValue.values must be an array");
        w.beginArray();
        if (*values)
            for (element item : **values)
                if (auto err = writeAnyValue(w, item, depth + 1, limits))
                    return err;
        w.endArray();
        return std::nullopt;
    }
    if (auto e = field(obj, "kvlistValue", "kvlist_value"); present(e)) {
        auto values = listValues(*e);
        if (!values)
            return makeError(ErrorCode::BadField, "kvlistValue.values must be an array");
        w.beginObject();
        std::set<std::string_view> seen;
        if (*values) {
            {
                for (element item : **values) {
                    sj::dom::object pair;
                    std::string_view key;
                    if (item.get_object().get(pair) != sj::SUCCESS ||
                        (key = fieldString(pair, "key")).data() == nullptr)
                        return makeError(ErrorCode::BadField, "kvlist entry needs a string key");
                    if (!seen.insert(key).second)
                        continue; // a repeated key inside a map value: the first one stays
                    w.key(key);
                    const Field v2 = field(pair, "value");
                    if (!present(v2))
                        w.null();
                    else if (auto err = writeAnyValue(w, *v2, depth + 1, limits))
                        return err;
                }
            }
        }
        w.endObject();
        return std::nullopt;
    }
    w.null(); // an empty AnyValue
    return std::nullopt;
}

using otlp::Attr;

std::optional<Error> readAttributes(const Field &list, std::vector<Attr> &out,
                                    const IngestLimits &limits)
{
    if (!present(list))
        return std::nullopt;
    sj::dom::array arr;
    if (list->get_array().get(arr) != sj::SUCCESS)
        return makeError(ErrorCode::BadField, "attributes must be an array");
    for (element item : arr) {
        sj::dom::object kv;
        std::string_view key;
        if (item.get_object().get(kv) != sj::SUCCESS ||
            (key = fieldString(kv, "key")).data() == nullptr)
            return makeError(ErrorCode::BadField, "attribute needs a string key");
        if (key.size() > limits.maxFieldBytes)
            return makeError(ErrorCode::TooLarge, "attribute key over the field size limit");
        Attr a{key, {}, {}};
        JsonWriter w(a.json);
        const Field value = field(kv, "value");
        if (!present(value))
            w.null();
        else {
            if (auto err = writeAnyValue(w, *value, 2, limits))
                return err;
            sj::dom::object vo;
            if (value->get_object().get(vo) == sj::SUCCESS)
                a.text = fieldString(vo, "stringValue", "string_value");
        }
        out.push_back(std::move(a));
    }
    return std::nullopt;
}

// A hex trace/span id of `bytes` bytes; "" for absent or all-zero.
Result<std::string> readId(const Field &e, std::size_t bytes, std::string_view what)
{
    if (!present(e))
        return std::string();
    std::string_view s;
    if (e->get_string().get(s) != sj::SUCCESS)
        return makeError(ErrorCode::BadField, std::string(what) + " must be a hex string");
    return otlp::normalizeHexId(s, bytes, what);
}

// One log record's fields in the JSON encoding, then the shared mapping (otlp_mapping.h).
Result<LogEvent> buildEvent(const sj::dom::object &rec, const otlp::ResourceContext &res,
                            const std::vector<Attr> &scopeAttrs, std::int64_t receivedNs,
                            const IngestLimits &limits)
{
    otlp::RecordFields f;
    for (auto [camel, snake, out] :
         {std::tuple{"timeUnixNano", "time_unix_nano", &f.timeUnixNano},
          std::tuple{"observedTimeUnixNano", "observed_time_unix_nano", &f.observedTimeUnixNano}}) {
        const Field e = field(rec, camel, snake);
        if (!present(e))
            continue;
        auto v = readUint(*e);
        if (!v)
            return makeError(ErrorCode::BadTimestamp,
                             std::string(camel) + " must be nanoseconds as an integer");
        *out = *v;
    }
    f.severityText = fieldString(rec, "severityText", "severity_text");
    if (auto e = field(rec, "severityNumber", "severity_number"); present(e)) {
        auto n = readSeverity(*e);
        if (!n)
            return makeError(ErrorCode::BadLevel, "severityNumber must be 0..24");
        f.severityNumber = *n;
    }
    if (auto body = field(rec, "body"); present(body)) {
        sj::dom::object bo;
        std::string_view text;
        if (body->get_object().get(bo) == sj::SUCCESS && field(bo, "stringValue", "string_value") &&
            field(bo, "stringValue", "string_value")->get_string().get(text) == sj::SUCCESS) {
            f.bodyText = text;
        } else {
            JsonWriter w(f.bodyJson);
            if (auto err = writeAnyValue(w, *body, 1, limits))
                return *err;
        }
    }
    auto trace = readId(field(rec, "traceId", "trace_id"), 16, "traceId");
    if (!trace)
        return trace.error();
    auto span = readId(field(rec, "spanId", "span_id"), 8, "spanId");
    if (!span)
        return span.error();
    f.traceId = std::move(*trace);
    f.spanId = std::move(*span);
    if (auto err = readAttributes(field(rec, "attributes"), f.attrs, limits))
        return *err;
    f.eventName = fieldString(rec, "eventName", "event_name");
    return otlp::buildEvent(f, res, scopeAttrs, receivedNs, limits);
}

Error badRequest(std::string message)
{
    return makeError(ErrorCode::BadJson, std::move(message));
}

} // namespace

Result<DecodedBatch> decodeOtlpJson(std::string_view body, std::int64_t receivedNs,
                                    const IngestLimits &eventLimits, const BatchLimits &limits,
                                    const EventCheck &check)
{
    thread_local sj::dom::parser parser;
    element root;
    if (auto err = parser.parse(body.data(), body.size()).get(root)) {
        if (err == sj::UTF8_ERROR)
            return makeError(ErrorCode::InvalidUtf8, "the body is not valid UTF-8");
        if (err == sj::DEPTH_ERROR)
            return makeError(ErrorCode::TooDeep, "the body is nested too deeply");
        return badRequest(std::string("the body is not valid JSON: ") + sj::error_message(err));
    }
    sj::dom::object request;
    if (root.get_object().get(request) != sj::SUCCESS)
        return badRequest("an ExportLogsServiceRequest must be a JSON object");

    otlp::BatchBuilder batch(limits, check);
    const Field resourceLogs = field(request, "resourceLogs", "resource_logs");
    sj::dom::array rlArray;
    if (!present(resourceLogs))
        return batch.take();
    if (resourceLogs->get_array().get(rlArray) != sj::SUCCESS)
        return badRequest("resourceLogs must be an array");
    for (element rl : rlArray) {
        sj::dom::object rlo;
        if (rl.get_object().get(rlo) != sj::SUCCESS)
            return badRequest("each resourceLogs entry must be an object");
        otlp::ResourceContext res;
        if (auto r = field(rlo, "resource"); present(r)) {
            sj::dom::object ro;
            if (r->get_object().get(ro) != sj::SUCCESS)
                return badRequest("resource must be an object");
            std::vector<Attr> attrs;
            if (auto err = readAttributes(field(ro, "attributes"), attrs, eventLimits))
                return badRequest("resource attributes: " + err->message);
            otlp::setResourceAttributes(std::move(attrs), res);
        }
        const Field scopeLogs = field(rlo, "scopeLogs", "scope_logs");
        sj::dom::array slArray;
        if (!present(scopeLogs))
            continue;
        if (scopeLogs->get_array().get(slArray) != sj::SUCCESS)
            return badRequest("scopeLogs must be an array");
        for (element sl : slArray) {
            sj::dom::object slo;
            if (sl.get_object().get(slo) != sj::SUCCESS)
                return badRequest("each scopeLogs entry must be an object");
            std::vector<Attr> scopeAttrs;
            if (auto s = field(slo, "scope"); present(s)) {
                sj::dom::object so;
                if (s->get_object().get(so) == sj::SUCCESS) {
                    if (auto err = readAttributes(field(so, "attributes"), scopeAttrs, eventLimits))
                        return badRequest("scope attributes: " + err->message);
                    otlp::addScopeIdentity(scopeAttrs, fieldString(so, "name"),
                                           fieldString(so, "version"));
                }
            }
            const Field records = field(slo, "logRecords", "log_records");
            sj::dom::array recArray;
            if (!present(records))
                continue;
            if (records->get_array().get(recArray) != sj::SUCCESS)
                return badRequest("logRecords must be an array");
            for (element rec : recArray) {
                auto i = batch.next();
                if (!i)
                    return i.error();
                sj::dom::object ro;
                if (rec.get_object().get(ro) != sj::SUCCESS) {
                    batch.add(*i,
                              makeError(ErrorCode::NotAnObject, "a log record must be an object"));
                    continue;
                }
                batch.add(*i, buildEvent(ro, res, scopeAttrs, receivedNs, eventLimits));
            }
        }
    }
    return batch.take();
}

} // namespace idl::collector
