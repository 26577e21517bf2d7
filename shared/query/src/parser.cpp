// Recursive-descent parser over the lexer's tokens.
//   query   := orExpr? EOF
//   orExpr  := andExpr ("OR" andExpr)*
//   andExpr := unary (["AND"] unary)*          (juxtaposition is AND)
//   unary   := ("NOT" | "-") unary | primary
//   primary := "(" orExpr ")" | field ":" [op] value | "@" path ":" [op] value
//            | word | "phrase" | /regex/
// Recursion depth is bounded by ParseLimits::maxDepth (parentheses and negations count).
#include "idl/query/parser.h"

#include "idl/core/utf8.h"
#include "lexer_impl.h"
#include "regex_check.h"

#include <string>

namespace idl::query {

namespace {

using detail::LexToken;

bool isNumberLiteral(std::string_view s)
{
    // -?digits(.digits)?([eE][+-]?digits{1,2})?, at most 40 characters.
    if (s.empty() || s.size() > 40)
        return false;
    std::size_t i = 0;
    const auto digits = [&](std::size_t maxCount) {
        const std::size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < maxCount)
            ++i;
        return i > start;
    };
    if (s[i] == '-')
        ++i;
    if (!digits(64))
        return false;
    if (i < s.size() && s[i] == '.') {
        ++i;
        if (!digits(64))
            return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-'))
            ++i;
        if (!digits(2))
            return false;
    }
    return i == s.size();
}

// Drops empty segments between wildcards ("a**b" is "a*b").
Pattern normalizePattern(std::vector<std::string> segments)
{
    Pattern p;
    p.segments.clear();
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const bool edge = i == 0 || i + 1 == segments.size();
        if (segments[i].empty() && !edge)
            continue;
        p.segments.push_back(std::move(segments[i]));
    }
    return p;
}

CompareOp opFromText(std::string_view op)
{
    if (op == ">=")
        return CompareOp::Ge;
    if (op == ">")
        return CompareOp::Gt;
    if (op == "<=")
        return CompareOp::Le;
    return CompareOp::Lt;
}

class Parser
{
public:
    Parser(std::string_view text, const ParseLimits &limits)
        : m_text(text), m_limits(limits), m_tokens(detail::lex(text))
    {}

    Result<Node> run()
    {
        if (m_tokens.empty())
            return Node{MatchAll{}, 0};
        Node root;
        if (!parseOr(root, 0))
            return std::move(*m_error);
        if (m_i < m_tokens.size()) {
            const LexToken &t = m_tokens[m_i];
            if (t.kind == TokenKind::RParen)
                return fail(t.begin,
                            "unexpected ')' at " + std::to_string(t.begin) + " (no matching '(')");
            return fail(t.begin, "unexpected text at " + std::to_string(t.begin));
        }
        return root;
    }

private:
    Error fail(std::size_t position, std::string message, ErrorCode code = ErrorCode::QuerySyntax)
    {
        if (!m_error)
            m_error = Error{code, std::move(message), static_cast<long long>(position)};
        return *m_error;
    }

    bool failed(std::size_t position, std::string message, ErrorCode code = ErrorCode::QuerySyntax)
    {
        fail(position, std::move(message), code);
        return false;
    }

    const LexToken *peek() const { return m_i < m_tokens.size() ? &m_tokens[m_i] : nullptr; }
    std::size_t here() const { return m_i < m_tokens.size() ? m_tokens[m_i].begin : m_text.size(); }

    static bool startsUnary(TokenKind k)
    {
        switch (k) {
        case TokenKind::And:
        case TokenKind::Or:
        case TokenKind::RParen:
        case TokenKind::Colon:
        case TokenKind::Operator:
        case TokenKind::Value:
            return false;
        default:
            return true;
        }
    }

    bool checkDepth(int depth, std::size_t position)
    {
        if (depth > m_limits.maxDepth)
            return failed(position,
                          "query nests deeper than " + std::to_string(m_limits.maxDepth) +
                              " levels at " + std::to_string(position),
                          ErrorCode::QueryTooComplex);
        return true;
    }

    bool countTerm(std::size_t position)
    {
        if (++m_terms > m_limits.maxTerms)
            return failed(position,
                          "query has more than " + std::to_string(m_limits.maxTerms) +
                              " terms (at " + std::to_string(position) + ")",
                          ErrorCode::QueryTooComplex);
        return true;
    }

    template <typename Group> static void append(std::vector<Node> &children, Node &&child)
    {
        if (auto *same = std::get_if<Group>(&child.value)) {
            for (Node &grandChild : same->children)
                children.push_back(std::move(grandChild));
        } else {
            children.push_back(std::move(child));
        }
    }

    bool parseOr(Node &out, int depth)
    {
        Node first;
        if (!parseAnd(first, depth))
            return false;
        if (!peek() || peek()->kind != TokenKind::Or) {
            out = std::move(first);
            return true;
        }
        Or group;
        const std::size_t position = first.position;
        append<Or>(group.children, std::move(first));
        while (peek() && peek()->kind == TokenKind::Or) {
            const std::size_t opAt = peek()->begin;
            ++m_i;
            if (!peek() || !startsUnary(peek()->kind))
                return failed(here(), "expected a term after 'OR' at " + std::to_string(opAt));
            Node next;
            if (!parseAnd(next, depth))
                return false;
            append<Or>(group.children, std::move(next));
        }
        out = Node{std::move(group), position};
        return true;
    }

    bool parseAnd(Node &out, int depth)
    {
        Node first;
        if (!parseUnary(first, depth))
            return false;
        And group;
        const std::size_t position = first.position;
        append<And>(group.children, std::move(first));
        while (const LexToken *t = peek()) {
            if (t->kind == TokenKind::And) {
                const std::size_t opAt = t->begin;
                ++m_i;
                if (!peek() || !startsUnary(peek()->kind))
                    return failed(here(), "expected a term after 'AND' at " + std::to_string(opAt));
            } else if (!startsUnary(t->kind)) {
                break;
            }
            Node next;
            if (!parseUnary(next, depth))
                return false;
            append<And>(group.children, std::move(next));
        }
        if (group.children.size() == 1)
            out = std::move(group.children.front());
        else
            out = Node{std::move(group), position};
        return true;
    }

    bool parseUnary(Node &out, int depth)
    {
        const LexToken *t = peek();
        if (t && (t->kind == TokenKind::Not || t->kind == TokenKind::Minus)) {
            const std::size_t position = t->begin;
            const bool keyword = t->kind == TokenKind::Not;
            if (!checkDepth(depth + 1, position))
                return false;
            ++m_i;
            if (!peek() || !startsUnary(peek()->kind))
                return failed(here(), std::string("expected a term after '") +
                                          (keyword ? "NOT" : "-") + "' at " +
                                          std::to_string(position));
            Node operand;
            if (!parseUnary(operand, depth + 1))
                return false;
            Not n;
            n.operand.push_back(std::move(operand));
            out = Node{std::move(n), position};
            return true;
        }
        return parsePrimary(out, depth);
    }

    bool parsePrimary(Node &out, int depth)
    {
        const LexToken *t = peek();
        if (!t)
            return failed(m_text.size(), "expected a term at the end of the query");
        const std::size_t at = t->begin;
        switch (t->kind) {
        case TokenKind::LParen: {
            if (!checkDepth(depth + 1, at))
                return false;
            ++m_i;
            if (peek() && peek()->kind == TokenKind::RParen)
                return failed(peek()->begin, "empty parentheses at " + std::to_string(at));
            if (!peek())
                return failed(m_text.size(), "expected a term after '(' at " + std::to_string(at));
            if (!parseOr(out, depth + 1))
                return false;
            if (!peek() || peek()->kind != TokenKind::RParen)
                return failed(here(), "expected ')' to close '(' at " + std::to_string(at));
            ++m_i;
            return true;
        }
        case TokenKind::Word:
        case TokenKind::Phrase: {
            if (!countTerm(at))
                return false;
            if (t->text.empty())
                return failed(at, "empty phrase at " + std::to_string(at));
            out = Node{MessageTerm{t->text}, at};
            ++m_i;
            return true;
        }
        case TokenKind::Regex: {
            if (!countTerm(at))
                return false;
            if (auto err = detail::checkRegex(t->text, at, m_limits.maxRegexBytes)) {
                m_error = std::move(*err);
                return false;
            }
            out = Node{RegexTerm{t->text}, at};
            ++m_i;
            return true;
        }
        case TokenKind::Field:
            return parseField(out);
        case TokenKind::Attribute:
            return parseAttribute(out);
        case TokenKind::UnknownField:
            return failed(at, "unknown field '" + t->text + "' at " + std::to_string(at) +
                                  " (fields: level, app, host, message, trace_id, span_id, "
                                  "@attribute; quote text that contains ':')");
        case TokenKind::Error:
            return failed(t->errorAt, t->text);
        case TokenKind::RParen:
            return failed(at, "unexpected ')' at " + std::to_string(at));
        case TokenKind::And:
        case TokenKind::Or:
            return failed(at, std::string("expected a term before '") +
                                  (t->kind == TokenKind::And ? "AND" : "OR") + "' at " +
                                  std::to_string(at));
        default:
            return failed(at, "unexpected text at " + std::to_string(at));
        }
    }

    // After "name:" (the Colon token follows the name token): optional operator and a value.
    struct ValueParts
    {
        const LexToken *op = nullptr;
        const LexToken *value = nullptr;
    };

    bool readValue(ValueParts &parts, std::string_view what)
    {
        ++m_i; // name
        const std::size_t valueAt = m_tokens[m_i].end;
        ++m_i; // ':' (always emitted after a name)
        if (peek() && peek()->kind == TokenKind::Operator)
            parts.op = &m_tokens[m_i++];
        const LexToken *v = peek();
        if (v && v->kind == TokenKind::Error)
            return failed(v->errorAt, v->text);
        if (!v ||
            (v->kind != TokenKind::Value && v->kind != TokenKind::Phrase &&
             v->kind != TokenKind::Regex) ||
            (parts.op == nullptr && m_i > 0 && v->begin != m_tokens[m_i - 1].end) ||
            (parts.op != nullptr && v->begin != parts.op->end))
            return failed(valueAt, "expected a value right after '" + std::string(what) + ":' at " +
                                       std::to_string(valueAt));
        parts.value = v;
        ++m_i;
        return true;
    }

    bool parseField(Node &out)
    {
        const LexToken &name = m_tokens[m_i];
        const std::size_t at = name.begin;
        const std::string field = name.text;
        if (!countTerm(at))
            return false;
        ValueParts parts;
        if (!readValue(parts, field))
            return false;
        const LexToken &v = *parts.value;
        if (parts.op && field != "level")
            return failed(parts.op->begin, "comparison operators apply only to level and "
                                           "@attributes (at " +
                                               std::to_string(parts.op->begin) + ")");
        if (v.kind == TokenKind::Regex && field != "message")
            return failed(v.begin, "regular expressions apply only to the message (at " +
                                       std::to_string(v.begin) + ")");
        if (field == "level") {
            std::string text;
            if (v.kind == TokenKind::Phrase)
                text = v.text;
            else if (v.segments.size() == 1)
                text = v.segments.front();
            const bool digits =
                !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
            const std::optional<Level> level = digits ? std::nullopt : parseLevel(text);
            if (!level)
                return failed(v.begin, "unknown level at " + std::to_string(v.begin) +
                                           " (expected trace, debug, info, warn, error or "
                                           "fatal)");
            LevelTerm term;
            term.level = *level;
            term.op = parts.op ? opFromText(parts.op->text) : CompareOp::Eq;
            out = Node{term, at};
            return true;
        }
        if (field == "message") {
            if (v.kind == TokenKind::Regex) {
                if (auto err = detail::checkRegex(v.text, v.begin, m_limits.maxRegexBytes)) {
                    m_error = std::move(*err);
                    return false;
                }
                out = Node{RegexTerm{v.text}, at};
                return true;
            }
            std::string text = v.text;
            if (v.kind == TokenKind::Value) {
                // '*' is literal in message text.
                text.clear();
                for (std::size_t i = 0; i < v.segments.size(); ++i)
                    text += (i ? "*" : "") + v.segments[i];
            }
            if (text.empty())
                return failed(v.begin, "empty message text at " + std::to_string(v.begin));
            out = Node{MessageTerm{std::move(text)}, at};
            return true;
        }
        FieldTerm term;
        if (field == "app")
            term.field = TextField::App;
        else if (field == "host")
            term.field = TextField::Host;
        else if (field == "trace_id")
            term.field = TextField::TraceId;
        else
            term.field = TextField::SpanId;
        term.value =
            v.kind == TokenKind::Phrase ? Pattern::exact(v.text) : normalizePattern(v.segments);
        out = Node{std::move(term), at};
        return true;
    }

    bool parseAttribute(Node &out)
    {
        const LexToken &name = m_tokens[m_i];
        const std::size_t at = name.begin;
        if (!countTerm(at))
            return false;
        if (name.path.size() > m_limits.maxPathSegments)
            return failed(at,
                          "attribute path at " + std::to_string(at) + " has more than " +
                              std::to_string(m_limits.maxPathSegments) + " keys",
                          ErrorCode::QueryTooComplex);
        AttrTerm term;
        term.path = name.path;
        ValueParts parts;
        if (!readValue(parts, "@attribute"))
            return false;
        const LexToken &v = *parts.value;
        if (v.kind == TokenKind::Regex)
            return failed(v.begin, "regular expressions apply only to the message (at " +
                                       std::to_string(v.begin) + ")");
        const bool bareNumber = v.kind == TokenKind::Value && v.segments.size() == 1 &&
                                isNumberLiteral(v.segments.front());
        if (parts.op) {
            if (!bareNumber)
                return failed(v.begin, "expected a number after '" + parts.op->text + "' at " +
                                           std::to_string(parts.op->begin));
            term.kind = AttrTerm::Kind::Number;
            term.op = opFromText(parts.op->text);
            term.number = v.segments.front();
        } else if (bareNumber) {
            term.kind = AttrTerm::Kind::Number;
            term.number = v.segments.front();
        } else if (v.kind == TokenKind::Phrase) {
            term.kind = AttrTerm::Kind::Text;
            term.text = Pattern::exact(v.text);
        } else {
            term.text = normalizePattern(v.segments);
            term.kind = term.text.isAnyValue() ? AttrTerm::Kind::Exists : AttrTerm::Kind::Text;
            if (term.kind == AttrTerm::Kind::Exists)
                term.text = Pattern{};
        }
        out = Node{std::move(term), at};
        return true;
    }

    std::string_view m_text;
    ParseLimits m_limits;
    std::vector<LexToken> m_tokens;
    std::size_t m_i = 0;
    int m_terms = 0;
    std::optional<Error> m_error;
};

} // namespace

Result<Node> parse(std::string_view text, const ParseLimits &limits)
{
    if (text.size() > limits.maxBytes)
        return makeError(ErrorCode::QueryTooComplex,
                         "query is longer than " + std::to_string(limits.maxBytes) + " bytes",
                         static_cast<long long>(limits.maxBytes));
    const std::size_t bad = findInvalidUtf8(text);
    if (bad != std::string_view::npos)
        return makeError(ErrorCode::QuerySyntax, "invalid UTF-8 at byte " + std::to_string(bad),
                         static_cast<long long>(bad));
    const std::size_t nul = text.find('\0');
    if (nul != std::string_view::npos)
        return makeError(ErrorCode::QuerySyntax,
                         "NUL character at " + std::to_string(nul) + " is not allowed",
                         static_cast<long long>(nul));
    return Parser(text, limits).run();
}

} // namespace idl::query
