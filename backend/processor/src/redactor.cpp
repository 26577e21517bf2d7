#include "idl/processor/redactor.h"

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <re2/re2.h>
#include <re2/set.h>

namespace idl::processor {

std::vector<RedactionRule> builtinRedactionRules()
{
    return {
        {"bearer", R"((?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*)", R"(\1[REDACTED])", false, false},
        {"url_password", R"(\b([a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s"]+:)[^@/\s"]+@)",
         R"(\1[REDACTED]@)", false, false},
        {"kv_password",
         R"re((?i)\b((?:password|passwd|pwd|secret|client_secret|token|access_token|refresh_token|api[_-]?key|access[_-]?key)"?\s*[=:]\s*"?)[^\s"&,;]+)re",
         R"(\1[REDACTED])", false, false},
        {"card", R"(\b[3-6](?:[ -]?[0-9]){12,18}\b)", "[REDACTED-CARD]", true, false},
        {"secret_keys",
         R"((?i)^(?:password|passwd|pwd|secret|client_secret|token|access_token|refresh_token|authorization|api[_-]?key|x-api-key|cookie|set-cookie|private_key)$)",
         "[REDACTED]", false, true},
    };
}

Result<std::vector<RedactionRule>> selectBuiltinRules(std::string_view names)
{
    const std::vector<RedactionRule> all = builtinRedactionRules();
    std::vector<RedactionRule> out;
    std::size_t start = 0;
    while (start <= names.size()) {
        std::size_t end = names.find(',', start);
        if (end == std::string_view::npos)
            end = names.size();
        std::string_view name = names.substr(start, end - start);
        while (!name.empty() && name.front() == ' ')
            name.remove_prefix(1);
        while (!name.empty() && name.back() == ' ')
            name.remove_suffix(1);
        start = end + 1;
        if (name.empty())
            continue;
        if (name == "all")
            return all;
        bool found = false;
        for (const RedactionRule &r : all) {
            if (r.name == name) {
                out.push_back(r);
                found = true;
            }
        }
        if (!found)
            return makeError(ErrorCode::BadField,
                             "redact.builtin: unknown rule '" + std::string(name) +
                                 "' (known: bearer, url_password, kv_password, card, "
                                 "secret_keys, all)");
    }
    return out;
}

Result<std::vector<RedactionRule>> parseRedactionRules(std::string_view text)
{
    std::vector<RedactionRule> out;
    int lineNo = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(start, end - start);
        start = end + 1;
        ++lineNo;
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
            line.remove_prefix(1);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.remove_suffix(1);
        if (line.empty() || line.front() == '#')
            continue;
        QJsonParseError perr;
        const QJsonDocument doc = QJsonDocument::fromJson(
            QByteArray(line.data(), static_cast<qsizetype>(line.size())), &perr);
        const auto bad = [&](const std::string &why) {
            return makeError(ErrorCode::BadField,
                             "redaction rules line " + std::to_string(lineNo) + ": " + why);
        };
        if (perr.error != QJsonParseError::NoError || !doc.isObject())
            return bad("not a JSON object");
        const QJsonObject o = doc.object();
        RedactionRule r;
        r.name = o.value(QStringLiteral("name")).toString().toStdString();
        r.pattern = o.value(QStringLiteral("pattern")).toString().toStdString();
        if (o.contains(QStringLiteral("replacement")))
            r.replacement = o.value(QStringLiteral("replacement")).toString().toStdString();
        r.luhn = o.value(QStringLiteral("luhn")).toBool(false);
        r.keyRule = o.value(QStringLiteral("key")).toBool(false);
        if (r.name.empty())
            return bad("missing \"name\"");
        if (r.pattern.empty())
            return bad("missing \"pattern\"");
        out.push_back(std::move(r));
    }
    return out;
}

bool luhnValid(std::string_view text) noexcept
{
    int sum = 0;
    int digits = 0;
    for (auto it = text.rbegin(); it != text.rend(); ++it) {
        if (*it < '0' || *it > '9')
            continue;
        int d = *it - '0';
        if (digits % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
        ++digits;
    }
    return digits >= 2 && sum % 10 == 0;
}

struct Redactor::Impl
{
    std::vector<RedactionRule> rules;
    std::vector<std::unique_ptr<RE2>> compiled;
    std::vector<int> textRules; // indices into rules
    std::vector<int> keyRules;
    std::unique_ptr<RE2::Set> textSet; // prefilter: which text rules match at all
    std::function<bool(std::string_view)> injectMatchError;

    enum class SetMatch { None, Some, Failed };

    // Which text rules match `text` (into *hits when given). Failed when the set reports an
    // error (e.g. its DFA ran out of memory): that is never read as "no secret".
    SetMatch matchSet(std::string_view text, std::vector<int> *hits) const
    {
        if (injectMatchError && injectMatchError(text))
            return SetMatch::Failed;
        RE2::Set::ErrorInfo error{RE2::Set::kNoError};
        if (textSet->Match(text, hits, &error))
            return SetMatch::Some;
        return error.kind == RE2::Set::kNoError ? SetMatch::None : SetMatch::Failed;
    }
};

Redactor::Redactor() : d(std::make_unique<Impl>()) {}
Redactor::~Redactor() = default;

Result<std::unique_ptr<Redactor>> Redactor::create(std::vector<RedactionRule> rules,
                                                   RedactorOptions redactorOptions)
{
    std::unique_ptr<Redactor> r(new Redactor());
    r->d->injectMatchError = std::move(redactorOptions.injectMatchError);
    RE2::Options options;
    options.set_log_errors(false);
    if (redactorOptions.maxMem > 0)
        options.set_max_mem(redactorOptions.maxMem);
    r->d->textSet = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
    for (std::size_t i = 0; i < rules.size(); ++i) {
        auto re = std::make_unique<RE2>(rules[i].pattern, options);
        if (!re->ok())
            return makeError(ErrorCode::BadField,
                             "redaction rule '" + rules[i].name + "': bad pattern: " + re->error());
        std::string why;
        if (!rules[i].keyRule && !re->CheckRewriteString(rules[i].replacement, &why))
            return makeError(ErrorCode::BadField,
                             "redaction rule '" + rules[i].name + "': bad replacement: " + why);
        if (rules[i].keyRule) {
            r->d->keyRules.push_back(static_cast<int>(i));
        } else {
            std::string err;
            if (r->d->textSet->Add(rules[i].pattern, &err) < 0)
                return makeError(ErrorCode::BadField,
                                 "redaction rule '" + rules[i].name + "': " + err);
            r->d->textRules.push_back(static_cast<int>(i));
        }
        r->d->compiled.push_back(std::move(re));
    }
    if (!r->d->textRules.empty() && !r->d->textSet->Compile())
        return makeError(ErrorCode::BadField, "redaction rules: the rule set is too large");
    r->d->rules = std::move(rules);
    return r;
}

bool Redactor::anyTextMatch(std::string_view text) const
{
    if (d->textRules.empty())
        return false;
    // A failed match counts as a match: the caller redacts, and fails closed.
    return d->matchSet(text, nullptr) != Impl::SetMatch::None;
}

std::uint64_t Redactor::redactText(std::string &text, std::vector<std::uint64_t> &counts,
                                   std::uint64_t *failures) const
{
    counts.resize(d->rules.size());
    if (d->textRules.empty())
        return 0;
    std::vector<int> hits;
    const Impl::SetMatch matched = d->matchSet(text, &hits);
    if (matched == Impl::SetMatch::Failed) {
        // The matcher failed: nothing says the text holds no secret, so none of it is kept.
        text.assign(kRedactionFailed);
        if (failures)
            ++*failures;
        return 1;
    }
    if (matched == Impl::SetMatch::None)
        return 0;
    std::uint64_t total = 0;
    for (const int setIndex : hits) {
        const int index = d->textRules[static_cast<std::size_t>(setIndex)];
        const RedactionRule &rule = d->rules[static_cast<std::size_t>(index)];
        const RE2 &re = *d->compiled[static_cast<std::size_t>(index)];
        std::uint64_t n = 0;
        if (!rule.luhn) {
            n = static_cast<std::uint64_t>(RE2::GlobalReplace(&text, re, rule.replacement));
        } else {
            // Replace only the matches whose digits pass the checksum.
            std::string out;
            std::size_t pos = 0;
            std::size_t copied = 0;
            re2::StringPiece match;
            const re2::StringPiece input(text);
            while (pos <= text.size() &&
                   re.Match(input, pos, text.size(), RE2::UNANCHORED, &match, 1)) {
                const auto begin = static_cast<std::size_t>(match.data() - text.data());
                const std::size_t end = begin + match.size();
                if (luhnValid(std::string_view(match.data(), match.size()))) {
                    out.append(text, copied, begin - copied);
                    std::string rewritten;
                    re.Rewrite(&rewritten, rule.replacement, &match, 1);
                    out.append(rewritten);
                    copied = end;
                    ++n;
                }
                pos = end > begin ? end : end + 1;
            }
            if (n > 0) {
                out.append(text, copied, std::string::npos);
                text.swap(out);
            }
        }
        counts[static_cast<std::size_t>(index)] += n;
        total += n;
    }
    return total;
}

int Redactor::matchKey(std::string_view key) const
{
    for (const int index : d->keyRules)
        if (RE2::PartialMatch(key, *d->compiled[static_cast<std::size_t>(index)]))
            return index;
    return -1;
}

std::size_t Redactor::ruleCount() const
{
    return d->rules.size();
}

const RedactionRule &Redactor::rule(std::size_t index) const
{
    return d->rules[index];
}

bool Redactor::hasKeyRules() const
{
    return !d->keyRules.empty();
}

} // namespace idl::processor
