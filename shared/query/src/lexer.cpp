// Context-sensitive lexer: after "field:" or "@path:" it reads an operator and one value;
// elsewhere words, phrases, regexes, keywords and parentheses. Single pass, linear time.
#include "idl/core/utf8.h"
#include "lexer_impl.h"

#include <array>
#include <string>

namespace idl::query {
namespace detail {

namespace {

struct FieldAlias
{
    std::string_view name;
    std::string_view canonical;
};

constexpr std::array<FieldAlias, 7> kFields{{
    {"level", "level"},
    {"app", "app"},
    {"host", "host"},
    {"message", "message"},
    {"msg", "message"},
    {"trace_id", "trace_id"},
    {"span_id", "span_id"},
}};

bool isNulOrInvalid(std::string_view s, std::size_t i) noexcept
{
    return s[i] == '\0' || utf8SequenceLength(s, i) == 0;
}

// Appends the character at s[i] (a whole UTF-8 sequence when valid) and returns its length.
std::size_t appendChar(std::string &out, std::string_view s, std::size_t i)
{
    std::size_t len = utf8SequenceLength(s, i);
    if (len == 0)
        len = 1;
    out.append(s.substr(i, len));
    return len;
}

class Lexer
{
public:
    explicit Lexer(std::string_view text) : m_s(text) {}

    std::vector<LexToken> run()
    {
        while (true) {
            skipSpace();
            if (m_i >= m_s.size())
                break;
            lexOne();
        }
        return std::move(m_out);
    }

private:
    void skipSpace()
    {
        while (m_i < m_s.size() && isQuerySpace(m_s[m_i]))
            ++m_i;
    }

    void push(TokenKind kind, std::size_t begin, std::size_t end, std::string text = {})
    {
        LexToken t;
        t.kind = kind;
        t.begin = begin;
        t.end = end;
        t.text = std::move(text);
        t.errorAt = begin;
        m_out.push_back(std::move(t));
    }

    void badByte()
    {
        const std::size_t at = m_i;
        if (m_s[at] == '\0')
            push(TokenKind::Error, at, at + 1,
                 "NUL character at " + std::to_string(at) + " is not allowed");
        else
            push(TokenKind::Error, at, at + 1, "invalid UTF-8 at byte " + std::to_string(at));
        ++m_i;
    }

    // "..." starting at m_i. Backslash escapes the next character.
    void quoted()
    {
        const std::size_t begin = m_i;
        std::string text;
        std::size_t i = begin + 1;
        while (i < m_s.size()) {
            const char c = m_s[i];
            if (c == '\\' && i + 1 < m_s.size()) {
                i += 1 + appendChar(text, m_s, i + 1);
            } else if (c == '"') {
                m_i = i + 1;
                push(TokenKind::Phrase, begin, m_i, std::move(text));
                return;
            } else {
                i += appendChar(text, m_s, i);
            }
        }
        m_i = m_s.size();
        push(TokenKind::Error, begin, m_i,
             "unterminated quoted phrase starting at " + std::to_string(begin));
    }

    // /.../ starting at m_i. "\/" is a slash; other escapes are kept for the regex engine.
    void regex()
    {
        const std::size_t begin = m_i;
        std::string text;
        std::size_t i = begin + 1;
        while (i < m_s.size()) {
            const char c = m_s[i];
            if (c == '\\' && i + 1 < m_s.size()) {
                if (m_s[i + 1] == '/') {
                    text += '/';
                    i += 2;
                } else {
                    text += '\\';
                    i += 1 + appendChar(text, m_s, i + 1);
                }
            } else if (c == '/') {
                m_i = i + 1;
                push(TokenKind::Regex, begin, m_i, std::move(text));
                return;
            } else {
                i += appendChar(text, m_s, i);
            }
        }
        m_i = m_s.size();
        push(TokenKind::Error, begin, m_i,
             "unterminated regular expression starting at " + std::to_string(begin));
    }

    // A run of characters up to a stop character, with backslash escapes. When segments is
    // given, unescaped '*' splits it. Stops before NUL and invalid UTF-8. Returns whether an
    // escape was seen.
    bool bareRun(std::string &text, std::vector<std::string> *segments, bool stopAtColon,
                 bool stopAtDot = false)
    {
        bool escaped = false;
        while (m_i < m_s.size()) {
            const char c = m_s[m_i];
            if (isQuerySpace(c) || c == '(' || c == ')' || c == '"' || (stopAtColon && c == ':') ||
                (stopAtDot && c == '.') || isNulOrInvalid(m_s, m_i))
                break;
            if (c == '\\' && m_i + 1 < m_s.size() && !isNulOrInvalid(m_s, m_i + 1)) {
                escaped = true;
                m_i += 1 + appendChar(text, m_s, m_i + 1);
            } else if (c == '*' && segments) {
                segments->push_back(std::move(text));
                text.clear();
                ++m_i;
            } else {
                m_i += appendChar(text, m_s, m_i);
            }
        }
        return escaped;
    }

    // The operator and value after "field:" or "@path:".
    void value()
    {
        if (m_i < m_s.size() && (m_s[m_i] == '>' || m_s[m_i] == '<')) {
            const std::size_t begin = m_i;
            m_i += (m_i + 1 < m_s.size() && m_s[m_i + 1] == '=') ? 2 : 1;
            push(TokenKind::Operator, begin, m_i, std::string(m_s.substr(begin, m_i - begin)));
        }
        if (m_i >= m_s.size())
            return;
        const char c = m_s[m_i];
        if (isQuerySpace(c) || c == '(' || c == ')' || isNulOrInvalid(m_s, m_i))
            return; // the parser reports the missing value
        if (c == '"') {
            quoted();
            return;
        }
        if (c == '/') {
            regex();
            return;
        }
        const std::size_t begin = m_i;
        std::string text;
        std::vector<std::string> segments;
        bareRun(text, &segments, false);
        segments.push_back(std::move(text));
        LexToken t;
        t.kind = TokenKind::Value;
        t.begin = begin;
        t.end = m_i;
        t.segments = std::move(segments);
        m_out.push_back(std::move(t));
    }

    void attribute()
    {
        const std::size_t begin = m_i;
        ++m_i; // '@'
        std::vector<std::string> path;
        while (true) {
            std::string seg;
            if (m_i < m_s.size() && m_s[m_i] == '"') {
                const std::size_t before = m_out.size();
                quoted();
                if (m_out.back().kind == TokenKind::Error) {
                    m_out.back().begin = begin;
                    return;
                }
                seg = std::move(m_out.back().text);
                m_out.resize(before);
            } else {
                bareRun(seg, nullptr, true, true);
            }
            if (seg.empty()) {
                push(TokenKind::Error, begin, std::max(m_i, begin + 1),
                     "empty key in attribute path at " + std::to_string(m_i));
                m_out.back().errorAt = m_i;
                return;
            }
            path.push_back(std::move(seg));
            if (m_i < m_s.size() && m_s[m_i] == '.') {
                ++m_i;
                continue;
            }
            break;
        }
        if (m_i >= m_s.size() || m_s[m_i] != ':') {
            push(TokenKind::Error, begin, m_i,
                 "expected ':' after attribute at " + std::to_string(m_i));
            m_out.back().errorAt = m_i;
            return;
        }
        LexToken t;
        t.kind = TokenKind::Attribute;
        t.begin = begin;
        t.end = m_i;
        t.path = std::move(path);
        m_out.push_back(std::move(t));
        push(TokenKind::Colon, m_i, m_i + 1);
        ++m_i;
        value();
    }

    bool startsTerm(std::size_t i) const
    {
        if (i >= m_s.size())
            return false;
        const char c = m_s[i];
        return !(isQuerySpace(c) || c == ')' || c == ':' || c == '-' || isNulOrInvalid(m_s, i));
    }

    void lexOne()
    {
        const char c = m_s[m_i];
        const std::size_t begin = m_i;
        if (isNulOrInvalid(m_s, m_i)) {
            badByte();
        } else if (c == '(') {
            push(TokenKind::LParen, begin, ++m_i);
        } else if (c == ')') {
            push(TokenKind::RParen, begin, ++m_i);
        } else if (c == '"') {
            quoted();
        } else if (c == '/') {
            regex();
        } else if (c == '@') {
            attribute();
        } else if (c == ':') {
            push(TokenKind::Error, begin, ++m_i,
                 "unexpected ':' at " + std::to_string(begin) + " (quote text that contains ':')");
        } else if (c == '-' && startsTerm(m_i + 1)) {
            push(TokenKind::Minus, begin, ++m_i);
        } else {
            word();
        }
    }

    void word()
    {
        const std::size_t begin = m_i;
        std::string text;
        const bool escaped = bareRun(text, nullptr, true);
        if (m_i < m_s.size() && m_s[m_i] == ':') {
            std::string canonical = canonicalFieldName(text);
            if (canonical.empty())
                push(TokenKind::UnknownField, begin, m_i, std::move(text));
            else
                push(TokenKind::Field, begin, m_i, std::move(canonical));
            push(TokenKind::Colon, m_i, m_i + 1);
            ++m_i;
            value();
            return;
        }
        if (!escaped && text == "AND")
            push(TokenKind::And, begin, m_i);
        else if (!escaped && text == "OR")
            push(TokenKind::Or, begin, m_i);
        else if (!escaped && text == "NOT")
            push(TokenKind::Not, begin, m_i);
        else
            push(TokenKind::Word, begin, m_i, std::move(text));
    }

    std::string_view m_s;
    std::size_t m_i = 0;
    std::vector<LexToken> m_out;
};

} // namespace

bool isQuerySpace(char c) noexcept
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string canonicalFieldName(std::string_view name)
{
    if (name.size() > 16)
        return {};
    std::string lower(name);
    for (char &c : lower) {
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    }
    for (const FieldAlias &f : kFields) {
        if (f.name == lower)
            return std::string(f.canonical);
    }
    return {};
}

std::vector<LexToken> lex(std::string_view text)
{
    return Lexer(text).run();
}

} // namespace detail

std::vector<Token> tokenize(std::string_view text)
{
    std::vector<Token> out;
    for (const detail::LexToken &t : detail::lex(text))
        out.push_back(Token{t.kind, t.begin, t.end});
    return out;
}

} // namespace idl::query
