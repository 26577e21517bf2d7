#pragma once

#include "idl/loadgen/ack_ledger.h"
#include "idl/loadgen/event_factory.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace idl::loadgen {

// Settings of one load run.
struct LoadOptions
{
    std::string host = "127.0.0.1";
    std::string port = "7080";
    std::string apiKey;
    Format format = Format::Native;
    double rate = 0;                // target events/s; 0 = as fast as the collector answers
    std::string profile = "steady"; // see RateProfile
    double seconds = 10;            // run length; 0 = until stopped
    std::uint64_t maxEvents = 0;    // stop after this many events are sent; 0 = no limit
    int connections = 4;            // keep-alive connections, one sender thread each
    int batch = 1000;               // events per request
    int payloadBytes = 64;          // mean size of the payload attribute; 0 = none
    std::string generatorId;        // written into every event (kGeneratorAttr)
    std::uint64_t seed = 1;
    // Attempts after the first for a batch that got no answer, 429, 502, 503 or 504 (as
    // OTLP/HTTP exporters retry), after the reply's Retry-After (at most retryMaxWaitS) or an
    // exponential back-off (0.25 s doubling to 5 s). 0: never retried (each event is then
    // stored at most once; with retries, an attempt that failed after Kafka took some events
    // can store them twice).
    int retries = 0;
    long long retryMaxWaitS = 30;
    // Send an Idempotency-Key header, the same for every attempt of a batch
    // ("<generator>-<batch number>"): the platform stores a resent batch's events once.
    bool idempotencyKeys = false;
};

// What a run did. Latencies are from sending a request to its 2xx reply (which the
// collector sends only after Kafka acknowledged every event of it).
struct LoadReport
{
    std::string generatorId;
    double seconds = 0;
    std::uint64_t requests = 0;
    std::uint64_t sent = 0;          // events sent
    std::uint64_t accepted = 0;      // events acknowledged (2xx, counted by the reply)
    std::uint64_t rejected = 0;      // events refused (4xx other than 429, or per-event errors)
    std::uint64_t uncertain = 0;     // events of 429/503/broken requests: stored at most once
    std::uint64_t errorRequests = 0; // requests without a 2xx reply
    std::uint64_t batches = 0;       // batches sent (each one or more requests)
    std::uint64_t batchesOk = 0;     // batches finally answered 2xx (retries included)
    std::uint64_t retries = 0;       // requests that were attempts after the first
    // Events resent after an attempt with no answer or a 5xx: at-least-once, so each may be
    // stored twice (idl-check's duplicates can be at most this many).
    std::uint64_t resent = 0;
    std::map<int, std::uint64_t> statuses; // HTTP status -> requests; 0 = transport error
    double p50Ms = 0, p90Ms = 0, p99Ms = 0, p999Ms = 0, maxMs = 0;
    double cpuSeconds = 0;
    std::uint64_t bytes = 0;
    int connects = 0;
    std::int64_t startedMs = 0; // wall clock at the start of the run, ms since the epoch
    // Refused ingestion: windows (seconds after the start) from the sending of a request that
    // got no 2xx answer (an error status or a transport failure) to the sending of the next
    // request that got one, or the end of the run; and their total length.
    std::vector<std::pair<double, double>> refusals;
    double refusedSeconds = 0;

    double acceptedPerSecond() const { return seconds > 0 ? accepted / seconds : 0; }
    // One JSON object (single line).
    std::string json() const;
    // A few human-readable lines.
    std::string text() const;
};

// Runs load against a collector: `connections` sender threads, each with its own keep-alive
// connection and event factory, pacing themselves on the rate profile. Sequence numbers are
// handed out in whole batches from one counter, so a generator's sequence is dense. run()
// blocks the calling thread until the time is up, maxEvents are sent or `stop` is set.
class LoadRun
{
public:
    explicit LoadRun(LoadOptions options);
    ~LoadRun();

    // progress (optional) is called about once a second from the calling thread.
    Result<LoadReport> run(const std::atomic<bool> &stop,
                           const std::function<void(const LoadReport &)> &progress = {});
    // What was acknowledged, after run().
    const AckLedger &ledger() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace idl::loadgen
