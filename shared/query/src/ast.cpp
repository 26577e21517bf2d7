// Printing query trees: canonical query text (round-trips through parse()) and S-expressions.
#include "idl/query/ast.h"

#include "lexer_impl.h"

#include <string>

namespace idl::query {

namespace {

template <class... F> struct Overloaded : F...
{
    using F::operator()...;
};
template <class... F> Overloaded(F...) -> Overloaded<F...>;

std::string_view opText(CompareOp op)
{
    switch (op) {
    case CompareOp::Eq:
        return "";
    case CompareOp::Lt:
        return "<";
    case CompareOp::Le:
        return "<=";
    case CompareOp::Gt:
        return ">";
    case CompareOp::Ge:
        return ">=";
    }
    return "";
}

std::string quote(std::string_view s)
{
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

// Backslash-escapes what the lexer would otherwise read as structure in a bare value.
std::string bareSegment(std::string_view s, bool first)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool leading = first && i == 0 && (c == '>' || c == '<' || c == '/');
        if (detail::isQuerySpace(c) || c == '(' || c == ')' || c == '"' || c == '\\' || c == '*' ||
            leading)
            out += '\\';
        out += c;
    }
    return out;
}

std::string patternText(const Pattern &p)
{
    if (p.isExact())
        return quote(p.segments.front());
    std::string out;
    for (std::size_t i = 0; i < p.segments.size(); ++i) {
        if (i)
            out += '*';
        out += bareSegment(p.segments[i], i == 0);
    }
    return out;
}

bool bareKey(std::string_view key)
{
    if (key.empty())
        return false;
    for (char c : key) {
        if (detail::isQuerySpace(c) || c == '(' || c == ')' || c == '"' || c == ':' || c == '.' ||
            c == '\\')
            return false;
    }
    return true;
}

std::string pathText(const std::vector<std::string> &path)
{
    std::string out = "@";
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (i)
            out += '.';
        out += bareKey(path[i]) ? path[i] : quote(path[i]);
    }
    return out;
}

std::string regexText(std::string_view pattern)
{
    std::string out = "/";
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\' && i + 1 < pattern.size()) {
            out += c;
            out += pattern[++i];
        } else if (c == '/') {
            out += "\\/";
        } else {
            out += c;
        }
    }
    out += '/';
    return out;
}

bool isGroup(const Node &n)
{
    return std::holds_alternative<And>(n.value) || std::holds_alternative<Or>(n.value);
}

std::string print(const Node &node);

std::string printChild(const Node &child, bool parenthesize)
{
    return parenthesize ? "(" + print(child) + ")" : print(child);
}

std::string print(const Node &node)
{
    return std::visit(
        Overloaded{
            [](const MatchAll &) { return std::string(); },
            [](const And &n) {
                std::string out;
                for (const Node &c : n.children) {
                    if (!out.empty())
                        out += " AND ";
                    out += printChild(c, isGroup(c));
                }
                return out;
            },
            [](const Or &n) {
                std::string out;
                for (const Node &c : n.children) {
                    if (!out.empty())
                        out += " OR ";
                    out += printChild(c, std::holds_alternative<Or>(c.value));
                }
                return out;
            },
            [](const Not &n) {
                if (n.operand.empty())
                    return std::string("NOT ()");
                return "NOT " + printChild(n.operand.front(), isGroup(n.operand.front()));
            },
            [](const LevelTerm &t) {
                return "level:" + std::string(opText(t.op)) + std::string(levelName(t.level));
            },
            [](const FieldTerm &t) {
                return std::string(fieldName(t.field)) + ":" + patternText(t.value);
            },
            [](const MessageTerm &t) { return quote(t.text); },
            [](const RegexTerm &t) { return regexText(t.pattern); },
            [](const AttrTerm &t) {
                std::string out = pathText(t.path) + ":";
                switch (t.kind) {
                case AttrTerm::Kind::Exists:
                    return out + "*";
                case AttrTerm::Kind::Text:
                    return out + patternText(t.text);
                case AttrTerm::Kind::Number:
                    return out + std::string(opText(t.op)) + t.number;
                }
                return out;
            },
        },
        node.value);
}

std::string debugOp(CompareOp op)
{
    return op == CompareOp::Eq ? std::string("=") : std::string(opText(op));
}

std::string debugPattern(const Pattern &p)
{
    std::string out;
    for (std::size_t i = 0; i < p.segments.size(); ++i) {
        if (i)
            out += " *";
        out += " " + quote(p.segments[i]);
    }
    return out;
}

std::string debug(const Node &node)
{
    const auto list = [](std::string_view head, const std::vector<Node> &children) {
        std::string out = "(" + std::string(head);
        for (const Node &c : children)
            out += " " + debug(c);
        return out + ")";
    };
    return std::visit(
        Overloaded{
            [](const MatchAll &) { return std::string("(all)"); },
            [&](const And &n) { return list("and", n.children); },
            [&](const Or &n) { return list("or", n.children); },
            [&](const Not &n) { return list("not", n.operand); },
            [](const LevelTerm &t) {
                return "(level " + debugOp(t.op) + " " + std::string(levelName(t.level)) + ")";
            },
            [](const FieldTerm &t) {
                return "(" + std::string(fieldName(t.field)) + debugPattern(t.value) + ")";
            },
            [](const MessageTerm &t) { return "(message " + quote(t.text) + ")"; },
            [](const RegexTerm &t) { return "(regex " + quote(t.pattern) + ")"; },
            [](const AttrTerm &t) {
                std::string out = "(attr (";
                for (std::size_t i = 0; i < t.path.size(); ++i)
                    out += (i ? " " : "") + quote(t.path[i]);
                out += ")";
                switch (t.kind) {
                case AttrTerm::Kind::Exists:
                    return out + " exists)";
                case AttrTerm::Kind::Text:
                    return out + " text" + debugPattern(t.text) + ")";
                case AttrTerm::Kind::Number:
                    return out + " number " + debugOp(t.op) + " " + t.number + ")";
                }
                return out + ")";
            },
        },
        node.value);
}

} // namespace

bool Pattern::isAnyValue() const noexcept
{
    if (segments.size() < 2)
        return false;
    for (const std::string &s : segments) {
        if (!s.empty())
            return false;
    }
    return true;
}

std::string_view fieldName(TextField field) noexcept
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

std::string toQueryString(const Node &node)
{
    return print(node);
}

std::string toDebugString(const Node &node)
{
    return debug(node);
}

} // namespace idl::query
