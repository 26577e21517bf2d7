#include "otlp_mapping.h"

#include "idl/core/json_writer.h"
#include "idl/core/uuid.h"

#include <cctype>
#include <set>

namespace idl::collector::otlp {

void setResourceAttributes(std::vector<Attr> attrs, ResourceContext &out)
{
    for (auto &a : attrs) {
        if (a.key == "service.name" && !a.text.empty())
            out.app.assign(a.text);
        else if (a.key == "host.name" && !a.text.empty())
            out.host.assign(a.text);
        else
            out.attrs.push_back(std::move(a));
    }
}

void addScopeIdentity(std::vector<Attr> &scopeAttrs, std::string_view name,
                      std::string_view version)
{
    for (auto [key, text] : {std::pair{std::string_view("otel.scope.name"), name},
                             std::pair{std::string_view("otel.scope.version"), version}}) {
        if (text.empty())
            continue;
        Attr a{key, {}, {}};
        appendJsonString(a.json, text);
        scopeAttrs.push_back(std::move(a));
    }
}

Result<LogEvent> buildEvent(RecordFields &rec, const ResourceContext &res,
                            const std::vector<Attr> &scopeAttrs, std::int64_t receivedNs,
                            const IngestLimits &limits)
{
    LogEvent ev;
    ev.id = newEventId();
    ev.receivedNs = receivedNs;
    ev.app = res.app;
    ev.host = res.host;

    std::int64_t ts = 0;
    for (auto [value, name] : {std::pair{rec.timeUnixNano, "timeUnixNano"},
                               std::pair{rec.observedTimeUnixNano, "observedTimeUnixNano"}}) {
        if (value > static_cast<std::uint64_t>(INT64_MAX))
            return makeError(ErrorCode::BadTimestamp, std::string(name) + " is out of range");
        if (value != 0) {
            ts = static_cast<std::int64_t>(value);
            break;
        }
    }
    ev.tsNs = ts ? ts : receivedNs;

    std::optional<Level> level;
    if (rec.severityNumber) {
        if (*rec.severityNumber < 0 || *rec.severityNumber > 24)
            return makeError(ErrorCode::BadLevel, "severityNumber must be 0..24");
        level = levelFromOtelSeverity(*rec.severityNumber);
    }
    if (!level && !rec.severityText.empty())
        level = parseLevel(rec.severityText);
    ev.level = level.value_or(Level::Info);

    if (rec.bodyText)
        ev.message.assign(*rec.bodyText);
    else
        ev.message = std::move(rec.bodyJson);
    if (ev.message.size() > limits.maxMessageBytes)
        return makeError(ErrorCode::TooLarge, "the message is over the limit of " +
                                                  std::to_string(limits.maxMessageBytes) +
                                                  " bytes");
    ev.traceId = std::move(rec.traceId);
    ev.spanId = std::move(rec.spanId);

    std::vector<Attr> &attrs = rec.attrs;
    std::set<std::string_view> keys;
    for (const auto &a : attrs)
        if (!keys.insert(a.key).second)
            return makeError(ErrorCode::BadField,
                             "attribute \"" + std::string(a.key) + "\" appears twice");
    if (!rec.eventName.empty() && !keys.count("event.name")) {
        Attr a{"event.name", {}, rec.eventName};
        appendJsonString(a.json, rec.eventName);
        attrs.push_back(std::move(a));
        keys.insert("event.name");
    }
    // Scope and resource attributes fill in what the record does not say itself.
    for (const auto *extra : {&scopeAttrs, &res.attrs})
        for (const auto &a : *extra)
            if (keys.insert(a.key).second)
                attrs.push_back(a);
    if (attrs.size() > limits.maxAttributes)
        return makeError(ErrorCode::TooMany,
                         "more than " + std::to_string(limits.maxAttributes) + " attributes");
    ev.attrsJson.clear();
    JsonWriter w(ev.attrsJson);
    w.beginObject();
    for (const auto &a : attrs) {
        w.key(a.key);
        w.raw(a.json);
    }
    w.endObject();
    const std::size_t size =
        ev.message.size() + ev.attrsJson.size() + ev.app.size() + ev.host.size() + 200;
    if (size > limits.maxEventBytes)
        return makeError(ErrorCode::TooLarge, "the event is over the limit of " +
                                                  std::to_string(limits.maxEventBytes) + " bytes");
    return ev;
}

namespace {

std::string lowerHexOrNone(std::string hex)
{
    for (char &c : hex)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (hex.find_first_not_of('0') == std::string::npos)
        return std::string();
    return hex;
}

} // namespace

Result<std::string> hexId(std::string_view raw, std::size_t bytes, std::string_view what)
{
    if (raw.empty())
        return std::string();
    if (raw.size() != bytes)
        return makeError(ErrorCode::BadField,
                         std::string(what) + " must be " + std::to_string(bytes) + " bytes");
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes * 2);
    for (unsigned char c : raw) {
        out.push_back(kDigits[c >> 4]);
        out.push_back(kDigits[c & 15]);
    }
    return lowerHexOrNone(std::move(out));
}

Result<std::string> normalizeHexId(std::string_view hex, std::size_t bytes, std::string_view what)
{
    if (hex.empty())
        return std::string();
    bool ok = hex.size() == bytes * 2;
    for (char c : hex)
        ok = ok && std::isxdigit(static_cast<unsigned char>(c));
    if (!ok)
        return makeError(ErrorCode::BadField, std::string(what) + " must be " +
                                                  std::to_string(bytes * 2) + " hex digits");
    return lowerHexOrNone(std::string(hex));
}

Result<std::size_t> BatchBuilder::next()
{
    if (count_ == limits_.maxEvents)
        return makeError(ErrorCode::TooMany, "more than " + std::to_string(limits_.maxEvents) +
                                                 " log records in one request");
    return count_++;
}

void BatchBuilder::add(std::size_t index, Result<LogEvent> event)
{
    if (!event)
        return batch_.reject(index, std::move(event).error(), limits_.maxErrors);
    if (check_)
        if (auto err = check_(*event))
            return batch_.reject(index, std::move(*err), limits_.maxErrors);
    batch_.events.push_back(std::move(event).value());
}

DecodedBatch BatchBuilder::take()
{
    batch_.total = count_;
    return std::move(batch_);
}

} // namespace idl::collector::otlp
