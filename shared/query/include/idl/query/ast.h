#pragma once

#include "idl/core/log_event.h"

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

namespace idl::query {

struct Node;

// Comparison of a level or a numeric attribute with a literal.
enum class CompareOp { Eq, Lt, Le, Gt, Ge };

// A value matched exactly or with '*' wildcards: the segments in order, with any text
// between them. One segment is an exact match; {"check", ""} is the prefix "check*";
// {"", ""} ("*") matches any non-empty value.
struct Pattern
{
    std::vector<std::string> segments{std::string()};

    bool isExact() const noexcept { return segments.size() == 1; }
    // True for "*" (every segment empty, at least one wildcard).
    bool isAnyValue() const noexcept;
    static Pattern exact(std::string value) { return Pattern{{std::move(value)}}; }
    bool operator==(const Pattern &) const = default;
};

// Text columns a term can name with field:value.
enum class TextField { App, Host, TraceId, SpanId };

// The empty query: every event matches.
struct MatchAll
{
};

// Every child matches (children.size() >= 2 when built by the parser).
struct And
{
    std::vector<Node> children;
};

// At least one child matches.
struct Or
{
    std::vector<Node> children;
};

// The single operand does not match (operand.size() == 1).
struct Not
{
    std::vector<Node> operand;
};

// level:error, level:>=warn
struct LevelTerm
{
    CompareOp op = CompareOp::Eq;
    Level level = Level::Info;
};

// app:checkout, app:check*, host:web-1, trace_id:abc (case-sensitive).
struct FieldTerm
{
    TextField field = TextField::App;
    Pattern value;
};

// A bare word, "quoted phrase" or message:"...": case-insensitive substring of the message.
struct MessageTerm
{
    std::string text;
};

// /regex/ or message:/regex/: case-insensitive regular expression search in the message.
struct RegexTerm
{
    std::string pattern;
};

// @path:value on the attrs JSON object; path is the list of keys (or array indexes).
struct AttrTerm
{
    enum class Kind {
        Exists, // @k:*
        Text,   // @k:abc, @k:"42", @k:ab* : string (or boolean) equality / wildcard
        Number, // @k:42, @k:>=500 : numeric comparison (Eq also matches the string "42")
    };
    std::vector<std::string> path;
    Kind kind = Kind::Exists;
    CompareOp op = CompareOp::Eq; // Number only
    Pattern text;                 // Text only
    std::string number;           // Number only: the literal as written, e.g. "-1.5e3"
};

// One node of a parsed query. position is the byte offset in the query text where the node
// starts (for error messages and highlighting).
struct Node
{
    std::variant<MatchAll, And, Or, Not, LevelTerm, FieldTerm, MessageTerm, RegexTerm, AttrTerm>
        value;
    std::size_t position = 0;
};

// Canonical query text for a tree: parse(toQueryString(parse(q))) yields the same tree.
std::string toQueryString(const Node &node);

// An unambiguous S-expression of the tree, e.g. (and (level >= warn) (app "check" *)).
std::string toDebugString(const Node &node);

// The canonical lower-case field name, e.g. "trace_id".
std::string_view fieldName(TextField field) noexcept;

} // namespace idl::query
