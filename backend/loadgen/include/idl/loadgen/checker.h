#pragma once

#include "idl/core/result.h"
#include "idl/loadgen/ack_ledger.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace idl::pg {
class Connection;
}

namespace idl::loadgen {

// What the checker found in PostgreSQL for a set of ledgers.
struct CheckReport
{
    std::uint64_t rows = 0;            // rows carrying one of the ledgers' generator ids
    std::uint64_t acked = 0;           // sequence numbers acknowledged to the generator
    std::uint64_t lost = 0;            // acknowledged but not stored
    std::uint64_t duplicated = 0;      // extra copies (a number stored 3 times adds 2)
    std::uint64_t unexpected = 0;      // stored although refused, never sent, or not a number
    std::uint64_t maybeStored = 0;     // outcome unknown to the generator, stored once
    std::uint64_t maybeMissing = 0;    // outcome unknown to the generator, not stored
    std::vector<std::string> examples; // a few "lost gen:seq" / "duplicated gen:seq x3"

    // Every acknowledged event stored exactly once, nothing else of these generators stored.
    bool ok() const { return lost == 0 && duplicated == 0 && unexpected == 0; }
    std::string text() const;
    std::string json() const;
};

// Rows in `logs` whose kGeneratorAttr is one of the ids (a full scan of the table).
Result<std::uint64_t> countStored(pg::Connection &connection, const std::vector<std::string> &ids);

// Reads (generator id, sequence) of every row of these generators through a cursor and
// compares them with the ledgers. Memory: about 2 bytes per sequence number.
Result<CheckReport> checkStored(pg::Connection &connection, const std::vector<AckLedger> &ledgers);

// Polls countStored until it reaches the number of acknowledged events and then stops
// growing, it has not changed for `settle`, or `timeout` passes. Returns the last count.
Result<std::uint64_t> waitForRows(pg::Connection &connection, const std::vector<AckLedger> &ledgers,
                                  std::chrono::milliseconds timeout,
                                  std::chrono::milliseconds settle);

} // namespace idl::loadgen
