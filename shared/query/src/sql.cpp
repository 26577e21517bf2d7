// AST -> PostgreSQL. Only fixed templates become SQL text; every user-provided string is a
// $n parameter. NOT compiles to "IS NOT TRUE" so missing values (NULL) behave as in matches().
#include "idl/query/sql.h"

#include "regex_check.h"

#include <algorithm>
#include <string>

namespace idl::query {

namespace {

template <class... F> struct Overloaded : F...
{
    using F::operator()...;
};
template <class... F> Overloaded(F...) -> Overloaded<F...>;

constexpr std::int64_t kMinuteNs = 60'000'000'000;
constexpr std::int64_t kTenSecondsNs = 10'000'000'000;

std::string_view sqlOp(CompareOp op)
{
    switch (op) {
    case CompareOp::Eq:
        return "=";
    case CompareOp::Lt:
        return "<";
    case CompareOp::Le:
        return "<=";
    case CompareOp::Gt:
        return ">";
    case CompareOp::Ge:
        return ">=";
    }
    return "=";
}

std::string_view column(TextField field)
{
    switch (field) {
    case TextField::App:
        return "app";
    case TextField::Host:
        return "host";
    case TextField::TraceId:
        return "trace_id";
    case TextField::SpanId:
        return "span_id";
    }
    return "app";
}

// LIKE pattern text with '!' as the escape character (independent of
// standard_conforming_strings, unlike a backslash).
std::string likeEscape(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '%' || c == '_' || c == '!')
            out += '!';
        out += c;
    }
    return out;
}

std::string likePattern(const Pattern &p)
{
    std::string out;
    for (std::size_t i = 0; i < p.segments.size(); ++i) {
        if (i)
            out += '%';
        out += likeEscape(p.segments[i]);
    }
    return out;
}

// A PostgreSQL array literal of text elements: {"a","b\"c"}.
std::string textArray(const std::vector<std::string> &items)
{
    std::string out = "{";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i)
            out += ',';
        out += '"';
        for (char c : items[i]) {
            if (c == '"' || c == '\\')
                out += '\\';
            out += c;
        }
        out += '"';
    }
    out += '}';
    return out;
}

class SqlBuilder
{
public:
    explicit SqlBuilder(int firstParam) : m_next(firstParam) {}

    std::string param(std::string value)
    {
        m_params.push_back(std::move(value));
        return "$" + std::to_string(m_next++);
    }

    std::string emit(const Node &node)
    {
        return std::visit(
            Overloaded{
                [](const MatchAll &) { return std::string("TRUE"); },
                [this](const And &n) { return join(n.children, " AND "); },
                [this](const Or &n) { return join(n.children, " OR "); },
                [this](const Not &n) {
                    if (n.operand.empty())
                        return std::string("FALSE");
                    return "((" + emit(n.operand.front()) + ") IS NOT TRUE)";
                },
                [this](const LevelTerm &t) {
                    return "level " + std::string(sqlOp(t.op)) + " " +
                           param(std::to_string(static_cast<int>(t.level))) + "::smallint";
                },
                [this](const FieldTerm &t) { return textColumn(column(t.field), t.value); },
                // Case folding that does not depend on the database's collation: ASCII
                // needles fold ASCII only ("C", PostgreSQL's fast path), others fold with
                // ICU's root locale (idl_fold, migration 202); regexes always use idl_fold,
                // with their classes spelled out in ASCII as RE2 reads them.
                [this](const MessageTerm &t) {
                    return std::string(detail::isAscii(t.text)
                                           ? "message COLLATE \"C\" ILIKE "
                                           : "message COLLATE idl_fold ILIKE ") +
                           param("%" + likeEscape(t.text) + "%") + " ESCAPE '!'";
                },
                [this](const RegexTerm &t) {
                    return "message COLLATE idl_fold ~* " +
                           param(detail::postgresPattern(t.pattern));
                },
                [this](const AttrTerm &t) { return attribute(t); },
            },
            node.value);
    }

    std::string textColumn(std::string_view col, const Pattern &p)
    {
        const std::string c(col);
        if (p.isAnyValue())
            return "(" + c + " <> '')";
        if (p.isExact())
            return c + " = " + param(p.segments.front());
        return c + " LIKE " + param(likePattern(p)) + " ESCAPE '!'";
    }

    std::string attribute(const AttrTerm &t)
    {
        const std::string path = param(textArray(t.path)) + "::text[]";
        const std::string value = "attrs #> " + path;
        const std::string text = "attrs #>> " + path;
        switch (t.kind) {
        case AttrTerm::Kind::Exists:
            return "(" + value + " IS NOT NULL)";
        case AttrTerm::Kind::Text:
            if (t.text.isExact())
                return "(jsonb_typeof(" + value + ") IN ('string', 'boolean') AND " + text + " = " +
                       param(t.text.segments.front()) + ")";
            return "(jsonb_typeof(" + value + ") = 'string' AND " + text + " LIKE " +
                   param(likePattern(t.text)) + " ESCAPE '!')";
        case AttrTerm::Kind::Number: {
            const std::string number = "(CASE WHEN jsonb_typeof(" + value + ") = 'number' THEN (" +
                                       text + ")::numeric END)";
            std::string out =
                number + " " + std::string(sqlOp(t.op)) + " " + param(t.number) + "::numeric";
            if (t.op == CompareOp::Eq)
                out = "(" + out + " OR (jsonb_typeof(" + value + ") = 'string' AND " + text +
                      " = " + param(t.number) + "))";
            return out;
        }
        }
        return "FALSE";
    }

    std::string join(const std::vector<Node> &children, std::string_view op)
    {
        if (children.empty())
            return op == " AND " ? "TRUE" : "FALSE";
        std::string out = "(";
        for (std::size_t i = 0; i < children.size(); ++i) {
            if (i)
                out += op;
            out += emit(children[i]);
        }
        return out + ")";
    }

    std::vector<std::string> takeParams() { return std::move(m_params); }
    int next() const { return m_next; }

private:
    int m_next;
    std::vector<std::string> m_params;
};

// True when the filter names only app, level and (withHost) host.
bool rollupTerm(const Node &node, bool withHost = true)
{
    return std::visit(Overloaded{
                          [](const MatchAll &) { return true; },
                          [withHost](const And &n) {
                              for (const Node &c : n.children) {
                                  if (!rollupTerm(c, withHost))
                                      return false;
                              }
                              return true;
                          },
                          [withHost](const Or &n) {
                              for (const Node &c : n.children) {
                                  if (!rollupTerm(c, withHost))
                                      return false;
                              }
                              return true;
                          },
                          [withHost](const Not &n) {
                              return !n.operand.empty() && rollupTerm(n.operand.front(), withHost);
                          },
                          [](const LevelTerm &) { return true; },
                          [withHost](const FieldTerm &t) {
                              return t.field == TextField::App ||
                                     (withHost && t.field == TextField::Host);
                          },
                          [](const MessageTerm &) { return false; },
                          [](const RegexTerm &) { return false; },
                          [](const AttrTerm &) { return false; },
                      },
                      node.value);
}

// True when the filter has a message, regex or attribute term (hasUnestimatedTerm()).
bool unestimatedTerm(const Node &node)
{
    return std::visit(
        Overloaded{
            [](const MatchAll &) { return false; },
            [](const And &n) {
                return std::any_of(n.children.begin(), n.children.end(), unestimatedTerm);
            },
            [](const Or &n) {
                return std::any_of(n.children.begin(), n.children.end(), unestimatedTerm);
            },
            [](const Not &n) {
                return std::any_of(n.operand.begin(), n.operand.end(), unestimatedTerm);
            },
            [](const LevelTerm &) { return false; },
            [](const FieldTerm &) { return false; },
            [](const MessageTerm &) { return true; },
            [](const RegexTerm &) { return true; },
            [](const AttrTerm &) { return true; },
        },
        node.value);
}

bool isHex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool isUuid(std::string_view s)
{
    if (s.size() != 36)
        return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isHex(s[i]))
            return false;
    }
    return true;
}

Error badRequest(std::string message)
{
    return makeError(ErrorCode::BadRequest, std::move(message));
}

std::optional<Error> checkRange(std::int64_t fromNs, std::int64_t toNs)
{
    if (fromNs >= toNs)
        return badRequest("empty time range: from must be before to");
    return std::nullopt;
}

std::optional<Error> checkApps(const std::vector<std::string> &apps)
{
    for (const std::string &a : apps) {
        if (a.find('\0') != std::string::npos)
            return badRequest("allowed app name contains a NUL character");
    }
    return std::nullopt;
}

// "app = ANY($n::text[])", or empty for every app.
std::string appScope(SqlBuilder &b, const std::vector<std::string> &apps)
{
    return apps.empty() ? std::string() : "app = ANY(" + b.param(textArray(apps)) + "::text[])";
}

// "ts >= $1::bigint AND ts < $2::bigint [AND app = ANY($3::text[])]" on column timeColumn.
std::string scope(SqlBuilder &b, std::string_view timeColumn, std::int64_t fromNs,
                  std::int64_t toNs, const std::vector<std::string> &apps)
{
    // One param() per statement: the numbering must follow the text order.
    const std::string t(timeColumn);
    const std::string from = b.param(std::to_string(fromNs));
    const std::string to = b.param(std::to_string(toNs));
    std::string out = t + " >= " + from + "::bigint AND " + t + " < " + to + "::bigint";
    if (!apps.empty())
        out += " AND " + appScope(b, apps);
    return out;
}

bool minuteAligned(std::int64_t ns)
{
    return ns % kMinuteNs == 0;
}

bool tenSecondAligned(std::int64_t ns)
{
    return ns % kTenSecondsNs == 0;
}

} // namespace

CompiledSql compileWhere(const Node &ast, int firstParam)
{
    SqlBuilder b(firstParam);
    CompiledSql out;
    out.where = b.emit(ast);
    out.params = b.takeParams();
    return out;
}

bool canUseRollups(const Node &ast)
{
    return rollupTerm(ast);
}

bool hasUnestimatedTerm(const Node &ast)
{
    return unestimatedTerm(ast);
}

Result<CompiledQuery> buildQuery(const Node &ast, const QueryOptions &options)
{
    if (auto err = checkRange(options.fromNs, options.toNs))
        return *err;
    if (auto err = checkApps(options.allowedApps))
        return *err;
    if (options.limit < 1)
        return badRequest("limit must be at least 1");
    if (options.lookRows < 0)
        return badRequest("lookRows must not be negative");
    if (options.cursor && !isUuid(options.cursor->id))
        return badRequest("cursor id is not a UUID");
    SqlBuilder b(1);
    const bool desc = options.order == SortOrder::Desc;
    const bool look = options.lookRows > 0;
    const std::string columns =
        "SELECT id, ts, received, level, app, host, message, attrs, trace_id, span_id FROM ";
    // A bounded look filters the first lookRows rows of the range: the app scope goes with the
    // filter, so that the inner walk stays in ts order (one b-tree, no sort of the scope's rows).
    std::string sql = columns + "logs WHERE " +
                      scope(b, "ts", options.fromNs, options.toNs,
                            look ? std::vector<std::string>{} : options.allowedApps);
    if (options.cursor) {
        const std::string ts = b.param(std::to_string(options.cursor->tsNs));
        const std::string id = b.param(options.cursor->id);
        sql += std::string(" AND (ts, id) ") + (desc ? "<" : ">") + " (" + ts + "::bigint, " + id +
               "::uuid)";
    }
    if (look) {
        // WITH TIES: every row on the last row's ts is in, so the look holds every row of the
        // range from its starting end down to (or up to) that ts, and a page found in it is the
        // page of the whole range.
        sql += std::string(" ORDER BY ts ") + (desc ? "DESC" : "ASC") + " FETCH FIRST (" +
               b.param(std::to_string(options.lookRows)) + "::bigint) ROWS WITH TIES";
        sql = columns + "(" + sql + ") look WHERE ";
        if (const std::string apps = appScope(b, options.allowedApps); !apps.empty())
            sql += apps + " AND ";
        sql += b.emit(ast);
    } else {
        sql += " AND " + b.emit(ast);
    }
    const std::string_view ts = options.fullSort ? "ts + 0" : "ts";
    sql += " ORDER BY " + std::string(ts) + (desc ? " DESC, id DESC" : " ASC, id ASC");
    sql += " LIMIT " + b.param(std::to_string(options.limit)) + "::bigint";
    return CompiledQuery{std::move(sql), b.takeParams(), false};
}

Result<CompiledQuery> buildAggregate(const Node &ast, const AggregateOptions &options)
{
    if (auto err = checkRange(options.fromNs, options.toNs))
        return *err;
    if (auto err = checkApps(options.allowedApps))
        return *err;
    if (options.bucketNs <= 0)
        return badRequest("bucket width must be positive");
    // (to - from) / bucket without overflow.
    const auto span = static_cast<unsigned long long>(options.toNs) -
                      static_cast<unsigned long long>(options.fromNs);
    if (span / static_cast<unsigned long long>(options.bucketNs) >=
        static_cast<unsigned long long>(options.maxBuckets))
        return makeError(ErrorCode::TooMany, "more than " + std::to_string(options.maxBuckets) +
                                                 " buckets: widen the bucket or narrow the "
                                                 "range");
    const bool minuteRollups = options.allowRollups && canUseRollups(ast) &&
                               minuteAligned(options.fromNs) && minuteAligned(options.toNs) &&
                               minuteAligned(options.bucketNs);
    // Buckets of whole 10 s (the console's 10 s and 30 s buckets) from log_rollup_10s, which
    // has no host column: filters on app and level only.
    const bool tenSecondRollups = !minuteRollups && options.allowRollups &&
                                  rollupTerm(ast, false) && tenSecondAligned(options.fromNs) &&
                                  tenSecondAligned(options.toNs) &&
                                  tenSecondAligned(options.bucketNs);
    const bool rollups = minuteRollups || tenSecondRollups;
    const std::string_view time = rollups ? "bucket" : "ts";
    SqlBuilder b(1);
    std::string where = scope(b, time, options.fromNs, options.toNs, options.allowedApps);
    where += " AND " + b.emit(ast);
    // $1 is fromNs (set first by scope()); the bucket width follows the filter's params.
    const std::string width = b.param(std::to_string(options.bucketNs)) + "::bigint";
    const std::string t(time);
    const std::string bucket = "$1::bigint + ((" + t + " - $1::bigint) / " + width + ") * " + width;
    const std::string key =
        options.split == AggregateSplit::App
            ? std::string("app")
            : std::string("CASE level WHEN 0 THEN 'trace' WHEN 1 THEN 'debug' WHEN 2 THEN 'info' "
                          "WHEN 3 THEN 'warn' WHEN 4 THEN 'error' WHEN 5 THEN 'fatal' ELSE "
                          "level::text END");
    const std::string count = rollups ? "sum(count)::bigint" : "count(*)::bigint";
    std::string sql = "SELECT " + bucket + " AS bucket, " + key + " AS key, " + count +
                      " AS count FROM " +
                      (minuteRollups      ? "log_rollup_minute"
                       : tenSecondRollups ? "log_rollup_10s"
                                          : "logs") +
                      " WHERE " + where + " GROUP BY 1, 2 ORDER BY 1, 2";
    return CompiledQuery{std::move(sql), b.takeParams(), rollups};
}

Result<CompiledQuery> buildTopN(TopNField field, const Node &ast, const TopNOptions &options)
{
    if (auto err = checkRange(options.fromNs, options.toNs))
        return *err;
    if (auto err = checkApps(options.allowedApps))
        return *err;
    if (options.limit < 1)
        return badRequest("limit must be at least 1");
    const bool rollups = options.allowRollups && canUseRollups(ast) &&
                         minuteAligned(options.fromNs) && minuteAligned(options.toNs);
    SqlBuilder b(1);
    std::string where =
        scope(b, rollups ? "bucket" : "ts", options.fromNs, options.toNs, options.allowedApps);
    where += " AND " + b.emit(ast);
    const std::string key = field == TopNField::App ? "app" : "host";
    const std::string count = rollups ? "sum(count)::bigint" : "count(*)::bigint";
    std::string sql = "SELECT " + key + " AS key, " + count + " AS count FROM " +
                      (rollups ? "log_rollup_minute" : "logs") + " WHERE " + where +
                      " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT " +
                      b.param(std::to_string(options.limit)) + "::bigint";
    return CompiledQuery{std::move(sql), b.takeParams(), rollups};
}

} // namespace idl::query
