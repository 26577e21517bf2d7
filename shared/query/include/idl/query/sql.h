#pragma once

#include "idl/core/result.h"
#include "idl/query/ast.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace idl::query {

// A boolean SQL expression over the logs table's columns. User text only ever appears in
// params, referenced as $n placeholders; where is built from fixed templates.
struct CompiledSql
{
    std::string where;
    std::vector<std::string> params; // params[0] is $firstParam
};

// Compiles a filter to a WHERE expression whose placeholders start at $firstParam, so that
// callers can put their own parameters first. Every expression yields TRUE/FALSE semantics
// identical to matches() (NULLs never leak through NOT).
CompiledSql compileWhere(const Node &ast, int firstParam = 1);

// Row order of a page.
enum class SortOrder { Desc, Asc };

// Keyset position: the (ts, id) of the last row of the previous page.
struct Cursor
{
    std::int64_t tsNs = 0;
    std::string id; // UUID text
};

// Options of a page query.
struct QueryOptions
{
    std::int64_t fromNs = 0;                                      // inclusive, event time
    std::int64_t toNs = std::numeric_limits<std::int64_t>::max(); // exclusive
    std::int64_t limit = 100;                                     // rows per page, >= 1
    SortOrder order = SortOrder::Desc;
    std::optional<Cursor> cursor;
    std::vector<std::string> allowedApps; // server-side scope; empty = every app
    // > 0: a bounded look. Only the lookRows first rows of the range in page order (after the
    // cursor, before the filter and the app scope; rows tied on ts with the last one included)
    // are filtered, so the statement reads at most that many rows whatever the planner
    // estimates: SELECT ... FROM (SELECT ... ORDER BY ts FETCH FIRST n ROWS WITH TIES) ...
    std::int64_t lookRows = 0;
    // Order by an expression no index provides (ts + 0): the planner cannot choose a plan that
    // walks the ts b-tree and hopes to stop early; it prices reading every matching row of the
    // range (a scan and a top-N sort), as it did before the open partition had a ts b-tree.
    bool fullSort = false;
};

// A complete statement and its parameters ($1..$n, in order).
struct CompiledQuery
{
    std::string sql;
    std::vector<std::string> params;
    bool fromRollups = false; // aggregates: read from log_rollup_minute
};

// One page of rows: SELECT id, ts, received, level, app, host, message, attrs, trace_id,
// span_id FROM logs ... ORDER BY ts DESC, id DESC (or ASC) LIMIT n, with keyset pagination.
// Fails with BadRequest on invalid options (empty range, limit < 1, lookRows < 0, malformed
// cursor id).
Result<CompiledQuery> buildQuery(const Node &ast, const QueryOptions &options);

// True when the filter only names app, host and level (any combination, including
// wildcards, comparisons and NOT), so counts can come from log_rollup_minute.
bool canUseRollups(const Node &ast);

// True when the filter has a term whose selectivity PostgreSQL cannot estimate from column
// statistics (a message substring or regex, an attribute): it assumes ~0.01 % or more of the
// rows match, so over a large range without an index for the term (the open partition) it may
// walk the ts b-tree through every row expecting to stop early.
bool hasUnestimatedTerm(const Node &ast);

// How counts are split within a bucket.
enum class AggregateSplit { Level, App };

// Options of a counts-per-bucket query.
struct AggregateOptions
{
    std::int64_t fromNs = 0; // inclusive; buckets start at fromNs + k * bucketNs
    std::int64_t toNs = 0;   // exclusive
    std::int64_t bucketNs = 60'000'000'000;
    AggregateSplit split = AggregateSplit::Level;
    std::vector<std::string> allowedApps; // empty = every app
    bool allowRollups = true;
    std::int64_t maxBuckets = 10'000;
};

// Counts per time bucket: rows (bucket bigint, key text, count bigint) ordered by bucket,
// key; key is the level name (trace..fatal) or the app. Reads log_rollup_minute when
// canUseRollups(ast) and fromNs, toNs and bucketNs are whole minutes; else log_rollup_10s when
// the filter names only app and level and all three are whole multiples of 10 s; raw rows
// otherwise. fromRollups is true for either rollup table.
Result<CompiledQuery> buildAggregate(const Node &ast, const AggregateOptions &options);

// Column a top-N query groups by.
enum class TopNField { App, Host };

// Options of a top-N query.
struct TopNOptions
{
    std::int64_t fromNs = 0; // inclusive
    std::int64_t toNs = 0;   // exclusive
    std::int64_t limit = 10;
    std::vector<std::string> allowedApps; // empty = every app
    bool allowRollups = true;
};

// The most frequent apps or hosts: rows (key text, count bigint) by count descending, then
// key. Uses rollups under the same conditions as buildAggregate().
Result<CompiledQuery> buildTopN(TopNField field, const Node &ast, const TopNOptions &options);

} // namespace idl::query
