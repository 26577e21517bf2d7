#pragma once

// Readers for the query language's case files, shared by the golden test (query -> SQL) and
// the conformance suite (query -> matching event ids, through both engines).
//
// Case files: blank-line separated cases; "# ..." comment lines belong to the next case;
// each case is a "query: <text>" line followed by expectation lines ("where: ...",
// "param: ...", "error: ...", "match: ..."). Escapes in fixture values: \n, \t, \\, \xNN.
//
// Conformance fixture (conformance/events.txt): blank-line separated events, one
// "key: value" per line; keys event (the id used by cases), level, app, host, message,
// attrs (raw JSON text, kept byte for byte), trace_id, span_id.

#include "idl/core/log_event.h"

#include <QFile>
#include <QString>

#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace idl::query::testing {

struct CaseBlock
{
    QString file;
    int line = 0;
    std::vector<std::string> comments; // lines above the query
    std::string query;
    std::vector<std::string> expected; // the lines after "query:"
};

// Control characters printed C-style so lines stay whole and visible.
inline std::string escapeText(std::string_view s)
{
    std::string out;
    for (unsigned char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

inline std::string unescapeText(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out += s[i];
            continue;
        }
        const char c = s[++i];
        if (c == 'n') {
            out += '\n';
        } else if (c == 't') {
            out += '\t';
        } else if (c == 'x' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

// The lines of a text file without their '\n' (numbered from 1); false if it cannot be read.
inline bool readLines(const QString &path, std::vector<std::string> *lines, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot open ") + path;
        return false;
    }
    while (!f.atEnd()) {
        QByteArray raw = f.readLine();
        if (raw.endsWith('\n'))
            raw.chop(1);
        lines->push_back(raw.toStdString());
    }
    return true;
}

// Reads a case file; on failure returns {} and sets *error.
inline std::vector<CaseBlock> readCaseFile(const QString &path, QString *error)
{
    std::vector<std::string> lines;
    if (!readLines(path, &lines, error))
        return {};
    std::vector<CaseBlock> cases;
    std::vector<std::string> pendingComments;
    int lineNo = 0;
    CaseBlock *current = nullptr;
    for (const std::string &line : lines) {
        ++lineNo;
        if (line.empty()) {
            if (!current && !pendingComments.empty())
                pendingComments.push_back(line); // a comment block of its own stays one
            current = nullptr;
            continue;
        }
        if (line.front() == '#') {
            pendingComments.push_back(line);
            continue;
        }
        if (line.rfind("query: ", 0) == 0 || line == "query:") {
            cases.push_back(CaseBlock{path,
                                      lineNo,
                                      std::move(pendingComments),
                                      line.size() > 7 ? line.substr(7) : std::string(),
                                      {}});
            pendingComments.clear();
            current = &cases.back();
            continue;
        }
        if (!current) {
            *error = path + QStringLiteral(":") + QString::number(lineNo) +
                     QStringLiteral(": expectation without a query");
            return {};
        }
        current->expected.push_back(line);
    }
    return cases;
}

// Writes cases back in the same layout (IDL_UPDATE_* modes).
inline bool writeCaseFile(const QString &path, const std::vector<CaseBlock> &cases)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    bool first = true;
    for (const CaseBlock &c : cases) {
        if (!first)
            f.write("\n");
        first = false;
        for (const auto &l : c.comments)
            f.write((l + "\n").c_str());
        f.write(("query: " + c.query + "\n").c_str());
        for (const auto &l : c.expected)
            f.write((l + "\n").c_str());
    }
    return true;
}

// Reads the conformance fixture; ids in file order. On failure returns {} and sets *error.
inline std::vector<LogEvent> readEventFixture(const QString &path, QString *error)
{
    std::vector<std::string> lines;
    if (!readLines(path, &lines, error))
        return {};
    std::vector<LogEvent> events;
    LogEvent *current = nullptr;
    int lineNo = 0;
    const auto fail = [&](const char *what) {
        *error = path + QStringLiteral(":") + QString::number(lineNo) + QStringLiteral(": ") +
                 QLatin1String(what);
        return std::vector<LogEvent>{};
    };
    for (const std::string &line : lines) {
        ++lineNo;
        if (line.empty()) {
            current = nullptr;
            continue;
        }
        if (line.front() == '#')
            continue;
        const std::size_t colon = line.find(": ");
        const std::string key = line.substr(0, colon == std::string::npos ? line.size() : colon);
        const std::string value =
            colon == std::string::npos ? std::string() : unescapeText(line.substr(colon + 2));
        if (key == "event") {
            events.emplace_back();
            current = &events.back();
            current->id = value;
            continue;
        }
        if (!current)
            return fail("field before the first \"event:\" line");
        if (key == "level") {
            const auto level = parseLevel(value);
            if (!level)
                return fail("unknown level");
            current->level = *level;
        } else if (key == "app") {
            current->app = value;
        } else if (key == "host") {
            current->host = value;
        } else if (key == "message") {
            current->message = value;
        } else if (key == "attrs") {
            current->attrsJson = value;
        } else if (key == "trace_id") {
            current->traceId = value;
        } else if (key == "span_id") {
            current->spanId = value;
        } else {
            return fail("unknown key");
        }
    }
    return events;
}

// The expected outcome of a conformance case: "match: <ids>" or "error: <code>".
struct Outcome
{
    bool error = false;
    std::string text; // space-separated ids in fixture order, or the error code name

    bool operator==(const Outcome &) const = default;
    std::string line() const { return (error ? "error: " : "match: ") + text; }
};

inline bool parseOutcome(const std::vector<std::string> &lines, Outcome *out)
{
    if (lines.size() != 1)
        return false;
    const std::string &l = lines.front();
    if (l.rfind("error: ", 0) == 0) {
        *out = Outcome{true, l.substr(7)};
        return true;
    }
    if (l.rfind("match:", 0) == 0) {
        *out = Outcome{false, l.size() > 7 ? l.substr(7) : std::string()};
        return true;
    }
    return false;
}

// Space-separated ids of the events (fixture order) for which matched[i] is true.
inline std::string idList(const std::vector<LogEvent> &events, const std::vector<bool> &matched)
{
    std::string out;
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (matched[i])
            out += (out.empty() ? "" : " ") + events[i].id;
    }
    return out;
}

} // namespace idl::query::testing
