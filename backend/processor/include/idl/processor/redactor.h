#pragma once

#include "idl/core/result.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace idl::processor {

// One redaction rule. Text rules (the default) replace every match of `pattern` in the
// message and in string attribute values by `replacement` (RE2 rewrite syntax: \0 is the
// whole match, \1.. groups). With `luhn`, a match is replaced only when its digits pass the
// Luhn checksum (card numbers). Key rules (`keyRule`) match attribute keys instead: the whole
// value of a matching key is replaced by `replacement`.
struct RedactionRule
{
    std::string name;
    std::string pattern;
    std::string replacement = "[REDACTED]";
    bool luhn = false;
    bool keyRule = false;
};

// The built-in rules by name: "bearer" (Authorization bearer tokens), "url_password"
// (user:password@ in URLs), "kv_password" (password=…, secret: …, token=…, api_key=…),
// "card" (13–19 digit card numbers that pass the Luhn check), "secret_keys" (values of
// attributes named password, secret, token, authorization, api_key, cookie, …).
std::vector<RedactionRule> builtinRedactionRules();

// Selects built-in rules by a comma-separated list of names ("" = none, "all" = every one).
Result<std::vector<RedactionRule>> selectBuiltinRules(std::string_view names);

// Parses a rules file: one JSON object per line,
//   {"name":"internal-ids","pattern":"ID-[0-9]{6}","replacement":"ID-******","luhn":false,
//    "key":false}
// Blank lines and lines starting with '#' are skipped. BadField with the line number on error.
Result<std::vector<RedactionRule>> parseRedactionRules(std::string_view text);

// True when the digits of `text` (other characters ignored) pass the Luhn checksum; fewer
// than 2 digits never pass.
bool luhnValid(std::string_view text) noexcept;

// What replaces a whole value when the matcher itself fails (fail closed, see redactText).
inline constexpr std::string_view kRedactionFailed = "[REDACTION-FAILED]";

// How a Redactor is built.
struct RedactorOptions
{
    // Memory budget of the RE2 objects (RE2::Options::max_mem); 0 = RE2's default (8 MiB).
    std::int64_t maxMem = 0;
    // Tests only: when set and it returns true for a text, the rule set reports an error for
    // it as if RE2::Set::Match had failed (RE2 2022-06-01 cannot be made to fail on demand).
    std::function<bool(std::string_view)> injectMatchError;
};

// Applies a fixed set of compiled rules. Built once (compilation may fail: create() returns
// BadField naming the rule); then const and thread-safe (RE2 objects are thread-safe).
class Redactor
{
public:
    static Result<std::unique_ptr<Redactor>> create(std::vector<RedactionRule> rules,
                                                    RedactorOptions options = {});
    ~Redactor();
    Redactor(const Redactor &) = delete;
    Redactor &operator=(const Redactor &) = delete;

    // Redacts `text` in place with every text rule; adds the number of replacements per rule
    // to counts[ruleIndex] (counts is resized to ruleCount()). Returns the total.
    // Fails closed: when the rule set reports an error for the text (RE2::Set::Match with
    // ErrorInfo, e.g. its DFA out of memory) the whole text becomes kRedactionFailed, 1 is
    // added to *failures (when given) and 1 is returned.
    std::uint64_t redactText(std::string &text, std::vector<std::uint64_t> &counts,
                             std::uint64_t *failures = nullptr) const;

    // Index of the first key rule matching `key`, or -1.
    int matchKey(std::string_view key) const;

    // False when no text rule can match (cheap pre-check before copying a string); true also
    // when the matcher fails (the caller then redacts, and fails closed).
    bool anyTextMatch(std::string_view text) const;

    std::size_t ruleCount() const;
    const RedactionRule &rule(std::size_t index) const;
    bool hasKeyRules() const;

private:
    Redactor();
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace idl::processor
