// The regex dialect accepted in queries: the common subset of PostgreSQL AREs and RE2, so that
// the SQL and the live-tail evaluator agree, and nothing reaches PostgreSQL that it would
// reject or read differently (\b is a backspace there, a word boundary in RE2; lookarounds
// and backreferences exist only in PostgreSQL; repetition counts above 255 fail there).
#include "regex_check.h"

#include <string>

namespace idl::query::detail {

namespace {

constexpr int kMaxRepeat = 255; // PostgreSQL's DUPMAX

bool isDigit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

bool isAsciiAlnum(char c) noexcept
{
    return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

Error regexError(std::string message, std::size_t position)
{
    return Error{ErrorCode::QuerySyntax, std::move(message), static_cast<long long>(position)};
}

// Reads "{m}", "{m,}" or "{m,n}" at p[i] == '{'; returns the index after '}' or npos.
std::size_t readBound(std::string_view p, std::size_t i)
{
    std::size_t j = i + 1;
    const auto number = [&](int &out) {
        const std::size_t start = j;
        out = 0;
        while (j < p.size() && isDigit(p[j]) && j - start < 4) {
            out = out * 10 + (p[j] - '0');
            ++j;
        }
        return j > start;
    };
    int m = 0;
    int n = -1;
    if (!number(m))
        return std::string_view::npos;
    if (j < p.size() && p[j] == ',') {
        ++j;
        if (j < p.size() && isDigit(p[j]) && !number(n))
            return std::string_view::npos;
    } else {
        n = m;
    }
    if (j >= p.size() || p[j] != '}')
        return std::string_view::npos;
    if (m > kMaxRepeat || n > kMaxRepeat || (n >= 0 && n < m))
        return std::string_view::npos;
    return j + 1;
}

// ASCII definitions of RE2's classes, written out for PostgreSQL, whose classes follow the
// collation (idl_fold: Unicode letters, digits and spaces).
constexpr std::string_view kAsciiSpace = "\t\n\f\r ";

std::string_view asciiClassMembers(std::string_view name)
{
    static constexpr std::pair<std::string_view, std::string_view> classes[] = {
        {"alnum", "0-9A-Za-z"},    {"alpha", "A-Za-z"},        {"ascii", "\x01-\x7f"},
        {"blank", "\t "},          {"cntrl", "\x01-\x1f\x7f"}, {"digit", "0-9"},
        {"graph", "!-~"},          {"lower", "a-z"},           {"print", " -~"},
        {"punct", "!-/:-@[-`{-~"}, {"space", "\t\n\v\f\r "},   {"upper", "A-Z"},
        {"word", "0-9A-Za-z_"},    {"xdigit", "0-9A-Fa-f"},
    };
    for (const auto &[n, members] : classes) {
        if (n == name)
            return members;
    }
    return {};
}

} // namespace

std::string postgresPattern(std::string_view p)
{
    std::string out;
    out.reserve(p.size() + 16);
    bool inBracket = false;
    for (std::size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '\\' && i + 1 < p.size()) {
            const char e = p[++i];
            std::string_view members;
            bool negated = false;
            switch (e) {
            case 'd':
            case 'D':
                members = "0-9";
                negated = e == 'D';
                break;
            case 'w':
            case 'W':
                members = "0-9A-Za-z_";
                negated = e == 'W';
                break;
            case 's':
            case 'S':
                members = kAsciiSpace;
                negated = e == 'S';
                break;
            default:
                break;
            }
            if (members.empty()) {
                out += c;
                out += e;
            } else if (inBracket) {
                out += members; // checkRegex rejects the negated ones inside [...]
            } else {
                out += negated ? "[^" : "[";
                out += members;
                out += ']';
            }
            continue;
        }
        if (inBracket) {
            if (c == '[' && i + 1 < p.size() && p[i + 1] == ':') {
                const std::size_t close = p.find(":]", i + 2);
                const std::string_view members =
                    close == std::string_view::npos
                        ? std::string_view()
                        : asciiClassMembers(p.substr(i + 2, close - i - 2));
                if (!members.empty()) {
                    out += members;
                    i = close + 1;
                    continue;
                }
            } else if (c == ']') {
                inBracket = false;
            }
            out += c;
            continue;
        }
        out += c;
        if (c == '[') {
            inBracket = true;
            if (i + 1 < p.size() && p[i + 1] == '^')
                out += p[++i];
            if (i + 1 < p.size() && p[i + 1] == ']')
                out += p[++i];
        }
    }
    return out;
}

bool isAscii(std::string_view text) noexcept
{
    for (char c : text) {
        if (static_cast<unsigned char>(c) >= 0x80)
            return false;
    }
    return true;
}

RE2::Options regexOptions()
{
    RE2::Options o;
    o.set_case_sensitive(false);
    o.set_dot_nl(true);
    o.set_log_errors(false);
    o.set_encoding(RE2::Options::EncodingUTF8);
    o.set_max_mem(8 << 20);
    return o;
}

std::optional<Error> checkRegex(std::string_view p, std::size_t position, std::size_t maxBytes)
{
    if (p.empty())
        return regexError("empty regular expression at " + std::to_string(position), position);
    if (p.size() > maxBytes)
        return Error{ErrorCode::QueryTooComplex,
                     "regular expression at " + std::to_string(position) + " is longer than " +
                         std::to_string(maxBytes) + " bytes",
                     static_cast<long long>(position)};
    // Offsets below are into the pattern; +1 for the opening '/' (close enough when "\/"
    // escapes shifted it).
    const auto at = [&](std::size_t i) { return position + 1 + i; };
    bool inBracket = false;
    for (std::size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '\\') {
            if (i + 1 >= p.size())
                return regexError("regular expression ends with '\\' at " + std::to_string(at(i)),
                                  at(i));
            const char e = p[i + 1];
            const bool classEscape = e == 'd' || e == 'D' || e == 's' || e == 'S' || e == 'w' ||
                                     e == 'W' || e == 'n' || e == 't' || e == 'r';
            const bool literal =
                static_cast<unsigned char>(e) < 0x80 && !isAsciiAlnum(e) && e > ' ';
            if (inBracket && (e == 'D' || e == 'S' || e == 'W'))
                return regexError("'\\" + std::string(1, e) +
                                      "' inside [...] is not supported in regular expressions "
                                      "(at " +
                                      std::to_string(at(i)) + "; write [^...] instead)",
                                  at(i));
            if (!classEscape && !literal)
                return regexError("unsupported escape '\\" + std::string(1, e) +
                                      "' in regular expression at " + std::to_string(at(i)) +
                                      " (allowed: \\d \\D \\s \\S \\w \\W \\n \\t \\r and "
                                      "escaped punctuation)",
                                  at(i));
            ++i;
            continue;
        }
        if (inBracket) {
            if (c == '[' && i + 1 < p.size() && (p[i + 1] == ':')) {
                const std::size_t close = p.find(":]", i + 2);
                if (close == std::string_view::npos)
                    return regexError(
                        "unterminated character class name at " + std::to_string(at(i)), at(i));
                i = close + 1;
            } else if (c == '[' && i + 1 < p.size() && (p[i + 1] == '.' || p[i + 1] == '=')) {
                return regexError("collating elements are not supported in regular "
                                  "expressions (at " +
                                      std::to_string(at(i)) + ")",
                                  at(i));
            } else if (c == ']') {
                inBracket = false;
            }
            continue;
        }
        if (c == '[') {
            inBracket = true;
            // A ']' right after '[' or '[^' is a literal member.
            if (i + 1 < p.size() && p[i + 1] == '^')
                ++i;
            if (i + 1 < p.size() && p[i + 1] == ']')
                ++i;
        } else if (c == '(' && i + 1 < p.size() && p[i + 1] == '?') {
            if (i + 2 >= p.size() || p[i + 2] != ':')
                return regexError("only the '(?:' group is supported in regular expressions "
                                  "(at " +
                                      std::to_string(at(i)) + ")",
                                  at(i));
        } else if (c == '{') {
            const std::size_t next = readBound(p, i);
            if (next == std::string_view::npos)
                return regexError("invalid repetition count at " + std::to_string(at(i)) +
                                      " (use {m}, {m,} or {m,n} with numbers up to 255, or "
                                      "'\\{' for a brace)",
                                  at(i));
            i = next - 1;
        }
    }
    const RE2 re(re2::StringPiece(p.data(), p.size()), regexOptions());
    if (!re.ok())
        return regexError("invalid regular expression at " + std::to_string(position) + ": " +
                              re.error(),
                          position);
    return std::nullopt;
}

} // namespace idl::query::detail
