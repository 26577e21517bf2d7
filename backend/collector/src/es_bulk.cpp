// The Elasticsearch bulk API (NDJSON action + source lines) to events, and Elasticsearch's
// reply shapes. The mapping of documents to events is documented in docs/ingest.md.
#include "idl/collector/es_bulk.h"

#include "idl/core/hex.h"
#include "idl/core/json_dom.h"
#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"
#include "idl/core/uuid.h"

#include <simdjson.h>

#include <algorithm>
#include <array>

namespace idl::collector {

namespace {

namespace sj = simdjson;
using sj::dom::element;
using sj::dom::element_type;

constexpr std::string_view kDocumentParsing = "document_parsing_exception";
constexpr std::string_view kIllegalArgument = "illegal_argument_exception";
constexpr std::string_view kValidation = "action_request_validation_exception";
constexpr std::string_view kInvalidIndexName = "invalid_index_name_exception";

bool isBlank(std::string_view line)
{
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

std::optional<std::string_view> stringOf(const element &e)
{
    std::string_view s;
    if (e.get_string().get(s) == sj::SUCCESS)
        return s;
    return std::nullopt;
}

std::optional<element> member(const element &e, std::string_view key)
{
    sj::dom::object obj;
    element v;
    if (e.get_object().get(obj) == sj::SUCCESS && obj[key].get(v) == sj::SUCCESS && !v.is_null())
        return v;
    return std::nullopt;
}

// Elasticsearch's date fields take RFC 3339 with or without a zone (UTC then), a bare date,
// or epoch milliseconds; the unit of a number follows the project's rule (by magnitude).
Result<std::int64_t> readTime(std::string_view key, const element &value)
{
    Result<std::int64_t> ns = std::int64_t{0};
    switch (value.type()) {
    case element_type::STRING: {
        const std::string_view text = *stringOf(value);
        const bool numeric =
            !text.empty() &&
            text.find_first_not_of("0123456789.", text[0] == '-' ? 1 : 0) == std::string_view::npos;
        if (numeric) {
            ns = epochTextToNs(text);
            break;
        }
        ns = parseRfc3339(text);
        if (!ns && text.size() == 10)
            ns = parseRfc3339(std::string(text) + "T00:00:00Z");
        else if (!ns && text.size() > 10 &&
                 text.find_first_of("Zz+", 10) == std::string_view::npos &&
                 text.find('-', 10) == std::string_view::npos)
            ns = parseRfc3339(std::string(text) + "Z");
        break;
    }
    case element_type::INT64: {
        std::int64_t n = 0;
        if (value.get_int64().get(n) == sj::SUCCESS)
            ns = epochToNs(n);
        break;
    }
    case element_type::DOUBLE: {
        double d = 0;
        if (value.get_double().get(d) == sj::SUCCESS)
            ns = epochToNs(static_cast<long double>(d));
        break;
    }
    default:
        ns = makeError(ErrorCode::BadTimestamp, "must be a date string or epoch milliseconds");
    }
    if (!ns) {
        Error e = std::move(ns).error();
        e.message = "failed to parse field [" + std::string(key) + "] of type [date]: " + e.message;
        e.position = -1;
        return e;
    }
    return ns;
}

std::optional<Level> readLevel(const element &value)
{
    if (auto s = stringOf(value))
        return parseLevel(*s);
    std::int64_t n = 0;
    if (value.get_int64().get(n) == sj::SUCCESS)
        return levelFromSyslog(n);
    return std::nullopt;
}

// Elasticsearch's rules for index names (lower-case, no path or wildcard characters, not
// starting with -, _ or +, at most 255 bytes, not . or ..).
std::optional<std::string> indexNameProblem(std::string_view name)
{
    if (name.empty())
        return std::string("index is missing");
    if (name.size() > 255)
        return std::string("index name is longer than 255 bytes");
    if (name == "." || name == "..")
        return "invalid index name [" + std::string(name) + "], must not be '.' or '..'";
    if (name[0] == '-' || name[0] == '_' || name[0] == '+')
        return "invalid index name [" + std::string(name) +
               "], must not start with '_', '-', or '+'";
    for (char c : name) {
        if (c >= 'A' && c <= 'Z')
            return "invalid index name [" + std::string(name) + "], must be lowercase";
        if (std::string_view("\\/*?\"<>| ,#:").find(c) != std::string_view::npos ||
            static_cast<unsigned char>(c) < 0x20)
            return "invalid index name [" + std::string(name) +
                   R"(], must not contain the following characters [ , ", *, \, <, |, ,, >, /, ?, #, :])";
    }
    return std::nullopt;
}

// An item's status and type for a rejection of its document.
EsErrorKind itemKind(ErrorCode code)
{
    switch (code) {
    case ErrorCode::Forbidden:
        return {403, "security_exception"};
    case ErrorCode::TooLarge:
    case ErrorCode::TooMany:
        return {400, kIllegalArgument};
    default:
        return {400, kDocumentParsing};
    }
}

const char *actionName(EsAction a)
{
    switch (a) {
    case EsAction::Create:
        return "create";
    case EsAction::Delete:
        return "delete";
    case EsAction::Update:
        return "update";
    case EsAction::Index:
        break;
    }
    return "index";
}

// A parsed action line.
struct Action
{
    EsAction action = EsAction::Index;
    std::string index;
    std::string id;
};

} // namespace

struct EsBulkDecoder::Impl
{
    explicit Impl(IngestLimits l) : limits(l)
    {
        // Depth is a backstop here; the exact limit is applied while writing attributes.
        if (parser.allocate(std::min<std::size_t>(l.maxEventBytes, 64 * 1024) + 64,
                            std::max<std::size_t>(l.maxDepth, 1) + 2) != sj::SUCCESS)
            allocationFailed = true;
    }

    IngestLimits limits;
    sj::dom::parser parser;
    bool allocationFailed = false;
    LogEvent event;
    std::string attrs;
    std::vector<std::string_view> keys;

    // Parses an action line; an error message when it is not one.
    std::optional<std::string> parseAction(std::string_view line, Action &out)
    {
        if (line.size() > limits.maxFieldBytes)
            return std::string("the action line is over the size limit");
        element root;
        if (allocationFailed ||
            parser.parse(line.data(), line.size(), true).get(root) != sj::SUCCESS)
            return std::string("the action line is not valid JSON");
        sj::dom::object obj;
        if (root.get_object().get(obj) != sj::SUCCESS || obj.size() != 1)
            return std::string("the action line must be an object with exactly one key");
        const auto field = *obj.begin();
        if (field.key == "index")
            out.action = EsAction::Index;
        else if (field.key == "create")
            out.action = EsAction::Create;
        else if (field.key == "delete")
            out.action = EsAction::Delete;
        else if (field.key == "update")
            out.action = EsAction::Update;
        else
            return "expected one of [create, delete, index, update] but found [" +
                   std::string(field.key.substr(0, 64)) + "]";
        sj::dom::object meta;
        if (field.value.get_object().get(meta) != sj::SUCCESS)
            return "the value of [" + std::string(field.key) + "] must be an object";
        out.index.clear();
        out.id.clear();
        element v;
        if (meta["_index"].get(v) == sj::SUCCESS && !v.is_null()) {
            auto s = stringOf(v);
            if (!s)
                return std::string("[_index] must be a string");
            out.index.assign(*s);
        }
        if (meta["_id"].get(v) == sj::SUCCESS && !v.is_null()) {
            auto s = stringOf(v);
            if (!s)
                return std::string("[_id] must be a string");
            if (s->size() > 512)
                return std::string("[_id] is longer than 512 bytes");
            out.id.assign(*s);
        }
        return std::nullopt;
    }

    bool looksLikeAction(std::string_view line)
    {
        Action ignored;
        return !parseAction(line, ignored);
    }

    // Adds one attribute (count, key size, uniqueness); the value is written by `write`.
    template <typename Write> Result<void> addAttribute(std::string_view key, Write &&write)
    {
        if (keys.size() == limits.maxAttributes)
            return makeError(ErrorCode::TooMany,
                             "more than " + std::to_string(limits.maxAttributes) + " attributes");
        if (key.size() > limits.maxFieldBytes)
            return makeError(ErrorCode::TooLarge, "an attribute key is over the size limit");
        if (std::find(keys.begin(), keys.end(), key) != keys.end())
            return makeError(ErrorCode::BadField,
                             "duplicate field [" + std::string(key.substr(0, 64)) + "]");
        if (!keys.empty())
            attrs.push_back(',');
        keys.push_back(key);
        appendJsonString(attrs, key);
        attrs.push_back(':');
        const std::size_t start = attrs.size();
        if (Result<void> r = write(); !r)
            return r;
        if (attrs.size() - start > limits.maxFieldBytes)
            return makeError(ErrorCode::TooLarge, "attribute [" + std::string(key.substr(0, 64)) +
                                                      "] is over the size limit of " +
                                                      std::to_string(limits.maxFieldBytes) +
                                                      " bytes");
        return {};
    }

    // A top-level field that may play a role: its value and position in the document.
    struct Pick
    {
        element value;
        std::size_t pos = 0;
    };

    // One source document to `event` (see docs/ingest.md for the mapping). `event.app` is set
    // only from the document's own service.name/app.
    Result<void> decodeDocument(std::string_view json, std::int64_t receivedNs,
                                std::string_view extraId)
    {
        if (json.size() > limits.maxEventBytes)
            return makeError(ErrorCode::TooLarge, "the document is " + std::to_string(json.size()) +
                                                      " bytes; the limit is " +
                                                      std::to_string(limits.maxEventBytes));
        if (allocationFailed)
            return makeError(ErrorCode::Internal, "JSON parser could not allocate memory");
        element root;
        if (auto code = parser.parse(json.data(), json.size(), true).get(root); code != sj::SUCCESS)
            return jsonParseError(code, json, limits.maxDepth);
        sj::dom::object obj;
        if (root.get_object().get(obj) != sj::SUCCESS)
            return makeError(ErrorCode::NotAnObject, "the document must be a JSON object");

        LogEvent &ev = event;
        ev.id.clear();
        ev.receivedNs = receivedNs;
        ev.tsNs = receivedNs;
        ev.level = Level::Info;
        ev.app.clear();
        ev.host.clear();
        ev.message.clear();
        ev.traceId.clear();
        ev.spanId.clear();

        // Candidates by role; the first present one in priority order wins.
        enum Slot {
            Time,
            TimeAlt,
            Message,
            Msg,
            LogText,
            LevelDotted,
            LevelPlain,
            Severity,
            HostDotted,
            HostText,
            Hostname,
            ServiceDotted,
            ServiceText,
            App,
            TraceDotted,
            TraceFlat,
            SpanDotted,
            SpanFlat,
            LogObj,
            HostObj,
            ServiceObj,
            TraceObj,
            SpanObj,
            SlotCount
        };
        std::array<std::optional<Pick>, SlotCount> pick;
        std::size_t pos = 0;
        for (const auto field : obj) {
            const std::string_view k = field.key;
            const element v = field.value;
            const std::size_t at = pos++;
            if (v.is_null())
                continue;
            const bool isObj = v.type() == element_type::OBJECT;
            const bool isStr = v.type() == element_type::STRING;
            int slot = -1;
            if (k == "@timestamp")
                slot = Time;
            else if (k == "timestamp")
                slot = TimeAlt;
            else if (k == "message")
                slot = Message;
            else if (k == "msg")
                slot = Msg;
            else if (k == "log")
                slot = isStr ? LogText : isObj ? LogObj : -1;
            else if (k == "log.level")
                slot = LevelDotted;
            else if (k == "level")
                slot = LevelPlain;
            else if (k == "severity")
                slot = Severity;
            else if (k == "host.name")
                slot = isStr ? HostDotted : -1;
            else if (k == "host")
                slot = isStr ? HostText : isObj ? HostObj : -1;
            else if (k == "hostname")
                slot = isStr ? Hostname : -1;
            else if (k == "service.name")
                slot = isStr ? ServiceDotted : -1;
            else if (k == "service")
                slot = isStr ? ServiceText : isObj ? ServiceObj : -1;
            else if (k == "app")
                slot = isStr ? App : -1;
            else if (k == "trace.id")
                slot = isStr ? TraceDotted : -1;
            else if (k == "trace")
                slot = isObj ? TraceObj : -1;
            else if (k == "trace_id")
                slot = isStr ? TraceFlat : -1;
            else if (k == "span.id")
                slot = isStr ? SpanDotted : -1;
            else if (k == "span")
                slot = isObj ? SpanObj : -1;
            else if (k == "span_id")
                slot = isStr ? SpanFlat : -1;
            if (slot >= 0 && !pick[static_cast<std::size_t>(slot)])
                pick[static_cast<std::size_t>(slot)] = Pick{v, at};
        }
        auto has = [&](Slot s) { return pick[s].has_value(); };
        auto val = [&](Slot s) { return pick[s]->value; };

        // What was used: top-level fields whole (by position), and one member of an ECS object
        // (log.level, host.name, service.name, trace.id, span.id), which the attribute keeps
        // without that member.
        std::vector<bool> usedWhole(pos, false);
        std::array<std::string_view, SlotCount> usedMember{};
        auto use = [&](Slot s) { usedWhole[pick[s]->pos] = true; };

        // time
        if (has(Time) || has(TimeAlt)) {
            const Slot s = has(Time) ? Time : TimeAlt;
            auto ns = readTime(s == Time ? "@timestamp" : "timestamp", val(s));
            if (!ns)
                return std::move(ns).error();
            ev.tsNs = *ns;
            use(s);
        }
        // message
        for (Slot s : {Message, Msg, LogText}) {
            if (!has(s))
                continue;
            if (auto text = stringOf(val(s)))
                ev.message.assign(*text);
            else if (Result<void> r = appendMinifiedJson(ev.message, val(s), 2, limits.maxDepth);
                     !r)
                return r;
            if (ev.message.size() > limits.maxMessageBytes)
                return makeError(ErrorCode::TooLarge, "the message is " +
                                                          std::to_string(ev.message.size()) +
                                                          " bytes; the limit is " +
                                                          std::to_string(limits.maxMessageBytes));
            use(s);
            break;
        }
        // level: the first candidate that names a level (others stay attributes)
        [&] {
            if (has(LevelDotted))
                if (auto l = readLevel(val(LevelDotted))) {
                    ev.level = *l;
                    return use(LevelDotted);
                }
            if (has(LogObj))
                if (auto m = member(val(LogObj), "level"))
                    if (auto l = readLevel(*m)) {
                        ev.level = *l;
                        usedMember[LogObj] = "level";
                        return;
                    }
            for (Slot s : {LevelPlain, Severity})
                if (has(s))
                    if (auto l = readLevel(val(s))) {
                        ev.level = *l;
                        return use(s);
                    }
        }();
        // host and app: a string, from the dotted key, the ECS object's member, or the plain keys
        auto takeString = [&](std::string &out, Slot dotted, Slot object,
                              std::initializer_list<Slot> plain, const char *what) -> Result<void> {
            std::optional<std::string_view> text;
            if (has(dotted)) {
                text = stringOf(val(dotted));
                use(dotted);
            } else if (has(object)) {
                if (auto m = member(val(object), "name"); m && (text = stringOf(*m)))
                    usedMember[object] = "name";
            }
            for (Slot s : plain) {
                if (text || !has(s))
                    continue;
                text = stringOf(val(s));
                use(s);
            }
            if (!text)
                return {};
            if (text->size() > limits.maxFieldBytes)
                return makeError(ErrorCode::TooLarge,
                                 std::string(what) + " is over the size limit of " +
                                     std::to_string(limits.maxFieldBytes) + " bytes");
            out.assign(*text);
            return {};
        };
        if (Result<void> r = takeString(ev.host, HostDotted, HostObj, {HostText, Hostname}, "host");
            !r)
            return r;
        if (Result<void> r =
                takeString(ev.app, ServiceDotted, ServiceObj, {App, ServiceText}, "service.name");
            !r)
            return r;
        // trace and span ids: only well-formed ones; anything else stays an attribute
        auto takeId = [&](std::string &out, Slot dotted, Slot object, Slot flat,
                          std::size_t length) {
            if (has(dotted))
                if (auto id = traceIdText(*stringOf(val(dotted)), length)) {
                    out = std::move(*id);
                    return use(dotted);
                }
            if (has(object))
                if (auto m = member(val(object), "id"); m && stringOf(*m))
                    if (auto id = traceIdText(*stringOf(*m), length)) {
                        out = std::move(*id);
                        usedMember[object] = "id";
                        return;
                    }
            if (has(flat))
                if (auto id = traceIdText(*stringOf(val(flat)), length)) {
                    out = std::move(*id);
                    use(flat);
                }
        };
        takeId(ev.traceId, TraceDotted, TraceObj, TraceFlat, 32);
        takeId(ev.spanId, SpanDotted, SpanObj, SpanFlat, 16);

        // Everything else is an attribute, values as sent.
        attrs.assign("{");
        keys.clear();
        pos = 0;
        for (const auto field : obj) {
            const std::size_t at = pos++;
            if (usedWhole[at])
                continue;
            std::string_view skip;
            for (Slot s : {LogObj, HostObj, ServiceObj, TraceObj, SpanObj})
                if (has(s) && pick[s]->pos == at)
                    skip = usedMember[s];
            const element v = field.value;
            if (!skip.empty()) {
                sj::dom::object inner;
                if (v.get_object().get(inner) != sj::SUCCESS || inner.size() == 1)
                    continue; // nothing left of it
                Result<void> r = addAttribute(field.key, [&]() -> Result<void> {
                    attrs.push_back('{');
                    bool first = true;
                    for (const auto m : inner) {
                        if (m.key == skip)
                            continue;
                        if (!first)
                            attrs.push_back(',');
                        first = false;
                        appendJsonString(attrs, m.key);
                        attrs.push_back(':');
                        if (Result<void> w = appendMinifiedJson(attrs, m.value, 3, limits.maxDepth);
                            !w)
                            return w;
                    }
                    attrs.push_back('}');
                    return {};
                });
                if (!r)
                    return r;
                continue;
            }
            if (Result<void> r = addAttribute(
                    field.key, [&] { return appendMinifiedJson(attrs, v, 2, limits.maxDepth); });
                !r)
                return r;
        }
        if (!extraId.empty()) {
            if (Result<void> r = addAttribute("_id",
                                              [&]() -> Result<void> {
                                                  appendJsonString(attrs, extraId);
                                                  return {};
                                              });
                !r)
                return r;
        }
        attrs.push_back('}');
        ev.attrsJson.swap(attrs);
        return {};
    }
};

EsBulkDecoder::EsBulkDecoder(IngestLimits limits) : d(std::make_unique<Impl>(limits)) {}
EsBulkDecoder::~EsBulkDecoder() = default;

Result<EsBulkBatch> EsBulkDecoder::decode(std::string_view body, std::string_view pathIndex,
                                          std::int64_t receivedNs, const BatchLimits &limits,
                                          const EventCheck &check, EncodedEvents storage)
{
    EsBulkBatch out;
    out.batch.encoded = std::move(storage);
    out.batch.encoded.clear();
    std::vector<std::string> apps; // esIndexToApp of each entry of out.indices

    std::size_t pos = 0;
    std::size_t lineNo = 0;
    // The next non-blank line (without its \r), or nullopt at the end.
    auto nextLine = [&]() -> std::optional<std::string_view> {
        while (pos < body.size()) {
            const std::size_t nl = body.find('\n', pos);
            const std::size_t end = nl == std::string_view::npos ? body.size() : nl;
            std::string_view line = body.substr(pos, end - pos);
            pos = nl == std::string_view::npos ? body.size() : nl + 1;
            ++lineNo;
            if (!line.empty() && line.back() == '\r')
                line.remove_suffix(1);
            if (!isBlank(line))
                return line;
        }
        return std::nullopt;
    };
    auto peekIsAction = [&]() {
        const std::size_t savedPos = pos, savedLine = lineNo;
        auto line = nextLine();
        pos = savedPos;
        lineNo = savedLine;
        return !line || d->looksLikeAction(*line);
    };
    auto indexRef = [&](std::string_view name) -> std::uint32_t {
        if (!out.indices.empty() && out.indices.back() == name)
            return static_cast<std::uint32_t>(out.indices.size() - 1);
        for (std::size_t i = 0; i < out.indices.size(); ++i)
            if (out.indices[i] == name)
                return static_cast<std::uint32_t>(i);
        out.indices.emplace_back(name);
        apps.push_back(esIndexToApp(name));
        return static_cast<std::uint32_t>(out.indices.size() - 1);
    };

    Action action;
    while (auto line = nextLine()) {
        if (out.items.size() == limits.maxEvents)
            return makeError(ErrorCode::TooMany, "more than " + std::to_string(limits.maxEvents) +
                                                     " items in one bulk request");
        const std::size_t itemIndex = out.items.size();
        EsBulkItem &item = out.items.emplace_back();
        auto fail = [&](int status, std::string_view type, std::string reason, ErrorCode code) {
            item.status = status;
            item.errorType = type;
            item.reason = reason;
            out.batch.reject(itemIndex, makeError(code, std::move(reason)), limits.maxErrors);
        };
        const std::size_t actionLine = lineNo;
        if (auto problem = d->parseAction(*line, action)) {
            // Its source line (if any) and anything up to the next valid action line belong
            // to this item: nothing after it is lost.
            item.indexRef = indexRef(pathIndex);
            fail(400, kIllegalArgument,
                 "Malformed action/metadata line [" + std::to_string(actionLine) + "]: " + *problem,
                 ErrorCode::BadRequest);
            while (!peekIsAction())
                nextLine();
            continue;
        }
        item.action = action.action;
        const std::string_view index = action.index.empty() ? pathIndex : action.index;
        item.indexRef = indexRef(index);
        item.id = action.id;
        if (action.action == EsAction::Delete || action.action == EsAction::Update) {
            if (action.action == EsAction::Update)
                nextLine(); // its source line
            fail(400, kValidation,
                 std::string(actionName(action.action)) +
                     " is not supported: the log store is append-only (use index or create)",
                 ErrorCode::BadRequest);
            continue;
        }
        auto source = nextLine();
        if (!source) {
            fail(400, kValidation,
                 "the action on line " + std::to_string(actionLine) + " has no source line",
                 ErrorCode::BadRequest);
            continue;
        }
        if (auto problem = indexNameProblem(index)) {
            fail(400, index.empty() ? kValidation : kInvalidIndexName, *problem,
                 ErrorCode::BadField);
            continue;
        }
        const bool idIsUuid = !action.id.empty() && isValidUuid(action.id);
        if (Result<void> r =
                d->decodeDocument(*source, receivedNs, idIsUuid ? std::string_view() : action.id);
            !r) {
            const EsErrorKind kind = itemKind(r.error().code);
            fail(kind.status, kind.type, r.error().message, r.error().code);
            continue;
        }
        LogEvent &ev = d->event;
        if (idIsUuid) {
            ev.id = action.id;
            std::transform(ev.id.begin(), ev.id.end(), ev.id.begin(),
                           [](char c) { return (c >= 'A' && c <= 'F') ? char(c - 'A' + 'a') : c; });
        } else
            assignNewEventId(ev.id);
        if (check)
            if (auto e = check(ev)) {
                const EsErrorKind kind = itemKind(e->code);
                fail(kind.status, kind.type, e->message, e->code);
                continue;
            }
        if (ev.app.empty())
            ev.app = apps[item.indexRef];
        if (item.id.empty())
            item.id = ev.id;
        out.batch.encoded.append(ev);
    }
    out.batch.total = out.items.size();
    if (out.items.empty())
        return makeError(ErrorCode::BadRequest, "Validation Failed: 1: no requests added;");
    return out;
}

std::string esIndexToApp(std::string_view index)
{
    auto digits = [](std::string_view s) {
        return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
    };
    // logs-<app>-<namespace> / logs-<app>
    if (index.substr(0, 5) == "logs-" && index.size() > 5) {
        std::string_view rest = index.substr(5);
        if (const auto dash = rest.rfind('-'); dash != std::string_view::npos && dash > 0)
            rest = rest.substr(0, dash);
        return std::string(rest);
    }
    // <name>-<date or version>: YYYY.MM.DD, YYYY.MM, YYYY-MM-DD, N.N.N
    std::string_view name = index;
    if (name.size() > 11 && name[name.size() - 11] == '-') { // -YYYY-MM-DD
        const std::string_view d = name.substr(name.size() - 10);
        if (digits(d.substr(0, 4)) && d[4] == '-' && digits(d.substr(5, 2)) && d[7] == '-' &&
            digits(d.substr(8, 2)))
            return std::string(name.substr(0, name.size() - 11));
    }
    if (const auto dash = name.rfind('-'); dash != std::string_view::npos && dash > 0) {
        const std::string_view suffix = name.substr(dash + 1);
        bool dotted = !suffix.empty();
        std::size_t parts = 0;
        std::size_t start = 0;
        while (dotted && start <= suffix.size()) {
            const auto dot = suffix.find('.', start);
            const auto part = suffix.substr(
                start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
            dotted = digits(part);
            ++parts;
            if (dot == std::string_view::npos)
                break;
            start = dot + 1;
        }
        if (dotted && parts >= 2)
            return std::string(name.substr(0, dash));
    }
    return std::string(name);
}

std::optional<std::string_view> esBulkPathIndex(std::string_view path)
{
    constexpr std::string_view suffix = "/_bulk";
    if (path.size() <= suffix.size() + 1 || path[0] != '/' ||
        path.substr(path.size() - suffix.size()) != suffix)
        return std::nullopt;
    const std::string_view index = path.substr(1, path.size() - suffix.size() - 1);
    if (index.empty() || index.find('/') != std::string_view::npos)
        return std::nullopt;
    return index;
}

std::string esBulkResponse(const EsBulkBatch &bulk, std::int64_t tookMs)
{
    std::string out;
    out.reserve(64 + bulk.items.size() * 200);
    JsonWriter w(out);
    w.beginObject();
    w.key("took");
    w.value(std::max<std::int64_t>(0, tookMs));
    w.key("errors");
    w.value(bulk.batch.rejected > 0);
    w.key("items");
    w.beginArray();
    std::uint64_t seqNo = 0;
    for (const EsBulkItem &item : bulk.items) {
        w.beginObject();
        w.key(actionName(item.action));
        w.beginObject();
        w.key("_index");
        w.value(bulk.indices[item.indexRef]);
        w.key("_id");
        if (item.id.empty())
            w.null();
        else
            w.value(item.id);
        if (item.status == 201) {
            w.key("_version");
            w.value(1);
            w.key("result");
            w.value("created");
            w.key("_shards");
            w.raw(R"({"total":1,"successful":1,"failed":0})");
            w.key("_seq_no");
            w.value(seqNo++);
            w.key("_primary_term");
            w.value(1);
            w.key("status");
            w.value(201);
        } else {
            w.key("status");
            w.value(item.status);
            w.key("error");
            w.beginObject();
            w.key("type");
            w.value(item.errorType);
            w.key("reason");
            w.value(item.reason);
            w.endObject();
        }
        w.endObject();
        w.endObject();
    }
    w.endArray();
    w.endObject();
    return out;
}

EsErrorKind esErrorKind(ErrorCode code)
{
    switch (code) {
    case ErrorCode::Unauthenticated:
        return {401, "security_exception"};
    case ErrorCode::Forbidden:
        return {403, "security_exception"};
    case ErrorCode::RateLimited:
    case ErrorCode::Overloaded:
        return {429, "es_rejected_execution_exception"};
    case ErrorCode::Unavailable:
    case ErrorCode::Timeout:
        return {503, "unavailable_shards_exception"};
    case ErrorCode::TooLarge:
    case ErrorCode::TooMany:
        return {413, "request_entity_too_large_exception"};
    case ErrorCode::BadEncoding:
        return {406, "media_type_header_exception"};
    case ErrorCode::BadRequest:
        return {400, kValidation};
    case ErrorCode::NotFound:
        return {404, "resource_not_found_exception"};
    case ErrorCode::Internal:
    case ErrorCode::Cancelled:
    case ErrorCode::Conflict:
    case ErrorCode::QuerySyntax:
    case ErrorCode::QueryTooComplex:
        return {500, "exception"};
    default:
        return {400, "parse_exception"};
    }
}

std::string esErrorBody(int status, std::string_view type, std::string_view reason)
{
    std::string out;
    JsonWriter w(out);
    w.beginObject();
    w.key("error");
    w.beginObject();
    w.key("root_cause");
    w.beginArray();
    w.beginObject();
    w.key("type");
    w.value(type);
    w.key("reason");
    w.value(reason);
    w.endObject();
    w.endArray();
    w.key("type");
    w.value(type);
    w.key("reason");
    w.value(reason);
    w.endObject();
    w.key("status");
    w.value(status);
    w.endObject();
    return out;
}

std::string esInfoBody(std::string_view nodeName)
{
    std::string out;
    JsonWriter w(out);
    w.beginObject();
    w.key("name");
    w.value(nodeName);
    w.key("cluster_name");
    w.value("instant-dev-logs");
    w.key("cluster_uuid");
    w.value("aW5zdGFudC1kZXYtbG9ncw");
    w.key("version");
    w.beginObject();
    w.key("number");
    w.value(kEsCompatVersion);
    w.key("build_flavor");
    w.value("default");
    w.key("build_type");
    w.value("idl-collector");
    w.key("build_hash");
    w.value("0000000000000000000000000000000000000000");
    w.key("build_date");
    w.value("2024-12-11T00:00:00.000000000Z");
    w.key("build_snapshot");
    w.value(false);
    w.key("lucene_version");
    w.value("9.12.0");
    w.key("minimum_wire_compatibility_version");
    w.value("7.17.0");
    w.key("minimum_index_compatibility_version");
    w.value("7.0.0");
    w.endObject();
    w.key("tagline");
    w.value("You Know, for Search");
    w.endObject();
    return out;
}

std::string esLicenseBody()
{
    return R"({"license":{"status":"active","uid":"00000000-0000-4000-8000-000000000000",)"
           R"("type":"basic","issue_date":"2024-01-01T00:00:00.000Z",)"
           R"("issue_date_in_millis":1704067200000,"max_nodes":1000,"max_resource_units":null,)"
           R"("issued_to":"instant-dev-logs","issuer":"elasticsearch",)"
           R"("start_date_in_millis":-1}})";
}

std::string esXpackBody()
{
    return R"({"build":{"hash":"0000000000000000000000000000000000000000",)"
           R"("date":"2024-12-11T00:00:00.000000000Z"},)"
           R"("license":{"uid":"00000000-0000-4000-8000-000000000000","type":"basic",)"
           R"("mode":"basic","status":"active"},)"
           R"("features":{"ilm":{"available":true,"enabled":true},)"
           R"("security":{"available":true,"enabled":true}},)"
           R"("tagline":"You know, for X"})";
}

std::string esClusterHealthBody()
{
    return R"({"cluster_name":"instant-dev-logs","status":"green","timed_out":false,)"
           R"("number_of_nodes":1,"number_of_data_nodes":1,"active_primary_shards":0,)"
           R"("active_shards":0,"relocating_shards":0,"initializing_shards":0,)"
           R"("unassigned_shards":0,"delayed_unassigned_shards":0,)"
           R"("number_of_pending_tasks":0,"number_of_in_flight_fetch":0,)"
           R"("task_max_waiting_in_queue_millis":0,"active_shards_percent_as_number":100.0})";
}

} // namespace idl::collector
