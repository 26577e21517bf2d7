// Completion for the console's query box, built on the same lexer as the parser.
#include "idl/query/lexer.h"

#include "lexer_impl.h"

#include <algorithm>
#include <array>

namespace idl::query {

namespace {

constexpr std::array<std::string_view, 6> kFieldCandidates{
    "level:", "app:", "host:", "message:", "trace_id:", "span_id:"};
constexpr std::array<std::string_view, 3> kKeywords{"AND", "OR", "NOT"};
constexpr std::array<std::string_view, 6> kLevels{"trace", "debug", "info",
                                                  "warn",  "error", "fatal"};

bool startsWithNoCase(std::string_view s, std::string_view prefix)
{
    if (prefix.size() > s.size())
        return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        auto lower = [](char c) {
            return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        };
        if (lower(s[i]) != lower(prefix[i]))
            return false;
    }
    return true;
}

template <typename List>
void addMatching(std::vector<std::string> &out, const List &list, std::string_view prefix)
{
    for (const auto &c : list) {
        const std::string_view candidate(c);
        if (startsWithNoCase(candidate, prefix) &&
            std::find(out.begin(), out.end(), candidate) == out.end())
            out.emplace_back(candidate);
    }
}

} // namespace

CompletionResult completeAt(std::string_view text, std::size_t cursorPos,
                            const std::vector<std::string> &knownApps,
                            const std::vector<std::string> &knownHosts)
{
    cursorPos = std::min(cursorPos, text.size());
    const std::vector<detail::LexToken> tokens = detail::lex(text);
    CompletionResult result;
    result.replaceBegin = cursorPos;
    result.replaceEnd = cursorPos;

    // The token that ends at or contains the cursor, if any.
    std::size_t index = tokens.size();
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (tokens[i].begin < cursorPos && cursorPos <= tokens[i].end)
            index = i;
    }
    const detail::LexToken *tok = index < tokens.size() ? &tokens[index] : nullptr;

    // Value position: right after "field:" (and an operator), or inside the value.
    const detail::LexToken *fieldTok = nullptr;
    std::size_t valueBegin = cursorPos;
    if (tok && (tok->kind == TokenKind::Colon || tok->kind == TokenKind::Operator) &&
        cursorPos == tok->end) {
        std::size_t i = index;
        if (tok->kind == TokenKind::Operator && i > 0)
            --i;
        if (i > 0 && tokens[i].kind == TokenKind::Colon)
            fieldTok = &tokens[i - 1];
    } else if (tok && tok->kind == TokenKind::Value) {
        std::size_t i = index;
        valueBegin = tok->begin;
        if (i > 0 && tokens[i - 1].kind == TokenKind::Operator)
            --i;
        if (i > 1 && tokens[i - 1].kind == TokenKind::Colon)
            fieldTok = &tokens[i - 2];
    }
    if (fieldTok) {
        if (fieldTok->kind != TokenKind::Field)
            return result;
        const std::string_view prefix = text.substr(valueBegin, cursorPos - valueBegin);
        result.replaceBegin = valueBegin;
        result.replaceEnd = (tok && tok->kind == TokenKind::Value) ? tok->end : cursorPos;
        if (fieldTok->text == "level")
            addMatching(result.candidates, kLevels, prefix);
        else if (fieldTok->text == "app")
            addMatching(result.candidates, knownApps, prefix);
        else if (fieldTok->text == "host")
            addMatching(result.candidates, knownHosts, prefix);
        return result;
    }

    // Inside a phrase, regex or attribute: nothing to offer.
    if (tok && tok->kind != TokenKind::Word && tok->kind != TokenKind::UnknownField &&
        tok->kind != TokenKind::Field && tok->kind != TokenKind::And &&
        tok->kind != TokenKind::Or && tok->kind != TokenKind::Not)
        return result;

    std::string_view prefix;
    if (tok) {
        result.replaceBegin = tok->begin;
        result.replaceEnd = tok->end;
        prefix = text.substr(tok->begin, cursorPos - tok->begin);
    }
    addMatching(result.candidates, kFieldCandidates, prefix);
    addMatching(result.candidates, kKeywords, prefix);
    return result;
}

std::vector<std::string> completions(std::string_view text, std::size_t cursorPos,
                                     const std::vector<std::string> &knownApps,
                                     const std::vector<std::string> &knownHosts)
{
    return completeAt(text, cursorPos, knownApps, knownHosts).candidates;
}

} // namespace idl::query
