#pragma once

#include <string_view>

// Kafka record headers that carry a request's Idempotency-Key (docs/ingest.md, "Idempotent
// requests") from the collector through the processor to the writer, which stores each keyed
// event at most once per (idl-key-id, key, index) in the transaction of its row.
namespace idl::kafka::idempotency {

// The client's Idempotency-Key (validated by the collector: 1..ingest.max-idempotency-key
// bytes of visible ASCII). Absent on events of requests without the header.
inline constexpr std::string_view kKey = "idl-idempotency-key";
// The event's position among the request's accepted events (decimal, from 0).
inline constexpr std::string_view kIndex = "idl-idempotency-index";
// The sender's identity (API key id or certificate), the key's scope; the collector's
// "idl-key-id" header, which the processor forwards with the two above.
inline constexpr std::string_view kScope = "idl-key-id";

} // namespace idl::kafka::idempotency
