#pragma once

#include <cstdint>
#include <string_view>

// Kafka header names the processor reads and writes. The retry and dead-letter topics keep a
// record's original key and headers and its value redacted (idl-payload) and add these envelope
// headers (values are UTF-8 text; numbers in decimal). See docs/processor.md.
namespace idl::processor::headers {

// Written by the collector on the raw topic.
inline constexpr std::string_view kCollector = "idl-collector"; // collector instance id
inline constexpr std::string_view kKeyId = "idl-key-id";        // API key id that sent it

// Envelope of the retry and dead-letter topics.
inline constexpr std::string_view kErrorCode = "idl-error-code";       // stable ErrorCode name
inline constexpr std::string_view kErrorMessage = "idl-error-message"; // human-readable reason
inline constexpr std::string_view kSourceTopic = "idl-source-topic";   // where it first came in
inline constexpr std::string_view kSourcePartition = "idl-source-partition";
inline constexpr std::string_view kSourceOffset = "idl-source-offset";
inline constexpr std::string_view kFirstSeen = "idl-first-seen"; // ns since epoch, first attempt
inline constexpr std::string_view kAttempts = "idl-attempts";    // processing attempts made
inline constexpr std::string_view kNotBefore = "idl-not-before"; // retry: ms since epoch
inline constexpr std::string_view kDeadAt = "idl-dead-at";       // DLQ: ns since epoch
inline constexpr std::string_view kProcessor = "idl-processor";  // instance id that wrote it
inline constexpr std::string_view kReplays = "idl-replays";      // times replayed from the DLQ
// "redacted" when the value is the record with the redaction rules applied, "withheld" when
// it could not be redacted (not JSON and the matcher failed) and only a marker is kept;
// absent when the value is the original bytes (nothing to redact).
inline constexpr std::string_view kPayload = "idl-payload";

// True for the names above that the processor owns (stripped before a record is re-enveloped
// or replayed, so they never pile up).
constexpr bool isEnvelope(std::string_view name) noexcept
{
    for (const std::string_view n :
         {kErrorCode, kErrorMessage, kSourceTopic, kSourcePartition, kSourceOffset, kFirstSeen,
          kAttempts, kNotBefore, kDeadAt, kProcessor, kPayload})
        if (n == name)
            return true;
    return false;
}

} // namespace idl::processor::headers
