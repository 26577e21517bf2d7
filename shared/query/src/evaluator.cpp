// Live-tail matching with the SQL's semantics: ILIKE = Unicode lower-case substring, ~* =
// RE2 with PostgreSQL-like options, attrs #> path = simdjson DOM walk (keys, array indexes).
#include "idl/query/evaluator.h"

#include "regex_check.h"

#include <QString>

#include <simdjson.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <unordered_map>

namespace idl::query {

namespace {

template <class... F> struct Overloaded : F...
{
    using F::operator()...;
};
template <class... F> Overloaded(F...) -> Overloaded<F...>;

// Lower-case forms for case-insensitive substring matching, as the SQL does it: a needle of
// ASCII characters only compares with ASCII case folding (COLLATE "C", the fast path; a
// character outside ASCII never folds to an ASCII letter); any other needle compares with
// Unicode lower-casing on both sides (COLLATE idl_fold, ICU's root locale).
std::string foldAscii(std::string_view s)
{
    std::string out(s);
    for (char &c : out) {
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string foldUnicode(std::string_view s)
{
    if (detail::isAscii(s))
        return foldAscii(s);
    const QByteArray lower =
        QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())).toLower().toUtf8();
    return std::string(lower.constData(), static_cast<std::size_t>(lower.size()));
}

// A message needle, folded the way its SQL compares it.
struct Needle
{
    std::string folded;
    bool ascii = true;
};

Needle makeNeedle(std::string_view text)
{
    const bool ascii = detail::isAscii(text);
    return Needle{ascii ? foldAscii(text) : foldUnicode(text), ascii};
}

bool globMatch(const Pattern &p, std::string_view text)
{
    if (p.isExact())
        return text == p.segments.front();
    if (p.isAnyValue())
        return !text.empty();
    const std::string &first = p.segments.front();
    const std::string &last = p.segments.back();
    if (text.size() < first.size() + last.size())
        return false;
    if (text.substr(0, first.size()) != first)
        return false;
    if (text.substr(text.size() - last.size()) != last)
        return false;
    std::size_t pos = first.size();
    const std::size_t end = text.size() - last.size();
    for (std::size_t i = 1; i + 1 < p.segments.size(); ++i) {
        const std::string &seg = p.segments[i];
        const std::size_t found = text.substr(0, end).find(seg, pos);
        if (found == std::string_view::npos)
            return false;
        pos = found + seg.size();
    }
    return true;
}

bool compare(CompareOp op, int c)
{
    switch (op) {
    case CompareOp::Eq:
        return c == 0;
    case CompareOp::Lt:
        return c < 0;
    case CompareOp::Le:
        return c <= 0;
    case CompareOp::Gt:
        return c > 0;
    case CompareOp::Ge:
        return c >= 0;
    }
    return false;
}

template <typename T> int threeWay(T a, T b)
{
    return a < b ? -1 : (b < a ? 1 : 0);
}

// A decimal number, exactly: value = (negative ? -1 : 1) * 0.digits * 10^exponent, digits
// without leading or trailing zeros (empty for zero). PostgreSQL compares jsonb numbers as
// numeric, exactly; so does the evaluator, on the decimal text of both sides.
struct Decimal
{
    bool negative = false;
    std::string digits;
    long exponent = 0;
};

// Parses -?digits(.digits)?([eE][+-]?digits)? (JSON numbers and query literals).
std::optional<Decimal> parseDecimal(std::string_view s)
{
    Decimal d;
    std::size_t i = 0;
    if (i < s.size() && (s[i] == '-' || s[i] == '+'))
        d.negative = s[i++] == '-';
    std::string all;
    long pointAt = -1;
    bool anyDigit = false;
    for (; i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.'); ++i) {
        if (s[i] == '.') {
            if (pointAt >= 0)
                return std::nullopt;
            pointAt = static_cast<long>(all.size());
        } else {
            all += s[i];
            anyDigit = true;
        }
    }
    if (!anyDigit)
        return std::nullopt;
    long exp = 0;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        const char *begin = s.data() + i;
        if (i < s.size() && s[i] == '+')
            ++begin;
        const auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), exp);
        if (ec != std::errc() || exp > 1'000'000'000 || exp < -1'000'000'000)
            return std::nullopt;
        i = static_cast<std::size_t>(ptr - s.data());
    }
    if (i != s.size())
        return std::nullopt;
    const long intDigits = pointAt >= 0 ? pointAt : static_cast<long>(all.size());
    const std::size_t first = all.find_first_not_of('0');
    if (first == std::string::npos) {
        d.negative = false; // -0 = 0
        return d;
    }
    const std::size_t last = all.find_last_not_of('0');
    d.digits = all.substr(first, last - first + 1);
    d.exponent = intDigits - static_cast<long>(first) + exp;
    return d;
}

int compareDecimal(const Decimal &a, const Decimal &b)
{
    const int signA = a.digits.empty() ? 0 : (a.negative ? -1 : 1);
    const int signB = b.digits.empty() ? 0 : (b.negative ? -1 : 1);
    if (signA != signB)
        return signA < signB ? -1 : 1;
    if (signA == 0)
        return 0;
    int magnitude = 0;
    if (a.exponent != b.exponent)
        magnitude = a.exponent < b.exponent ? -1 : 1;
    else
        magnitude = a.digits < b.digits ? -1 : (a.digits == b.digits ? 0 : 1);
    return signA * magnitude;
}

// A numeric literal from the query: an exact integer when it is one, and its exact decimal.
struct NumberLiteral
{
    std::optional<std::int64_t> integer;
    std::optional<Decimal> decimal; // nullopt: out of range (PostgreSQL refuses it too)
};

NumberLiteral parseNumber(std::string_view s)
{
    NumberLiteral n;
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && ptr == s.data() + s.size())
        n.integer = v;
    n.decimal = parseDecimal(s);
    return n;
}

template <typename T> std::optional<int> compareWithDecimal(T value, const NumberLiteral &lit)
{
    if (!lit.decimal)
        return std::nullopt;
    char buf[64];
    const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value);
    if (ec != std::errc())
        return std::nullopt;
    const auto d = parseDecimal(std::string_view(buf, static_cast<std::size_t>(ptr - buf)));
    if (!d)
        return std::nullopt;
    return compareDecimal(*d, *lit.decimal);
}

// Compares a JSON number with a literal: -1, 0, 1, or nullopt when it is not a number. A
// double compares by its shortest decimal form, which is the JSON text for any number a
// program printed with round-trip precision (more digits than a double holds are rounded).
std::optional<int> compareNumber(simdjson::dom::element e, const NumberLiteral &lit)
{
    using simdjson::dom::element_type;
    switch (e.type()) {
    case element_type::INT64: {
        const std::int64_t v = e.get_int64().value_unsafe();
        if (lit.integer)
            return threeWay(v, *lit.integer);
        return compareWithDecimal(v, lit);
    }
    case element_type::UINT64: {
        const std::uint64_t v = e.get_uint64().value_unsafe();
        if (lit.integer && *lit.integer < 0)
            return 1;
        if (lit.integer)
            return threeWay(v, static_cast<std::uint64_t>(*lit.integer));
        return compareWithDecimal(v, lit);
    }
    case element_type::DOUBLE: {
        const double v = e.get_double().value_unsafe();
        if (!std::isfinite(v))
            return std::nullopt;
        return compareWithDecimal(v, lit);
    }
    default:
        return std::nullopt;
    }
}

// The element at path, following PostgreSQL's #> (object keys; integer indexes into arrays,
// negative ones from the end).
std::optional<simdjson::dom::element> lookup(simdjson::dom::element root,
                                             const std::vector<std::string> &path)
{
    simdjson::dom::element cur = root;
    for (const std::string &key : path) {
        if (cur.is_object()) {
            simdjson::dom::element next;
            if (cur.get_object().value_unsafe().at_key(key).get(next) != simdjson::SUCCESS)
                return std::nullopt;
            cur = next;
        } else if (cur.is_array()) {
            std::int64_t index = 0;
            const auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
            if (ec != std::errc() || ptr != key.data() + key.size())
                return std::nullopt;
            const simdjson::dom::array arr = cur.get_array().value_unsafe();
            const auto size = static_cast<std::int64_t>(arr.size());
            if (index < 0)
                index += size;
            if (index < 0 || index >= size)
                return std::nullopt;
            simdjson::dom::element next;
            if (arr.at(static_cast<std::size_t>(index)).get(next) != simdjson::SUCCESS)
                return std::nullopt;
            cur = next;
        } else {
            return std::nullopt;
        }
    }
    return cur;
}

} // namespace

struct Matcher::Impl
{
    Node ast;
    std::unordered_map<const RegexTerm *, std::unique_ptr<RE2>> regexes;
    std::unordered_map<const MessageTerm *, Needle> needles;
    std::unordered_map<const AttrTerm *, NumberLiteral> numbers;

    void prepare(const Node &node, std::optional<Error> &error)
    {
        std::visit(Overloaded{
                       [&](const And &n) {
                           for (const Node &c : n.children)
                               prepare(c, error);
                       },
                       [&](const Or &n) {
                           for (const Node &c : n.children)
                               prepare(c, error);
                       },
                       [&](const Not &n) {
                           for (const Node &c : n.operand)
                               prepare(c, error);
                       },
                       [&](const RegexTerm &t) {
                           auto re = std::make_unique<RE2>(t.pattern, detail::regexOptions());
                           if (!re->ok() && !error)
                               error = makeError(ErrorCode::QuerySyntax,
                                                 "invalid regular expression: " + re->error(),
                                                 static_cast<long long>(node.position));
                           regexes.emplace(&t, std::move(re));
                       },
                       [&](const MessageTerm &t) { needles.emplace(&t, makeNeedle(t.text)); },
                       [&](const AttrTerm &t) {
                           if (t.kind == AttrTerm::Kind::Number)
                               numbers.emplace(&t, parseNumber(t.number));
                       },
                       [](const auto &) {},
                   },
                   node.value);
    }
};

namespace {

// Per-event state: the folded message and the parsed attrs, each computed at most once.
class EventContext
{
public:
    explicit EventContext(const EventView &e) : m_event(e) {}

    const std::string &foldedMessage(bool ascii)
    {
        std::optional<std::string> &folded = ascii ? m_asciiFolded : m_unicodeFolded;
        if (!folded)
            folded = ascii ? foldAscii(m_event.message) : foldUnicode(m_event.message);
        return *folded;
    }

    std::optional<simdjson::dom::element> attrs()
    {
        if (!m_parsedAttrs) {
            m_parsedAttrs = true;
            thread_local simdjson::dom::parser parser;
            simdjson::dom::element root;
            if (parser.parse(m_event.attrsJson.data(), m_event.attrsJson.size()).get(root) ==
                    simdjson::SUCCESS &&
                root.is_object())
                m_root = root;
        }
        return m_root;
    }

    const EventView &event() const { return m_event; }

private:
    const EventView &m_event;
    std::optional<std::string> m_asciiFolded;
    std::optional<std::string> m_unicodeFolded;
    bool m_parsedAttrs = false;
    std::optional<simdjson::dom::element> m_root;
};

bool evaluate(const Matcher::Impl &impl, const Node &node, EventContext &ctx);

bool evaluateAttr(const Matcher::Impl &impl, const AttrTerm &t, EventContext &ctx)
{
    const auto root = ctx.attrs();
    if (!root)
        return false;
    const auto found = lookup(*root, t.path);
    if (!found)
        return false;
    const simdjson::dom::element e = *found;
    switch (t.kind) {
    case AttrTerm::Kind::Exists:
        return true;
    case AttrTerm::Kind::Text:
        if (e.is_string())
            return globMatch(t.text, e.get_string().value_unsafe());
        if (e.is_bool() && t.text.isExact())
            return t.text.segments.front() == (e.get_bool().value_unsafe() ? "true" : "false");
        return false;
    case AttrTerm::Kind::Number: {
        if (t.op == CompareOp::Eq && e.is_string())
            return e.get_string().value_unsafe() == t.number;
        const auto it = impl.numbers.find(&t);
        const std::optional<int> c = it != impl.numbers.end()
                                         ? compareNumber(e, it->second)
                                         : compareNumber(e, parseNumber(t.number));
        return c && compare(t.op, *c);
    }
    }
    return false;
}

bool evaluate(const Matcher::Impl &impl, const Node &node, EventContext &ctx)
{
    const EventView &e = ctx.event();
    return std::visit(
        Overloaded{
            [](const MatchAll &) { return true; },
            [&](const And &n) {
                for (const Node &c : n.children) {
                    if (!evaluate(impl, c, ctx))
                        return false;
                }
                return true;
            },
            [&](const Or &n) {
                for (const Node &c : n.children) {
                    if (evaluate(impl, c, ctx))
                        return true;
                }
                return false;
            },
            [&](const Not &n) { return n.operand.empty() || !evaluate(impl, n.operand[0], ctx); },
            [&](const LevelTerm &t) {
                return compare(t.op,
                               threeWay(static_cast<int>(e.level), static_cast<int>(t.level)));
            },
            [&](const FieldTerm &t) {
                switch (t.field) {
                case TextField::App:
                    return globMatch(t.value, e.app);
                case TextField::Host:
                    return globMatch(t.value, e.host);
                case TextField::TraceId:
                    return globMatch(t.value, e.traceId);
                case TextField::SpanId:
                    return globMatch(t.value, e.spanId);
                }
                return false;
            },
            [&](const MessageTerm &t) {
                const auto it = impl.needles.find(&t);
                if (it == impl.needles.end()) {
                    const Needle oneOff = makeNeedle(t.text);
                    return ctx.foldedMessage(oneOff.ascii).find(oneOff.folded) != std::string::npos;
                }
                return ctx.foldedMessage(it->second.ascii).find(it->second.folded) !=
                       std::string::npos;
            },
            [&](const RegexTerm &t) {
                const auto it = impl.regexes.find(&t);
                if (it == impl.regexes.end() || !it->second->ok())
                    return false;
                return RE2::PartialMatch(re2::StringPiece(e.message.data(), e.message.size()),
                                         *it->second);
            },
            [&](const AttrTerm &t) { return evaluateAttr(impl, t, ctx); },
        },
        node.value);
}

// Kleene logic over the app alone: every term but app:... is Unknown.
enum class Tri { False, True, Unknown };

Tri evaluateApp(const Node &node, std::string_view app)
{
    return std::visit(Overloaded{
                          [](const MatchAll &) { return Tri::True; },
                          [&](const And &n) {
                              Tri r = Tri::True;
                              for (const Node &c : n.children) {
                                  const Tri t = evaluateApp(c, app);
                                  if (t == Tri::False)
                                      return Tri::False;
                                  if (t == Tri::Unknown)
                                      r = Tri::Unknown;
                              }
                              return r;
                          },
                          [&](const Or &n) {
                              Tri r = Tri::False;
                              for (const Node &c : n.children) {
                                  const Tri t = evaluateApp(c, app);
                                  if (t == Tri::True)
                                      return Tri::True;
                                  if (t == Tri::Unknown)
                                      r = Tri::Unknown;
                              }
                              return r;
                          },
                          [&](const Not &n) {
                              if (n.operand.empty())
                                  return Tri::True;
                              const Tri t = evaluateApp(n.operand[0], app);
                              return t == Tri::Unknown ? t
                                                       : (t == Tri::True ? Tri::False : Tri::True);
                          },
                          [&](const FieldTerm &t) {
                              if (t.field != TextField::App)
                                  return Tri::Unknown;
                              return globMatch(t.value, app) ? Tri::True : Tri::False;
                          },
                          [](const auto &) { return Tri::Unknown; },
                      },
                      node.value);
}

} // namespace

EventView viewOf(const LogEvent &event) noexcept
{
    EventView v;
    v.level = event.level;
    v.app = event.app;
    v.host = event.host;
    v.message = event.message;
    v.attrsJson = event.attrsJson;
    v.traceId = event.traceId;
    v.spanId = event.spanId;
    return v;
}

Result<Matcher> Matcher::create(const Node &ast)
{
    auto impl = std::make_shared<Impl>();
    impl->ast = ast;
    std::optional<Error> error;
    impl->prepare(impl->ast, error);
    if (error)
        return std::move(*error);
    return Matcher(std::move(impl));
}

bool Matcher::matches(const EventView &event) const
{
    EventContext ctx(event);
    return evaluate(*d, d->ast, ctx);
}

bool Matcher::mayMatchApp(std::string_view app) const
{
    return evaluateApp(d->ast, app) != Tri::False;
}

bool matches(const Node &ast, const EventView &event)
{
    Matcher::Impl impl;
    std::optional<Error> error;
    impl.prepare(ast, error);
    EventContext ctx(event);
    return evaluate(impl, ast, ctx);
}

bool matches(const Node &ast, const LogEvent &event)
{
    return matches(ast, viewOf(event));
}

} // namespace idl::query
