// OTLP logs, protobuf encoding: messages generated from shared/otlp/proto by protoc; the
// record mapping is otlp_mapping.h's, as for OTLP/JSON.
#include "otlp_protobuf.h"

#include "otlp_mapping.h"

#include "idl/core/json_writer.h"

#include <google/protobuf/arena.h>
#include <google/protobuf/stubs/logging.h>

#include <QByteArray>

#include <cmath>
#include <mutex>
#include <set>

namespace idl::collector {

namespace {

namespace common = opentelemetry::proto::common::v1;
namespace logs = opentelemetry::proto::logs::v1;
using otlp::Attr;

// Writes an AnyValue as plain JSON, as the JSON encoding maps it (docs/collector.md):
// bytesValue as its base64 text, NaN/Infinity as text.
std::optional<Error> writeAnyValue(JsonWriter &w, const common::AnyValue &v, std::size_t depth,
                                   const IngestLimits &limits)
{
    if (depth > limits.maxDepth)
        return makeError(ErrorCode::TooDeep, "attribute value nested too deeply");
    switch (v.value_case()) {
    case common::AnyValue::kStringValue:
        if (v.string_value().size() > limits.maxFieldBytes)
            return makeError(ErrorCode::TooLarge, "attribute value over the field size limit");
        w.value(std::string_view(v.string_value()));
        return std::nullopt;
    case common::AnyValue::kBoolValue:
        w.value(v.bool_value());
        return std::nullopt;
    case common::AnyValue::kIntValue:
        w.value(static_cast<std::int64_t>(v.int_value()));
        return std::nullopt;
    case common::AnyValue::kDoubleValue: {
        const double d = v.double_value();
        if (std::isnan(d))
            w.value(std::string_view("NaN"));
        else if (std::isinf(d))
            w.value(std::string_view(d > 0 ? "Infinity" : "-Infinity"));
        else
            w.value(d);
        return std::nullopt;
    }
    case common::AnyValue::kBytesValue: {
        const auto &b = v.bytes_value();
        if (b.size() > limits.maxFieldBytes)
            return makeError(ErrorCode::TooLarge, "attribute value over the field size limit");
        const QByteArray text =
            QByteArray::fromRawData(b.data(), static_cast<qsizetype>(b.size())).toBase64();
        w.value(std::string_view(text.constData(), static_cast<std::size_t>(text.size())));
        return std::nullopt;
    }
    case common::AnyValue::kArrayValue:
        w.beginArray();
        for (const auto &item : v.array_value().values())
            if (auto err = writeAnyValue(w, item, depth + 1, limits))
                return err;
        w.endArray();
        return std::nullopt;
    case common::AnyValue::kKvlistValue: {
        w.beginObject();
        std::set<std::string_view> seen;
        for (const auto &pair : v.kvlist_value().values()) {
            if (!seen.insert(pair.key()).second)
                continue; // a repeated key inside a map value: the first one stays
            w.key(pair.key());
            if (!pair.has_value())
                w.null();
            else if (auto err = writeAnyValue(w, pair.value(), depth + 1, limits))
                return err;
        }
        w.endObject();
        return std::nullopt;
    }
    case common::AnyValue::VALUE_NOT_SET:
        break;
    }
    w.null(); // an empty AnyValue
    return std::nullopt;
}

std::optional<Error>
readAttributes(const google::protobuf::RepeatedPtrField<common::KeyValue> &list,
               std::vector<Attr> &out, const IngestLimits &limits)
{
    out.reserve(out.size() + static_cast<std::size_t>(list.size()));
    for (const auto &kv : list) {
        if (kv.key().size() > limits.maxFieldBytes)
            return makeError(ErrorCode::TooLarge, "attribute key over the field size limit");
        Attr a{kv.key(), {}, {}};
        JsonWriter w(a.json);
        if (!kv.has_value())
            w.null();
        else {
            if (auto err = writeAnyValue(w, kv.value(), 2, limits))
                return err;
            if (kv.value().value_case() == common::AnyValue::kStringValue)
                a.text = kv.value().string_value();
        }
        out.push_back(std::move(a));
    }
    return std::nullopt;
}

Result<LogEvent> recordEvent(const logs::LogRecord &rec, const otlp::ResourceContext &res,
                             const std::vector<Attr> &scopeAttrs, std::int64_t receivedNs,
                             const IngestLimits &limits)
{
    otlp::RecordFields f;
    f.timeUnixNano = rec.time_unix_nano();
    f.observedTimeUnixNano = rec.observed_time_unix_nano();
    if (rec.severity_number() != 0)
        f.severityNumber = rec.severity_number();
    f.severityText = rec.severity_text();
    if (rec.has_body()) {
        if (rec.body().value_case() == common::AnyValue::kStringValue)
            f.bodyText = rec.body().string_value();
        else {
            JsonWriter w(f.bodyJson);
            if (auto err = writeAnyValue(w, rec.body(), 1, limits))
                return *err;
        }
    }
    auto trace = otlp::hexId(rec.trace_id(), 16, "traceId");
    if (!trace)
        return trace.error();
    auto span = otlp::hexId(rec.span_id(), 8, "spanId");
    if (!span)
        return span.error();
    f.traceId = std::move(*trace);
    f.spanId = std::move(*span);
    if (auto err = readAttributes(rec.attributes(), f.attrs, limits))
        return *err;
    f.eventName = rec.event_name();
    return otlp::buildEvent(f, res, scopeAttrs, receivedNs, limits);
}

Error badRequest(std::string message)
{
    return makeError(ErrorCode::BadRequest, std::move(message));
}

} // namespace

namespace otlp {

Result<DecodedBatch> mapRequest(const ExportRequest &request, std::int64_t receivedNs,
                                const IngestLimits &eventLimits, const BatchLimits &limits,
                                const EventCheck &check)
{
    BatchBuilder batch(limits, check);
    for (const auto &rl : request.resource_logs()) {
        ResourceContext res;
        std::vector<Attr> attrs;
        if (auto err = readAttributes(rl.resource().attributes(), attrs, eventLimits))
            return badRequest("resource attributes: " + err->message);
        setResourceAttributes(std::move(attrs), res);
        for (const auto &sl : rl.scope_logs()) {
            std::vector<Attr> scopeAttrs;
            if (sl.has_scope()) {
                if (auto err = readAttributes(sl.scope().attributes(), scopeAttrs, eventLimits))
                    return badRequest("scope attributes: " + err->message);
                addScopeIdentity(scopeAttrs, sl.scope().name(), sl.scope().version());
            }
            for (const auto &rec : sl.log_records()) {
                auto i = batch.next();
                if (!i)
                    return i.error();
                batch.add(*i, recordEvent(rec, res, scopeAttrs, receivedNs, eventLimits));
            }
        }
    }
    return batch.take();
}

} // namespace otlp

Result<DecodedBatch> decodeOtlpProtobuf(std::string_view body, std::int64_t receivedNs,
                                        const IngestLimits &eventLimits, const BatchLimits &limits,
                                        const EventCheck &check)
{
    // A malformed message is answered to its sender; protobuf's own log line (e.g. for
    // invalid UTF-8 in a string field) would only let a client fill the collector's log.
    static std::once_flag quiet;
    std::call_once(quiet, [] { google::protobuf::SetLogHandler(nullptr); });
    google::protobuf::Arena arena;
    auto *request = google::protobuf::Arena::CreateMessage<otlp::ExportRequest>(&arena);
    if (body.size() > static_cast<std::size_t>(INT32_MAX) ||
        !request->ParseFromArray(body.data(), static_cast<int>(body.size())))
        return badRequest("the body is not a valid protobuf ExportLogsServiceRequest (OTLP "
                          "logs): malformed wire data, a string that is not UTF-8, or nesting "
                          "over 100 levels");
    return otlp::mapRequest(*request, receivedNs, eventLimits, limits, check);
}

} // namespace idl::collector
