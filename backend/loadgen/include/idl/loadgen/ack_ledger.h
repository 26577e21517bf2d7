#pragma once

#include "idl/core/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace idl::loadgen {

// Inclusive range of sequence numbers.
struct SeqRange
{
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::uint64_t size() const { return last - first + 1; }
};

// A set of sequence numbers kept as sorted, merged, inclusive ranges.
class RangeSet
{
public:
    // Adds [first, first + count).
    void add(std::uint64_t first, std::uint64_t count);
    // Merges another set into this one.
    void merge(const RangeSet &other);
    // Sorts and coalesces; add() leaves the set unsorted until then.
    void normalize();
    std::uint64_t count() const;
    const std::vector<SeqRange> &ranges() const { return m_ranges; }

private:
    std::vector<SeqRange> m_ranges;
};

// What one generator knows about its events after a run, written for the checker:
//   acked - answered 2xx by the collector: must be stored exactly once;
//   maybe - outcome unknown (503, timeout, broken connection, 429): stored at most once;
//   every other sequence number below nextSeq was refused or never sent: must be absent.
// File format (text, one item per line, '#' comments):
//   idl-loadgen-acked 1
//   generator <id> <nextSeq>
//   acked <id> <first> <last>
//   maybe <id> <first> <last>
struct AckLedger
{
    std::string generatorId;
    std::uint64_t nextSeq = 0;
    RangeSet acked;
    RangeSet maybe;

    // Writes the ledgers to path (atomically: temp file + rename).
    static Result<void> save(const std::string &path, const std::vector<AckLedger> &ledgers);
    // Reads every ledger of a file.
    static Result<std::vector<AckLedger>> load(const std::string &path);
};

} // namespace idl::loadgen
