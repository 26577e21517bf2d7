#pragma once

#include "idl/core/log_event.h"
#include "idl/core/result.h"
#include "idl/processor/redactor.h"
#include "idl/processor/sampler.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idl::processor {

// Validation and normalization limits plus enrichment defaults.
struct PipelineOptions
{
    std::size_t maxEventBytes = 256 * 1024;   // raw record value; larger -> DLQ (too_large)
    std::size_t maxMessageBytes = 128 * 1024; // longer messages are truncated (marked)
    std::size_t maxAttrDepth = 8;             // deeper attribute values become their JSON text
    std::size_t maxAttrKeys = 256;            // keys over all attribute objects; the rest dropped
    std::size_t maxValueBytes = 16384;        // longer attribute strings are truncated (marked)
    std::int64_t maxFutureSkewNs = 3600LL * 1'000'000'000; // ts later than rt + this -> rt
    std::string defaultApp = "unknown";
    std::string defaultHost = "unknown";
    // Test-only: an event whose message contains this marker followed by a number N fails
    // with a transient error (unavailable) on its first N attempts. Empty = off.
    std::string transientMarker;
};

// What the processor knows about a record besides its value.
struct RecordInfo
{
    std::optional<std::string_view> key;       // Kafka key (the collector keys by app)
    std::optional<std::string_view> collector; // header idl-collector
    std::optional<std::string_view> keyId;     // header idl-key-id
    std::int64_t recordTimestampMs = -1;       // Kafka record timestamp
    std::int64_t nowNs = 0;                    // processing time
    int attempt = 0;                           // 0 = first processing, n = n-th retry
};

// The fate of one record.
enum class Outcome {
    Produce,   // normalized event appended to the output buffer
    Drop,      // dropped by a sample rule (counted)
    Poison,    // cannot be processed: dead-letter it
    Transient, // failed for now: retry later
};

// Result of Pipeline::process.
struct PipelineResult
{
    Outcome outcome = Outcome::Produce;
    Error error;                  // Poison / Transient
    std::size_t dropRule = 0;     // Drop: index of the sample rule
    std::string app;              // Produce: the output key
    Level level = Level::Info;    // Produce / Drop
    std::uint64_t redactions = 0; // replacements made in this event
};

// Cumulative counts of what normalization changed (never silent: each change is also
// marked on the event, see docs/processor.md).
struct PipelineStats
{
    std::vector<std::uint64_t> redactedByRule; // index = redaction rule
    std::uint64_t valuesTruncated = 0;
    std::uint64_t messagesTruncated = 0;
    std::uint64_t attrsDropped = 0;
    std::uint64_t attrsFlattened = 0;
    std::uint64_t futureTimestamps = 0;
    std::uint64_t missingTimestamps = 0;
    std::uint64_t defaultedApp = 0;
    std::uint64_t defaultedHost = 0;
    std::uint64_t badTraceIds = 0;
    std::uint64_t nativeFormat = 0; // records in the ingestion format rather than canonical
    // Values replaced whole because the redaction matcher reported an error (fail closed).
    std::uint64_t redactionFailures = 0;
};

// What a copy for the retry or dead-letter topic holds (Pipeline::redactPayload).
enum class PayloadForm {
    Original, // nothing to redact: the original bytes
    Redacted, // the record with every rule applied (still decodes and replays)
    Withheld, // not JSON and the matcher failed: only kRedactionFailed is kept
};

// Decodes a raw record (canonical v1 event, or the native ingestion format), validates,
// normalizes, enriches, redacts and samples it, and encodes the canonical v1 event.
//
// Lifecycle: one per processing thread (owns parser buffers; not thread-safe). The redactor
// and sampler are shared, read-only.
class Pipeline
{
public:
    Pipeline(PipelineOptions options, std::shared_ptr<const Redactor> redactor,
             std::shared_ptr<const Sampler> sampler);
    ~Pipeline();
    Pipeline(const Pipeline &) = delete;
    Pipeline &operator=(const Pipeline &) = delete;

    // Processes one record; on Produce the canonical JSON is appended to `out`.
    PipelineResult process(std::string_view value, const RecordInfo &info, std::string &out);

    // Same, but returns the normalized event instead of encoding it (for tests and tools).
    PipelineResult processEvent(std::string_view value, const RecordInfo &info, LogEvent &event);

    // The copy of a record that may be written to the retry or dead-letter topic: a JSON
    // value is rewritten with every rule applied at any depth (key rules on every member,
    // text rules on every string); a value that is not JSON gets the key rules on every
    // `"key": value` it can find and the text rules on the whole. `out` holds the copy
    // unless the result is Original (then the record's own bytes are the copy). The rules
    // are idempotent for the built-ins, so a replayed copy is redacted again to the same text.
    // Replacements made here are not counted as the event's (stats().redactedByRule);
    // matcher failures are (redactionFailures).
    PayloadForm redactPayload(std::string_view value, std::string &out);

    // `text` (an error message quoting the input) with the text rules applied.
    std::string redactText(std::string text);

    const PipelineStats &stats() const;
    const PipelineOptions &options() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace idl::processor
