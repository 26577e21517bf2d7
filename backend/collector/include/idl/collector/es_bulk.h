#pragma once

#include "idl/collector/ingest_decoder.h"
#include "idl/core/json_codec.h"
#include "idl/core/result.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The Elasticsearch bulk API as a way in (docs/ingest.md, "Elasticsearch bulk API"): the
// NDJSON body of POST /_bulk and POST /{index}/_bulk decoded into events, the per-item results
// in Elasticsearch's response shape, and the small read answers shippers ask for at start-up.
// Pure functions and a per-thread decoder, no I/O; the collector's routes call them.
namespace idl::collector {

// The version the collector reports as Elasticsearch's (GET /): an 8.x the official clients,
// Filebeat, Logstash, Fluent Bit and Vector accept.
inline constexpr std::string_view kEsCompatVersion = "8.17.0";

enum class EsAction { Index, Create, Delete, Update };

// One item of a bulk request (an action line and, for index/create/update, its source line).
struct EsBulkItem
{
    EsAction action = EsAction::Index;
    std::uint32_t indexRef = 0; // into EsBulkBatch::indices ("" when the item named none)
    std::string id;             // _id as sent, else the event id given to the document
    int status = 201;           // 201: accepted (pending Kafka); else the item's error status
    std::string_view errorType; // Elasticsearch's error type when status != 201
    std::string reason;         // and its reason
};

// A decoded bulk request: the accepted events (in `batch.encoded`, in item order; item i's
// rejection is recorded in `batch` with index i), and every item's result.
struct EsBulkBatch
{
    DecodedBatch batch;
    std::vector<EsBulkItem> items;
    std::vector<std::string> indices; // distinct index names of the request
};

// Decodes bulk bodies; keeps its JSON parser and scratch event across calls.
//
// Lifecycle: one per thread (not thread-safe); never throws on any input.
class EsBulkDecoder
{
public:
    explicit EsBulkDecoder(IngestLimits limits = {});
    ~EsBulkDecoder();
    EsBulkDecoder(const EsBulkDecoder &) = delete;
    EsBulkDecoder &operator=(const EsBulkDecoder &) = delete;

    // Decodes an NDJSON bulk body. `pathIndex` is the {index} of POST /{index}/_bulk ("" for
    // /_bulk); an action's own _index wins. Every item gets a result: index/create with a
    // document that maps to an event -> 201 (the event is in batch.encoded); a malformed
    // action line (then the lines up to the next valid action line belong to it), a
    // malformed or over-limit document, a missing or invalid index, another app than the
    // credential's (`check`), and delete/update (the log store is append-only) -> an error
    // item. Request-level failures: TooMany (more items than limits.maxEvents) and BadRequest
    // (no item at all). `storage` lends its buffers to batch.encoded.
    Result<EsBulkBatch> decode(std::string_view body, std::string_view pathIndex,
                               std::int64_t receivedNs, const BatchLimits &limits,
                               const EventCheck &check, EncodedEvents storage = {});

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

// The app an index name maps to (docs/ingest.md): a data stream name "logs-<app>-<namespace>"
// or "logs-<app>" gives <app>; otherwise the name without a trailing date ("-2024.05.01",
// "-2024.05", "-2024-05-01") or version suffix ("-8.17.0"), e.g. "logstash-2024.05.01" ->
// "logstash", "filebeat-8.17.0" -> "filebeat".
std::string esIndexToApp(std::string_view index);

// The {index} of a "/{index}/_bulk" path, or nullopt when the path is not of that form.
std::optional<std::string_view> esBulkPathIndex(std::string_view path);

// The reply body of a bulk request whose accepted events Kafka acknowledged.
std::string esBulkResponse(const EsBulkBatch &bulk, std::int64_t tookMs);

// Elasticsearch's status and error type for one of this project's error codes.
struct EsErrorKind
{
    int status = 500;
    std::string_view type;
};
EsErrorKind esErrorKind(ErrorCode code);

// Elasticsearch's error body:
// {"error":{"root_cause":[{"type":T,"reason":R}],"type":T,"reason":R},"status":S}.
std::string esErrorBody(int status, std::string_view type, std::string_view reason);

// GET / : the cluster info the clients check (name, cluster, version.number, tagline).
std::string esInfoBody(std::string_view nodeName);
// GET /_license, GET /_xpack: an active basic licence.
std::string esLicenseBody();
std::string esXpackBody();
// GET /_cluster/health: a green single-node cluster.
std::string esClusterHealthBody();

} // namespace idl::collector
