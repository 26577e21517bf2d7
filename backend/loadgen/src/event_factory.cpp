#include "idl/loadgen/event_factory.h"

#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"

#include <array>
#include <vector>

namespace idl::loadgen {

namespace {

struct App
{
    std::string_view name;
    std::array<std::string_view, 3> hosts;
    std::string_view region;
};

constexpr std::array<App, 7> kApps{{
    {"checkout", {"web-1", "web-2", "web-3"}, "eu-west-1"},
    {"payments", {"pay-1", "pay-2", "pay-3"}, "eu-west-1"},
    {"search", {"search-1", "search-2", "search-3"}, "us-east-1"},
    {"auth", {"auth-1", "auth-2", "auth-1"}, "eu-central-1"},
    {"inventory", {"inv-1", "inv-2", "inv-1"}, "us-east-1"},
    {"notifications", {"notify-1", "notify-2", "notify-1"}, "eu-west-1"},
    {"gateway", {"edge-1", "edge-2", "edge-3"}, "us-west-2"},
}};

constexpr std::array<std::string_view, 6> kLevels{"trace", "debug", "info",
                                                  "warn",  "error", "fatal"};
// OTLP severity numbers of the levels above.
constexpr std::array<int, 6> kSeverity{1, 5, 9, 13, 17, 21};

constexpr std::array<std::string_view, 8> kPaths{
    "/api/orders",   "/api/cart/items", "/api/users/me", "/api/search",
    "/api/products", "/healthz",        "/api/payments", "/api/login"};
constexpr std::array<std::string_view, 4> kMethods{"GET", "GET", "POST", "PUT"};
constexpr std::array<std::string_view, 6> kTables{"orders", "users",    "sessions",
                                                  "items",  "payments", "stock"};
constexpr std::array<std::string_view, 4> kUpstreams{"postgres-primary", "redis-cache",
                                                     "billing-api", "search-index"};
constexpr std::string_view kWords = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do "
                                    "eiusmod tempor incididunt ut labore et dolore magna aliqua ";

int levelFor(std::uint32_t p)
{
    return p < 2 ? 0 : p < 15 ? 1 : p < 80 ? 2 : p < 92 ? 3 : p < 99 ? 4 : 5;
}

void appendHex(std::string &out, std::uint64_t v, int digits)
{
    static constexpr char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; --i)
        out += hex[(v >> (4 * (i % 16))) & 0xf];
}

void appendNum(std::string &out, std::uint64_t v)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        out += buf[--n];
}

enum class Kind { Str, Int };

struct Attr
{
    std::string_view key;
    Kind kind;
    std::string str;
    std::int64_t num = 0;
};

} // namespace

struct EventFactory::Draft
{
    int app = 0;
    int host = 0;
    int level = 2;
    std::int64_t ts = 0;
    std::string msg;
    std::string traceId;
    std::string spanId;
    std::vector<Attr> attrs;
    int nAttrs = 0;

    Attr &add(std::string_view key, Kind kind)
    {
        if (static_cast<std::size_t>(nAttrs) == attrs.size())
            attrs.emplace_back();
        Attr &a = attrs[static_cast<std::size_t>(nAttrs++)];
        a.key = key;
        a.kind = kind;
        a.str.clear();
        a.num = 0;
        return a;
    }
    void addStr(std::string_view key, std::string_view v) { add(key, Kind::Str).str.assign(v); }
    void addInt(std::string_view key, std::int64_t v) { add(key, Kind::Int).num = v; }
};

EventFactory::EventFactory(std::string generatorId, std::uint64_t seed, int payloadBytes)
    : m_generatorId(std::move(generatorId)), m_state(seed * 0x9e3779b97f4a7c15ULL + 1),
      m_payloadBytes(payloadBytes)
{}

std::uint64_t EventFactory::next()
{
    // splitmix64: fast, good enough for synthetic data.
    std::uint64_t z = (m_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void EventFactory::draft(Draft &d, std::uint64_t seq, std::int64_t nowNs)
{
    d.nAttrs = 0;
    d.msg.clear();
    d.traceId.clear();
    d.spanId.clear();
    // Popularity is skewed: the first apps log more.
    const std::uint32_t a = below(28);
    d.app = a < 7 ? 0 : a < 13 ? 1 : a < 18 ? 2 : a < 22 ? 3 : a < 25 ? 4 : a < 27 ? 5 : 6;
    d.host = static_cast<int>(below(3));
    d.level = levelFor(below(100));
    // Applications stamp events slightly before they reach the collector.
    d.ts = nowNs - static_cast<std::int64_t>(below(50'000'000));
    const App &app = kApps[static_cast<std::size_t>(d.app)];
    const std::uint32_t duration = 1 + below(below(10) == 0 ? 5000 : 250);
    const std::uint64_t user = 1 + below(50'000);
    switch (d.level) {
    case 0:
    case 1: {
        const auto table = kTables[below(kTables.size())];
        if (below(2) == 0) {
            d.msg = "SELECT * FROM ";
            d.msg += table;
            d.msg += " WHERE id = $1 took ";
            appendNum(d.msg, duration / 10);
            d.msg += " ms";
            d.addStr("db.table", table);
            d.addInt("rows", below(200));
        } else {
            d.msg = "cache miss for key ";
            d.msg += table;
            d.msg += ':';
            appendNum(d.msg, user);
            d.addStr("cache", "redis");
        }
        break;
    }
    case 2: {
        const auto method = kMethods[below(kMethods.size())];
        const auto path = kPaths[below(kPaths.size())];
        if (below(5) != 0) {
            d.msg.assign(method);
            d.msg += ' ';
            d.msg += path;
            d.msg += " 200 in ";
            appendNum(d.msg, duration);
            d.msg += " ms";
            d.addStr("http.method", method);
            d.addStr("http.path", path);
            d.addInt("http.status", 200);
            d.addInt("duration_ms", duration);
        } else {
            d.msg = "job ";
            appendNum(d.msg, below(100'000));
            d.msg += " finished: processed ";
            appendNum(d.msg, below(10'000));
            d.msg += " records";
            d.addStr("job.kind", below(2) ? "reindex" : "email-digest");
        }
        d.addInt("user.id", static_cast<std::int64_t>(user));
        break;
    }
    case 3: {
        d.msg = "slow request: ";
        d.msg += kPaths[below(kPaths.size())];
        d.msg += " took ";
        appendNum(d.msg, 1000 + duration);
        d.msg += " ms (budget 1000 ms)";
        d.addInt("duration_ms", 1000 + duration);
        d.addInt("http.status", below(4) ? 200 : 404);
        break;
    }
    default: {
        const auto upstream = kUpstreams[below(kUpstreams.size())];
        d.msg = "upstream ";
        d.msg += upstream;
        d.msg += " failed: connection reset by peer after ";
        appendNum(d.msg, duration);
        d.msg += " ms";
        if (d.level == 5 || below(3) == 0) {
            // A short stack trace, as error logs often carry.
            d.msg += "\n  at ";
            d.msg += app.name;
            d.msg += ".client.call(client.go:";
            appendNum(d.msg, 40 + below(400));
            d.msg += ")\n  at ";
            d.msg += app.name;
            d.msg += ".handler.serve(handler.go:";
            appendNum(d.msg, 40 + below(400));
            d.msg += ")";
        }
        d.addStr("error.kind", "ECONNRESET");
        d.addStr("upstream", upstream);
        d.addInt("http.status", below(2) ? 502 : 503);
        d.addInt("retry", below(4));
        break;
    }
    }
    d.addStr("region", app.region);
    std::string &rid = d.add("request_id", Kind::Str).str;
    appendHex(rid, next(), 16);
    if (below(3) == 0) {
        appendHex(d.traceId, next(), 16);
        appendHex(d.traceId, next(), 16);
        appendHex(d.spanId, next(), 16);
    }
    if (m_payloadBytes > 0) {
        const int n = m_payloadBytes / 2 +
                      static_cast<int>(below(static_cast<std::uint32_t>(m_payloadBytes) + 1));
        std::string &p = d.add("payload", Kind::Str).str;
        std::size_t off = below(static_cast<std::uint32_t>(kWords.size()));
        while (static_cast<int>(p.size()) < n) {
            p += kWords[off];
            off = (off + 1) % kWords.size();
        }
    }
    d.addStr(kGeneratorAttr, m_generatorId);
    d.addInt(kSequenceAttr, static_cast<std::int64_t>(seq));
}

void EventFactory::appendBody(std::string &out, Format format, std::uint64_t firstSeq, int n,
                              std::int64_t nowNs)
{
    thread_local std::vector<Draft> drafts;
    if (drafts.size() < static_cast<std::size_t>(n))
        drafts.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        draft(drafts[static_cast<std::size_t>(i)], firstSeq + static_cast<std::uint64_t>(i), nowNs);

    if (format == Format::Native) {
        for (int i = 0; i < n; ++i) {
            const Draft &d = drafts[static_cast<std::size_t>(i)];
            const App &app = kApps[static_cast<std::size_t>(d.app)];
            out += "{\"ts\":\"";
            out += formatRfc3339Millis(d.ts);
            out += "\",\"level\":\"";
            out += kLevels[static_cast<std::size_t>(d.level)];
            out += "\",\"app\":\"";
            out += app.name;
            out += "\",\"host\":\"";
            out += app.hosts[static_cast<std::size_t>(d.host)];
            out += "\",\"msg\":";
            appendJsonString(out, d.msg);
            if (!d.traceId.empty()) {
                out += ",\"trace_id\":\"";
                out += d.traceId;
                out += "\",\"span_id\":\"";
                out += d.spanId;
                out += '"';
            }
            out += ",\"attrs\":{";
            for (int k = 0; k < d.nAttrs; ++k) {
                const Attr &a = d.attrs[static_cast<std::size_t>(k)];
                if (k)
                    out += ',';
                appendJsonString(out, a.key);
                out += ':';
                if (a.kind == Kind::Str)
                    appendJsonString(out, a.str);
                else
                    appendJsonInt(out, a.num);
            }
            out += "}}\n";
        }
        return;
    }

    // OTLP JSON: one resourceLogs per (app, host), as an SDK batches per resource.
    out += "{\"resourceLogs\":[";
    bool firstResource = true;
    for (int app = 0; app < static_cast<int>(kApps.size()); ++app) {
        for (int host = 0; host < 3; ++host) {
            bool any = false;
            for (int i = 0; i < n; ++i) {
                const Draft &d = drafts[static_cast<std::size_t>(i)];
                if (d.app != app || d.host != host)
                    continue;
                if (!any) {
                    any = true;
                    if (!firstResource)
                        out += ',';
                    firstResource = false;
                    out += "{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{"
                           "\"stringValue\":\"";
                    out += kApps[static_cast<std::size_t>(app)].name;
                    out += "\"}},{\"key\":\"host.name\",\"value\":{\"stringValue\":\"";
                    out +=
                        kApps[static_cast<std::size_t>(app)].hosts[static_cast<std::size_t>(host)];
                    out += "\"}}]},\"scopeLogs\":[{\"scope\":{\"name\":\"idl-loadgen\"},"
                           "\"logRecords\":[";
                } else {
                    out += ',';
                }
                out += "{\"timeUnixNano\":\"";
                appendNum(out, static_cast<std::uint64_t>(d.ts));
                out += "\",\"severityNumber\":";
                appendNum(out,
                          static_cast<std::uint64_t>(kSeverity[static_cast<std::size_t>(d.level)]));
                out += ",\"severityText\":\"";
                out += kLevels[static_cast<std::size_t>(d.level)];
                out += "\",\"body\":{\"stringValue\":";
                appendJsonString(out, d.msg);
                out += '}';
                if (!d.traceId.empty()) {
                    out += ",\"traceId\":\"";
                    out += d.traceId;
                    out += "\",\"spanId\":\"";
                    out += d.spanId;
                    out += '"';
                }
                out += ",\"attributes\":[";
                for (int k = 0; k < d.nAttrs; ++k) {
                    const Attr &a = d.attrs[static_cast<std::size_t>(k)];
                    if (k)
                        out += ',';
                    out += "{\"key\":";
                    appendJsonString(out, a.key);
                    if (a.kind == Kind::Str) {
                        out += ",\"value\":{\"stringValue\":";
                        appendJsonString(out, a.str);
                    } else {
                        out += ",\"value\":{\"intValue\":\"";
                        appendJsonInt(out, a.num);
                        out += '"';
                    }
                    out += "}}";
                }
                out += "]}";
            }
            if (any)
                out += "]}]}";
        }
    }
    out += "]}";
}

std::string_view EventFactory::contentType(Format format)
{
    return format == Format::Native ? "application/x-ndjson" : "application/json";
}

std::string_view EventFactory::path(Format format)
{
    return format == Format::Native ? "/api/v1/logs" : "/v1/logs";
}

bool EventFactory::parseFormat(std::string_view text, Format &format)
{
    if (text == "native" || text == "ndjson") {
        format = Format::Native;
        return true;
    }
    if (text == "otlp") {
        format = Format::Otlp;
        return true;
    }
    return false;
}

} // namespace idl::loadgen
