#pragma once

#include "idl/core/error.h"
#include "idl/core/log_event.h"
#include "idl/protocol/requests.h"

#include <QJsonObject>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The server's messages of the gateway protocol (docs/protocol.md), written once: the gateway
// and the test fake both encode their replies here, so they cannot disagree on a key, a type
// or a code. Every encoder returns (or appends to) one JSON text message.
namespace idl::protocol {

// Who a session is authenticated as.
struct Identity
{
    std::string user;
    std::string role;              // viewer | editor | admin
    std::vector<std::string> apps; // empty: every app
};

// Limits announced in `hello`.
struct Limits
{
    std::int64_t maxMessageBytes = 1 << 20;
    int maxInflight = 8;
    int maxTails = 2;
    std::int64_t idleTimeoutMs = 300000;
    double ratePerSecond = 50;
    double rateBurst = 100;
};

// {"type":"error","id":...,"code":...,"message":...[,"position"][,"retry_after_ms"]};
// an empty id is written as null (the request could not be identified).
std::string errorMessage(std::string_view id, const Error &error,
                         std::optional<std::int64_t> retryAfterMs = std::nullopt);
// {"type":"ok","id":...} and {"type":"pong","id":...}.
std::string okMessage(std::string_view id);
std::string pongMessage(std::string_view id);
// `hello` reply; `who` is null while not authenticated.
std::string helloMessage(std::string_view id, std::string_view server, const Identity *who,
                         const Limits &limits);
// `auth.ok` reply.
std::string authOkMessage(std::string_view id, const Identity &who);

// One `rows` message: beginRows, then each row object appended by the caller (appendEvent or
// the server's own row writer) with a ',' between rows, then endRows.
void beginRows(std::string &out, std::string_view id, std::int64_t seq);
struct Progress
{
    std::int64_t rows = 0;
    double fraction = 0; // share of the time range covered, 0..1
};
void endRows(std::string &out, const std::optional<Progress> &progress = std::nullopt);
// The fields of one event row as text (a stored row or an event): the one row writer below
// serves the gateway's database rows, its live tail and the test fake.
struct RowView
{
    std::string_view id;
    std::int64_t tsNs = 0;
    std::string_view ts;       // tsNs as decimal text
    std::string_view received; // ns as decimal text
    std::string_view level;    // level name
    std::string_view app;
    std::string_view host;
    std::string_view message;
    std::string_view attrs; // a JSON object; empty reads as {}
    std::string_view traceId;
    std::string_view spanId;
};
// Appends one event row object (section 1 of the protocol) with the chosen columns (a bit set
// of Column, requests.h).
void appendRow(std::string &out, const RowView &row, unsigned columns);
void appendEvent(std::string &out, const LogEvent &event, unsigned columns);

// `done` ending a query or an export; an empty cursor is written as null.
std::string doneMessage(std::string_view id, std::int64_t count, std::string_view cursor,
                        std::int64_t elapsedMs);

struct AggregateResult
{
    std::int64_t bucketMs = 0;
    std::string source; // rollup | raw
    std::int64_t fromNs = 0;
    std::int64_t toNs = 0;
    std::vector<std::string> keys;
    std::vector<std::map<std::string, std::int64_t>> buckets; // counts per bucket from fromNs
    std::int64_t total = 0;
    std::int64_t elapsedMs = 0;
};
std::string aggregateResultMessage(std::string_view id, const AggregateResult &result);

struct TopItem
{
    std::string value;
    std::int64_t count = 0;
};
struct TopResult
{
    std::string field;  // app | host
    std::string source; // rollup | raw
    std::vector<TopItem> items;
    std::int64_t elapsedMs = 0;
};
std::string topResultMessage(std::string_view id, const TopResult &result);

using Positions = std::map<std::int32_t, std::int64_t>; // partition -> next offset
std::string tailStartedMessage(std::string_view id, std::string_view topic,
                               const Positions &positions, bool truncated);
// One `tail.events` frame: beginTailEvents, the event row objects separated by ',', then
// endTailEvents.
void beginTailEvents(std::string &out, std::string_view id, bool history);
void endTailEvents(std::string &out, std::uint64_t dropped, std::uint64_t droppedTotal,
                   const Positions &positions);

struct SavedQuery
{
    std::string uuid;
    std::string name;
    std::string q;
    std::string from;
    std::string to;
    bool shared = false;
    std::string owner;
    std::string created; // RFC 3339
    std::string updated;
};
std::string savedListMessage(std::string_view id, const std::vector<SavedQuery> &items);
std::string savedResultMessage(std::string_view id, const SavedQuery &saved);

struct TokenInfo
{
    std::string prefix;
    std::string name;
    std::string role;
    std::vector<std::string> apps;
    std::string created;
    std::optional<std::string> revoked;
};
std::string tokensListMessage(std::string_view id, const std::vector<TokenInfo> &items);
std::string tokensCreatedMessage(std::string_view id, std::string_view prefix,
                                 std::string_view token);

// One dead letter as listed (docs/protocol.md, 3.9).
struct DeadLetter
{
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::int64_t deadAtNs = 0;    // when it was dead-lettered (0: unknown)
    std::int64_t firstSeenNs = 0; // when the processor first saw it (0: unknown)
    std::string app;              // the record's key (the collector keys records by app)
    std::string code;             // idl-error-code
    std::string reason;           // idl-error-message
    std::int64_t attempts = 0;
    std::string sourceTopic;
    std::int64_t sourcePartition = -1;
    std::int64_t sourceOffset = -1;
    std::int64_t bytes = 0; // size of the stored payload
    std::string replayedAt; // RFC 3339; empty: not replayed through the gateway
    std::string replayedBy;
};
// `dlq.list.result`; `more`: the filter selects more than `limit` (the newest are listed).
std::string dlqListMessage(std::string_view id, const std::vector<DeadLetter> &items, bool more);
// `dlq.result`: one dead letter with its headers and payload (the stored bytes as text).
std::string dlqResultMessage(std::string_view id, const DeadLetter &letter,
                             const std::vector<std::pair<std::string, std::string>> &headers,
                             std::string_view payload);
// `dlq.replay.result`: `replayed` sent back to the raw topic and acknowledged; `skipped`
// already replayed before (never twice); `ids` the ones replayed now.
std::string dlqReplayResultMessage(std::string_view id, std::int64_t replayed, std::int64_t skipped,
                                   const std::vector<std::string> &ids, bool more);

// --- alerts (docs/protocol.md 3.10)

// A stored rule as the server lists it: the draft's keys (with uuid) plus who owns it and
// what the evaluator last did. Times RFC 3339 (ms); empty lastEval/lastError: null.
struct AlertRule
{
    AlertRuleDraft rule;
    std::string owner;
    std::vector<std::string> apps; // the app scope it counts; empty: every app (null)
    std::string created;
    std::string updated;
    std::string lastEval;
    std::string lastError;
};
std::string alertRulesListMessage(std::string_view id, const std::vector<AlertRule> &items);
std::string alertRuleResultMessage(std::string_view id, const AlertRule &rule);

// alerts.rules.test.result: the draft's counts over consecutive windows, like
// aggregate.result: bucket i covers [fromNs + i*window, fromNs + (i+1)*window); counts per
// series key ("" for a rule without group_by; absent keys are 0); `holds` the keys whose
// count meets the condition in that window.
struct AlertTestResult
{
    std::int64_t windowMs = 0;
    std::int64_t fromNs = 0;
    std::int64_t toNs = 0;
    std::string condition;
    std::int64_t threshold = 0;
    std::vector<std::string> keys;
    struct Bucket
    {
        std::int64_t tNs = 0;
        std::map<std::string, std::int64_t> counts;
        std::vector<std::string> holds;
    };
    std::vector<Bucket> buckets;
    bool truncated = false; // a grouped rule had more series than max_series
    std::int64_t elapsedMs = 0;
};
std::string alertTestResultMessage(std::string_view id, const AlertTestResult &result);

// A series pending or firing (alerts.firing.result).
struct AlertSeries
{
    std::string rule; // uuid
    std::string name;
    std::string severity;
    std::string series;
    std::string state; // pending | firing
    std::int64_t sinceNs = 0;
    std::int64_t value = 0;
    std::int64_t evaluatedNs = 0;
};
std::string alertsFiringMessage(std::string_view id, const std::vector<AlertSeries> &items);

// A state change (an item of alerts.history.result, and the pushed alert.state).
struct AlertChange
{
    std::int64_t history = 0; // its id, increasing
    std::string rule;         // uuid
    std::string name;
    std::string severity;
    std::string series;
    std::string fromState; // ok | pending | firing
    std::string toState;
    std::int64_t value = 0;
    std::int64_t atNs = 0;
};
// `cursor` empty: no more (written as null).
std::string alertsHistoryMessage(std::string_view id, const std::vector<AlertChange> &items,
                                 std::string_view cursor);
// The pushed {"type":"alert.state","id":null, ...the change's keys}.
std::string alertStateMessage(const AlertChange &change);

// --- client side: the dead-letter replies read back (the console)

// A listed dead letter (an item of dlq.list.result or dlq.result). Missing keys keep their
// defaults; times are read from RFC 3339.
DeadLetter deadLetterFromJson(const QJsonObject &item);
// dlq.result.
struct DeadLetterDetail
{
    DeadLetter letter;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string payload;
};
DeadLetterDetail deadLetterDetailFromJson(const QJsonObject &message);
// dlq.replay.result.
struct ReplayResult
{
    std::int64_t replayed = 0;
    std::int64_t skipped = 0;
    std::vector<std::string> ids;
    bool more = false;
};
ReplayResult replayResultFromJson(const QJsonObject &message);

// --- client side: the alerts replies read back (the console)

// A rule object of alerts.rules.list.result / alerts.rules.result.
AlertRule alertRuleFromJson(const QJsonObject &rule);
// alerts.rules.test.result.
AlertTestResult alertTestResultFromJson(const QJsonObject &message);
// An item of alerts.firing.result.
AlertSeries alertSeriesFromJson(const QJsonObject &item);
// An item of alerts.history.result, or an alert.state message.
AlertChange alertChangeFromJson(const QJsonObject &item);

} // namespace idl::protocol
