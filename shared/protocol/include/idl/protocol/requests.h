#pragma once

#include "idl/core/result.h"

#include <QJsonObject>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// The requests of the gateway protocol (docs/protocol.md), defined once: the console encodes
// them with toJson(), the gateway (WebSocket and HTTP) and the test fake decode them with
// decodeRequest(), which applies every rule the protocol states for a field (type, range,
// allowed values). Rules that need the server's state (time "now", the query parser, RBAC)
// stay with the server's handlers.
namespace idl::protocol {

inline constexpr int kVersion = 1;
inline constexpr std::int64_t kMaxPage = 10000;   // rows in one query page
inline constexpr std::int64_t kMaxChunk = 5000;   // rows in one `rows` message
inline constexpr std::size_t kMaxIdBytes = 64;    // request id length
inline constexpr std::size_t kMaxNameBytes = 200; // saved query name

enum class Order { Desc, Asc };

struct Hello
{
    std::vector<int> versions{kVersion};
    std::string token; // empty: authenticate later with `auth`
    std::string client;
    bool operator==(const Hello &) const = default;
};
struct Auth
{
    std::string token;
    bool operator==(const Auth &) const = default;
};
struct Ping
{
    bool operator==(const Ping &) const = default;
};
// Time range of a request, as the client wrote it (resolved by resolveRange()).
struct Range
{
    std::string from = "-15m";
    std::string to = "now";
    bool operator==(const Range &) const = default;
};
struct Query
{
    std::string q;
    Range range;
    Order order = Order::Desc;
    std::int64_t limit = 500;
    std::int64_t chunk = 500;
    std::string cursor; // empty: the first page
    bool operator==(const Query &) const = default;
};
struct Export
{
    std::string q;
    Range range;
    Order order = Order::Asc;
    std::int64_t chunk = 2000;
    std::vector<std::string> columns; // empty: every column
    std::string cursor;
    bool operator==(const Export &) const = default;
};
struct Aggregate
{
    std::string q;
    Range range;
    std::string split = "level"; // level | app
    std::int64_t bucketMs = 0;   // 0: chosen by the server
    std::int64_t maxSeries = 10;
    bool operator==(const Aggregate &) const = default;
};
struct Top
{
    std::string q;
    Range range;
    std::string field = "app"; // app | host
    std::int64_t limit = 10;
    bool operator==(const Top &) const = default;
};
struct TailStart
{
    std::string q;
    std::string since;                                          // empty: live only
    std::optional<std::map<std::int32_t, std::int64_t>> resume; // partition -> next offset
    bool operator==(const TailStart &) const = default;
};
struct TailStop
{
    std::string target;
    bool operator==(const TailStop &) const = default;
};
struct Cancel
{
    std::string target;
    bool operator==(const Cancel &) const = default;
};
struct SavedList
{
    bool operator==(const SavedList &) const = default;
};
struct SavedGet
{
    std::string uuid;
    bool operator==(const SavedGet &) const = default;
};
struct SavedDelete
{
    std::string uuid;
    bool operator==(const SavedDelete &) const = default;
};
struct SavedPut
{
    std::string uuid; // empty: create
    std::string name;
    std::string q;
    Range range;
    bool shared = false;
    bool operator==(const SavedPut &) const = default;
};
struct TokensList
{
    bool operator==(const TokensList &) const = default;
};
struct TokensCreate
{
    std::string name;
    std::string role = "viewer";   // viewer | editor | admin
    std::vector<std::string> apps; // empty: unscoped (or, for a scoped admin, its own scope)
    bool operator==(const TokensCreate &) const = default;
};
struct TokensRevoke
{
    std::string prefix;
    bool operator==(const TokensRevoke &) const = default;
};

// Dead letters (admin): which ones. Empty strings: any; from/to bound the time it was
// dead-lettered (empty: unbounded).
struct DlqFilter
{
    std::string code;
    std::string app;
    std::string from;
    std::string to;
    bool operator==(const DlqFilter &) const = default;
};
inline constexpr std::int64_t kMaxDlqList = 1000;
inline constexpr std::size_t kMaxDlqReplayIds = 1000;
struct DlqList
{
    DlqFilter filter;
    std::int64_t limit = 200;
    bool operator==(const DlqList &) const = default;
};
struct DlqGet
{
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    bool operator==(const DlqGet &) const = default;
};
struct DlqReplay
{
    std::vector<std::string> ids; // "partition:offset" of each dead letter
    bool all = false;             // instead of ids: every dead letter the filter selects
    DlqFilter filter;
    bool operator==(const DlqReplay &) const = default;
};
// Alert rules (docs/protocol.md 3.10, docs/alerts.md). The limits are migration 300's CHECKs
// (idl::alerter uses the same constants).
inline constexpr std::int64_t kAlertMinWindowMs = 1000, kAlertMaxWindowMs = 604'800'000;
inline constexpr std::int64_t kAlertMinIntervalMs = 1000, kAlertMaxIntervalMs = 86'400'000;
inline constexpr std::int64_t kAlertMaxForMs = 604'800'000; // for_ms and resolve_ms
inline constexpr std::int64_t kAlertMaxThreshold = std::int64_t(1) << 53;
inline constexpr std::size_t kAlertMaxQueryBytes = 4096;
inline constexpr std::size_t kAlertMaxTargets = 10;
inline constexpr std::size_t kAlertMaxUrlBytes = 2048;
inline constexpr std::size_t kAlertMaxTargetsBytes = 16384; // the targets as stored JSON
inline constexpr std::int64_t kAlertMaxTestWindows = 120;
inline constexpr std::int64_t kAlertMaxTestSeries = 50;
inline constexpr std::int64_t kAlertMaxHistory = 1000;
struct AlertTarget
{
    std::string kind; // webhook | slack
    std::string url;  // http:// or https://
    bool operator==(const AlertTarget &) const = default;
};
// A rule as the client writes it (alerts.rules.put, alerts.rules.test).
struct AlertRuleDraft
{
    std::string uuid; // empty: create
    std::string name; // required by alerts.rules.put
    std::string q;
    std::int64_t windowMs = 300'000;
    std::string condition = "above"; // above | below | absent
    std::int64_t threshold = 0;
    std::string groupBy; // "" (one series) | app | host
    std::int64_t intervalMs = 60'000;
    std::int64_t forMs = 0;
    std::int64_t resolveMs = 0;
    std::string severity = "warning"; // info | warning | critical
    std::vector<AlertTarget> targets;
    bool enabled = true;
    bool shared = false;
    bool operator==(const AlertRuleDraft &) const = default;
};
struct AlertsRulesList
{
    bool operator==(const AlertsRulesList &) const = default;
};
struct AlertsRulesGet
{
    std::string uuid;
    bool operator==(const AlertsRulesGet &) const = default;
};
struct AlertsRulesPut
{
    AlertRuleDraft rule;
    bool operator==(const AlertsRulesPut &) const = default;
};
struct AlertsRulesDelete
{
    std::string uuid;
    bool operator==(const AlertsRulesDelete &) const = default;
};
// Counts a draft (not stored) over its last `windows` windows, as the evaluator would.
struct AlertsRulesTest
{
    AlertRuleDraft rule;
    std::int64_t windows = 30;
    std::int64_t maxSeries = 10; // grouped rules: the series with most events
    bool operator==(const AlertsRulesTest &) const = default;
};
// Series now pending or firing; `rule` empty: of every visible rule.
struct AlertsFiring
{
    std::string rule;
    bool operator==(const AlertsFiring &) const = default;
};
// State changes, newest first. Empty strings: any rule, unbounded time.
struct AlertsHistory
{
    std::string rule;
    std::string from;
    std::string to;
    std::int64_t limit = 100;
    std::string cursor; // the `cursor` of the previous page
    bool operator==(const AlertsHistory &) const = default;
};
// The alerts.history cursor: opaque base64url text of the last history id of a page.
std::string encodeHistoryCursor(std::int64_t historyId);
Result<std::int64_t> decodeHistoryCursor(std::string_view cursor); // BadField when malformed

// A dead letter's id: "partition:offset".
std::string formatDlqId(std::int32_t partition, std::int64_t offset);
// "partition:offset" -> (partition, offset); nullopt when malformed.
std::optional<std::pair<std::int32_t, std::int64_t>> parseDlqId(std::string_view id);

using Request =
    std::variant<Hello, Auth, Ping, Query, Export, Aggregate, Top, TailStart, TailStop, Cancel,
                 SavedList, SavedGet, SavedPut, SavedDelete, TokensList, TokensCreate, TokensRevoke,
                 DlqList, DlqGet, DlqReplay, AlertsRulesList, AlertsRulesGet, AlertsRulesPut,
                 AlertsRulesDelete, AlertsRulesTest, AlertsFiring, AlertsHistory>;

// The `type` of a request ("query", "saved.put", ...).
std::string_view typeName(const Request &request);
// Every request type of protocol version 1.
const std::vector<std::string_view> &requestTypes();

// The JSON object of a request, without `id` (the client adds it). Only values that differ
// from the protocol's defaults are written, so a request reads as the docs show it.
QJsonObject toJson(const Request &request);

// The envelope of a client message: a JSON object with an `id` of 1..64 printable ASCII
// characters and a `type`. BadJson when the text is not one JSON object; BadRequest for a bad
// id or a missing type. `id` is filled as soon as it is known, so errors can name it.
struct Envelope
{
    std::string id;
    std::string type;
    QJsonObject body;
};
Result<Envelope> decodeEnvelope(QByteArrayView text, std::string *id = nullptr);

// Decodes the request of an envelope. BadRequest for an unknown type or an unknown export
// column; BadField for a field of the wrong JSON type, out of range or not among the allowed
// values; MissingField for a required field that is absent.
Result<Request> decodeRequest(const Envelope &envelope);

// Reads a rule object (the `rule` of alerts.rules.put / .test, and of the server's
// alerts.rules.result) with the decoder's rules; `requireName` for alerts.rules.put.
Result<AlertRuleDraft> decodeAlertRule(const QJsonObject &rule, bool requireName);
// The rule object of a draft (the keys of docs/protocol.md 3.10).
QJsonObject alertRuleJson(const AlertRuleDraft &rule);

// Time arguments: RFC 3339, ns since the epoch as decimal text, "now", or relative "-15m"
// (units ms s m h d w). BadTimestamp on failure.
Result<std::int64_t> parseTimeArg(std::string_view text, std::int64_t nowNs);
struct Interval
{
    std::int64_t fromNs = 0;
    std::int64_t toNs = 0;
};
// Resolves a range against `nowNs`; BadRequest unless from < to.
Result<Interval> resolveRange(const Range &range, std::int64_t nowNs);

// Export columns (row keys). A bit set of Column values.
enum Column : unsigned {
    ColId = 1u << 0,
    ColTs = 1u << 1,
    ColTime = 1u << 2,
    ColReceived = 1u << 3,
    ColLevel = 1u << 4,
    ColApp = 1u << 5,
    ColHost = 1u << 6,
    ColMessage = 1u << 7,
    ColAttrs = 1u << 8,
    ColTraceId = 1u << 9,
    ColSpanId = 1u << 10,
    ColAll = (1u << 11) - 1,
};
// A column by name ("time", "attrs", ...).
std::optional<unsigned> parseColumn(std::string_view name);
// The column set of an export request (ColAll when it names none).
unsigned columnSet(const Export &request);

// Opaque keyset cursor: base64url of "<ts>|<id>". decodeCursor: BadField when malformed.
std::string encodeCursor(std::int64_t tsNs, std::string_view id);
Result<std::pair<std::int64_t, std::string>> decodeCursor(std::string_view cursor);

} // namespace idl::protocol
