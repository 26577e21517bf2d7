#include "idl/collector/syslog_parser.h"

#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"
#include "idl/core/utf8.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <ctime>
#include <utility>
#include <vector>

namespace idl::collector::syslog {

namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr std::size_t kMaxToken = 255; // HOSTNAME's limit; the longest header field we take

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isPrintUsAscii(char c)
{
    return c >= 33 && c <= 126;
}

// Text as valid UTF-8 (each broken sequence becomes U+FFFD).
void assignUtf8(std::string &out, std::string_view text)
{
    if (findInvalidUtf8(text) == std::string_view::npos)
        out.assign(text);
    else
        out = replaceInvalidUtf8(text);
}

std::string_view trimEnd(std::string_view s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == '\0'))
        s.remove_suffix(1);
    return s;
}

std::string_view dropBom(std::string_view s)
{
    if (s.starts_with("\xEF\xBB\xBF"))
        s.remove_prefix(3);
    return s;
}

// "<PRI>": the value 0..191 and the bytes it took, or nullopt.
std::optional<std::pair<int, std::size_t>> readPri(std::string_view s)
{
    if (s.size() < 3 || s[0] != '<')
        return std::nullopt;
    int value = 0;
    std::size_t i = 1;
    while (i < s.size() && i <= 4 && isDigit(s[i]))
        value = value * 10 + (s[i++] - '0');
    if (i == 1 || i > 4 || i >= s.size() || s[i] != '>' || value > 191)
        return std::nullopt;
    return std::pair{value, i + 1};
}

// One SD-ELEMENT's parameters, in order.
struct SdElement
{
    std::string_view id;
    std::vector<std::pair<std::string_view, std::string>> params;
};

// What the parsers found, written into the event by finish().
struct Parts
{
    int pri = 13;
    std::optional<std::int64_t> tsNs;
    std::string_view host, appname, procid, msgid, message;
    std::vector<SdElement> sd;
    const char *parseError = nullptr;
};

// SD-NAME: 1..32 PRINTUSASCII except '=', SP, ']', '"' (we take up to kMaxToken).
std::size_t sdName(std::string_view s, std::size_t i)
{
    const std::size_t start = i;
    while (i < s.size() && i - start < kMaxToken && isPrintUsAscii(s[i]) && s[i] != '=' &&
           s[i] != ']' && s[i] != '"')
        ++i;
    return i - start;
}

// STRUCTURED-DATA at s[i]: "-" or 1*SD-ELEMENT. Returns the offset after it, or nullopt.
std::optional<std::size_t> readStructuredData(std::string_view s, std::size_t i,
                                              std::vector<SdElement> &out)
{
    if (i < s.size() && s[i] == '-')
        return i + 1;
    if (i >= s.size() || s[i] != '[')
        return std::nullopt;
    while (i < s.size() && s[i] == '[') {
        ++i;
        SdElement el;
        const std::size_t idLen = sdName(s, i);
        if (idLen == 0)
            return std::nullopt;
        el.id = s.substr(i, idLen);
        i += idLen;
        while (i < s.size() && s[i] == ' ') {
            ++i;
            const std::size_t nameLen = sdName(s, i);
            if (nameLen == 0)
                return std::nullopt;
            const std::string_view name = s.substr(i, nameLen);
            i += nameLen;
            if (i + 1 >= s.size() || s[i] != '=' || s[i + 1] != '"')
                return std::nullopt;
            i += 2;
            std::string value;
            bool closed = false;
            while (i < s.size()) {
                const char c = s[i];
                if (c == '\\' && i + 1 < s.size() &&
                    (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == ']')) {
                    value += s[i + 1];
                    i += 2;
                    continue;
                }
                ++i;
                if (c == '"') {
                    closed = true;
                    break;
                }
                value += c;
            }
            if (!closed)
                return std::nullopt;
            el.params.emplace_back(name, std::move(value));
        }
        if (i >= s.size() || s[i] != ']')
            return std::nullopt;
        ++i;
        out.push_back(std::move(el));
    }
    return i;
}

// A header field of RFC 5424 at s[i] up to the next SP: "-" (nil) or PRINTUSASCII.
// Returns the field and moves i past the SP, or nullopt.
std::optional<std::string_view> headerField(std::string_view s, std::size_t &i)
{
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ') {
        if (!isPrintUsAscii(s[i]) || i - start >= kMaxToken)
            return std::nullopt;
        ++i;
    }
    if (i == start || i >= s.size())
        return std::nullopt;
    const std::string_view f = s.substr(start, i - start);
    ++i; // the SP
    return f == "-" ? std::string_view() : f;
}

// RFC 5424 after "<PRI>1 ". False when the rest does not follow the grammar.
bool parse5424(std::string_view s, Parts &p)
{
    std::size_t i = 0;
    auto ts = headerField(s, i);
    if (!ts)
        return false;
    if (!ts->empty()) {
        auto t = parseRfc3339(*ts);
        if (!t)
            return false;
        p.tsNs = *t;
    }
    auto host = headerField(s, i);
    auto app = host ? headerField(s, i) : std::nullopt;
    auto proc = app ? headerField(s, i) : std::nullopt;
    auto msgid = proc ? headerField(s, i) : std::nullopt;
    if (!msgid)
        return false;
    p.host = *host;
    p.appname = *app;
    p.procid = *proc;
    p.msgid = *msgid;
    auto end = readStructuredData(s, i, p.sd);
    if (!end)
        return false;
    i = *end;
    if (i < s.size()) {
        if (s[i] != ' ')
            return false;
        ++i;
    }
    p.message = dropBom(s.substr(i));
    return true;
}

constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Reads `n` digits at s[i] into v.
bool digits(std::string_view s, std::size_t i, std::size_t n, unsigned &v)
{
    if (i + n > s.size())
        return false;
    v = 0;
    for (std::size_t k = 0; k < n; ++k) {
        if (!isDigit(s[i + k]))
            return false;
        v = v * 10 + static_cast<unsigned>(s[i + k] - '0');
    }
    return true;
}

// RFC 3164 "Mmm dd hh:mm:ss" (day space- or zero-padded, or one digit; optional ".fraction";
// optional " yyyy" year after the time), local time at `offset` seconds from UTC; the year
// when missing is the one that puts the time closest to `receivedNs`. Returns the time and
// the bytes taken (without the SP after it), or nullopt.
std::optional<std::pair<std::int64_t, std::size_t>>
read3164Time(std::string_view s, std::int64_t receivedNs, std::int64_t offset)
{
    if (s.size() < 14 || s[3] != ' ')
        return std::nullopt;
    unsigned month = 0;
    for (unsigned m = 0; m < 12; ++m)
        if (s.substr(0, 3) == kMonths[m])
            month = m + 1;
    if (!month)
        return std::nullopt;
    std::size_t i = 4;
    if (s[i] == ' ')
        ++i;
    unsigned day = 0;
    if (isDigit(s[i]) && i + 1 < s.size() && isDigit(s[i + 1])) {
        day = static_cast<unsigned>((s[i] - '0') * 10 + (s[i + 1] - '0'));
        i += 2;
    } else if (isDigit(s[i])) {
        day = static_cast<unsigned>(s[i] - '0');
        i += 1;
    }
    unsigned hour = 0, minute = 0, second = 0;
    if (day < 1 || day > 31 || i >= s.size() || s[i] != ' ' || !digits(s, i + 1, 2, hour) ||
        i + 3 >= s.size() || s[i + 3] != ':' || !digits(s, i + 4, 2, minute) || i + 6 >= s.size() ||
        s[i + 6] != ':' || !digits(s, i + 7, 2, second))
        return std::nullopt;
    i += 9;
    if (hour > 23 || minute > 59 || second > 60)
        return std::nullopt;
    std::int64_t fractionNs = 0;
    if (i < s.size() && s[i] == '.') {
        std::size_t k = i + 1;
        std::int64_t scale = 100'000'000;
        while (k < s.size() && isDigit(s[k])) {
            fractionNs += (s[k] - '0') * scale;
            scale /= 10;
            ++k;
        }
        if (k == i + 1)
            return std::nullopt;
        i = k;
    }
    std::optional<std::int64_t> year;
    if (unsigned y = 0; i + 5 <= s.size() && s[i] == ' ' && digits(s, i + 1, 4, y) &&
                        (i + 5 == s.size() || s[i + 5] == ' ')) {
        year = y;
        i += 5;
    }
    const auto at = [&](std::int64_t y) -> std::optional<std::int64_t> {
        if (day > daysInMonth(y, month))
            return std::nullopt;
        const std::int64_t secs =
            daysFromCivil(y, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
        if (secs < 0 || secs > INT64_MAX / kNsPerSecond - 1)
            return std::nullopt;
        return secs * kNsPerSecond + fractionNs;
    };
    if (year) {
        auto t = at(*year);
        if (!t)
            return std::nullopt;
        return std::pair{*t, i};
    }
    // The year of the receive time in local time, or the one before or after it.
    const std::int64_t localDays = (receivedNs / kNsPerSecond + offset) / 86400;
    std::int64_t y = 1970 + localDays / 366;
    while (daysFromCivil(y + 1, 1, 1) <= localDays)
        ++y;
    std::optional<std::int64_t> best;
    for (std::int64_t cand : {y - 1, y, y + 1}) {
        auto t = at(cand);
        if (t && (!best || std::llabs(*t - receivedNs) < std::llabs(*best - receivedNs)))
            best = t;
    }
    if (!best)
        return std::nullopt;
    return std::pair{*best, i};
}

bool isHostChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '.' || c == '-' ||
           c == '_' || c == ':' || c == '%';
}

// RFC 3164 after "<PRI>" (everything optional; never fails).
void parse3164(std::string_view s, const ParseContext &ctx, Parts &p)
{
    std::size_t i = 0;
    bool haveTime = false;
    if (s.size() > 10 && isDigit(s[0]) && s[4] == '-') { // RFC 3339 (rsyslog ForwardFormat)
        const std::size_t sp = s.find(' ');
        if (auto t = parseRfc3339(s.substr(0, sp)); t && sp != std::string_view::npos) {
            p.tsNs = *t;
            i = sp + 1;
            haveTime = true;
        }
    } else if (auto t = read3164Time(s, ctx.receivedNs, ctx.rfc3164UtcOffsetSeconds)) {
        p.tsNs = t->first;
        i = t->second;
        if (i < s.size() && s[i] == ' ')
            ++i;
        haveTime = true;
    }
    // HOSTNAME (only after a timestamp, as rsyslog reads it): a word of host characters
    // followed by a space, not ending in ':' (then it is the TAG).
    if (haveTime) {
        std::size_t k = i;
        while (k < s.size() && k - i <= kMaxToken && isHostChar(s[k]))
            ++k;
        if (k > i && k < s.size() && s[k] == ' ' && s[k - 1] != ':') {
            p.host = s.substr(i, k - i);
            i = k + 1;
        }
    }
    // TAG: "name:", "name[pid]:" or "name[pid]" followed by a space.
    std::size_t k = i;
    while (k < s.size() && k - i < kMaxToken && s[k] != ' ' && s[k] != ':' && s[k] != '[' &&
           static_cast<unsigned char>(s[k]) > 32)
        ++k;
    if (k > i && k < s.size()) {
        std::string_view tag = s.substr(i, k - i), pid;
        std::size_t after = k;
        if (s[k] == '[') {
            const std::size_t close = s.find(']', k);
            if (close != std::string_view::npos && close - k <= 129 &&
                s.substr(k, close - k).find(' ') == std::string_view::npos) {
                pid = s.substr(k + 1, close - k - 1);
                after = close + 1;
            } else {
                after = std::string_view::npos;
            }
        }
        if (after != std::string_view::npos) {
            bool isTag = false;
            if (after < s.size() && s[after] == ':') {
                ++after;
                isTag = true;
            } else if (after > k) { // "name[pid]" without ':'
                isTag = after == s.size() || s[after] == ' ';
            }
            if (isTag) {
                p.appname = tag;
                p.procid = pid;
                if (after < s.size() && s[after] == ' ')
                    ++after;
                i = after;
            }
        }
    }
    p.message = dropBom(s.substr(std::min(i, s.size())));
}

void writeSd(JsonWriter &w, const std::vector<SdElement> &sd)
{
    w.key("sd");
    w.beginObject();
    std::vector<bool> done(sd.size());
    for (std::size_t e = 0; e < sd.size(); ++e) {
        if (done[e])
            continue;
        // Elements with the same SD-ID (not allowed, but sent) are merged; a repeated
        // parameter name (allowed) becomes an array of its values.
        std::vector<std::pair<std::string_view, std::vector<const std::string *>>> params;
        for (std::size_t f = e; f < sd.size(); ++f) {
            if (sd[f].id != sd[e].id)
                continue;
            done[f] = true;
            for (const auto &param : sd[f].params) {
                auto it = std::find_if(params.begin(), params.end(),
                                       [&](const auto &x) { return x.first == param.first; });
                if (it == params.end())
                    params.push_back({param.first, {&param.second}});
                else
                    it->second.push_back(&param.second);
            }
        }
        w.key(sd[e].id);
        w.beginObject();
        for (const auto &[name, values] : params) {
            w.key(name);
            if (values.size() == 1) {
                w.value(*values.front());
                continue;
            }
            w.beginArray();
            for (const auto *v : values)
                w.value(*v);
            w.endArray();
        }
        w.endObject();
    }
    w.endObject();
}

void finish(const Parts &p, const ParseContext &ctx, LogEvent &ev)
{
    const int facility = p.pri / 8, severity = p.pri % 8;
    ev.receivedNs = ctx.receivedNs;
    ev.tsNs = p.tsNs.value_or(ctx.receivedNs);
    ev.level = levelFromSyslog(severity).value_or(Level::Info);
    assignUtf8(ev.host, p.host.empty() ? ctx.peerHost : p.host);
    // Leading spaces too: rsyslog keeps the one after a BSD tag in its msg property, so what
    // it forwards as RFC 5424 has two spaces before the message.
    std::string_view message = trimEnd(p.message);
    while (!message.empty() && message.front() == ' ')
        message.remove_prefix(1);
    assignUtf8(ev.message, message);
    if (ctx.appFromAppName)
        assignUtf8(ev.app, p.appname.empty() ? std::string_view("syslog") : p.appname);
    ev.attrsJson.clear();
    JsonWriter w(ev.attrsJson);
    w.beginObject();
    w.key("syslog");
    w.beginObject();
    w.key("facility");
    w.value(facilityName(facility));
    w.key("severity");
    w.value(severityName(severity));
    for (auto [name, value] :
         {std::pair{"appname", p.appname}, {"procid", p.procid}, {"msgid", p.msgid}}) {
        if (value.empty())
            continue;
        w.key(name);
        w.value(value);
    }
    if (!p.sd.empty())
        writeSd(w, p.sd);
    if (p.parseError) {
        w.key("parse_error");
        w.value(p.parseError);
    }
    w.endObject();
    w.endObject();
}

} // namespace

std::string_view facilityName(int facility) noexcept
{
    static constexpr std::array<std::string_view, 24> kNames{
        "kern",   "user",   "mail",     "daemon", "auth",   "syslog", "lpr",    "news",
        "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "audit",  "alert",  "clock",
        "local0", "local1", "local2",   "local3", "local4", "local5", "local6", "local7"};
    return facility >= 0 && facility < 24 ? kNames[static_cast<std::size_t>(facility)] : "";
}

std::string_view severityName(int severity) noexcept
{
    static constexpr std::array<std::string_view, 8> kNames{"emerg",   "alert",  "crit", "err",
                                                            "warning", "notice", "info", "debug"};
    return severity >= 0 && severity < 8 ? kNames[static_cast<std::size_t>(severity)] : "";
}

std::int64_t localUtcOffset(std::int64_t ns)
{
    // Cached per thread and minute (zone changes happen on whole minutes at most).
    thread_local std::int64_t cachedMinute = -1;
    thread_local std::int64_t cachedOffset = 0;
    const std::int64_t secs = ns / kNsPerSecond;
    if (secs / 60 != cachedMinute) {
        const std::time_t t = static_cast<std::time_t>(secs);
        std::tm tm{};
        if (localtime_r(&t, &tm))
            cachedOffset = tm.tm_gmtoff;
        cachedMinute = secs / 60;
    }
    return cachedOffset;
}

Format parseMessage(std::string_view raw, const ParseContext &ctx, LogEvent &event)
{
    Parts p;
    const auto pri = readPri(raw);
    Format format = Format::Rfc3164;
    if (!pri) {
        p.parseError = "no valid PRI (<0>..<191>): kept whole as user.notice";
        p.message = dropBom(raw);
        format = Format::Malformed;
    } else {
        p.pri = pri->first;
        const std::string_view rest = raw.substr(pri->second);
        if (rest.starts_with("1 ")) {
            if (parse5424(trimEnd(rest.substr(2)), p)) {
                format = Format::Rfc5424;
            } else {
                const int keep = p.pri;
                p = Parts{};
                p.pri = keep;
                p.parseError = "RFC 5424 header or structured data malformed: kept whole";
                p.message = raw;
                format = Format::Malformed;
            }
        } else {
            parse3164(trimEnd(rest), ctx, p);
        }
    }
    finish(p, ctx, event);
    return format;
}

// ---- Framing ---------------------------------------------------------------------------

Framer::Next Framer::next(std::string_view buf)
{
    Next out;
    std::size_t i = 0;
    if (m_skipBytes) {
        const std::size_t n = std::min(m_skipBytes, buf.size());
        m_skipBytes -= n;
        i = n;
        if (m_skipBytes) {
            out.consumed = i;
            return out;
        }
    }
    if (m_skipToDelimiter) {
        while (i < buf.size() && buf[i] != '\n' && buf[i] != '\0')
            ++i;
        if (i == buf.size()) {
            out.consumed = i;
            return out;
        }
        m_skipToDelimiter = false;
    }
    while (i < buf.size() && (buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\0'))
        ++i;
    out.consumed = i;
    if (i == buf.size())
        return out;
    const std::string_view s = buf.substr(i);
    if (isDigit(s[0])) { // octet counting: MSG-LEN SP SYSLOG-MSG
        std::size_t k = 0;
        std::size_t len = 0;
        while (k < s.size() && isDigit(s[k]) && k < 10)
            len = len * 10 + static_cast<std::size_t>(s[k++] - '0');
        if (k == s.size())
            return out; // more digits may follow
        if (s[k] != ' ' || s[0] == '0') {
            out.kind = Kind::Error;
            out.error = "octet counting: MSG-LEN must be 1-10 digits without a leading zero, "
                        "followed by a space";
            return out;
        }
        if (len > m_limits.maxFrame) {
            out.kind = Kind::Error;
            out.error = "octet counting: frame of " + std::to_string(len) +
                        " bytes is over the limit of " + std::to_string(m_limits.maxFrame);
            return out;
        }
        const std::size_t head = k + 1;
        if (len > m_limits.maxMessage) {
            m_skipBytes = len;
            const std::size_t n = std::min(len, s.size() - head);
            m_skipBytes -= n;
            out.kind = Kind::TooLarge;
            out.consumed = i + head + n;
            return out;
        }
        if (s.size() - head < len)
            return out;
        out.kind = Kind::Message;
        out.message = s.substr(head, len);
        out.consumed = i + head + len;
        return out;
    }
    // Non-transparent framing: up to LF or NUL.
    std::size_t end = 0;
    while (end < s.size() && s[end] != '\n' && s[end] != '\0')
        ++end;
    if (end > m_limits.maxMessage) {
        if (end == s.size())
            m_skipToDelimiter = true;
        out.kind = Kind::TooLarge;
        out.consumed = i + end;
        return out;
    }
    if (end == s.size())
        return out;
    std::string_view msg = s.substr(0, end);
    if (msg.ends_with('\r'))
        msg.remove_suffix(1);
    out.kind = Kind::Message;
    out.message = msg;
    out.consumed = i + end + 1;
    return out;
}

Framer::Next Framer::finish(std::string_view buf)
{
    Next out = next(buf);
    if (out.kind != Kind::NeedMore)
        return out;
    std::string_view rest = buf.substr(out.consumed);
    if (rest.empty() || m_skipBytes || m_skipToDelimiter) {
        const bool truncated = m_skipBytes != 0;
        m_skipBytes = 0;
        m_skipToDelimiter = false;
        if (truncated) {
            out.kind = Kind::Error;
            out.error = "the stream ended inside an octet-counted frame";
        }
        out.consumed = buf.size();
        return out;
    }
    if (isDigit(rest[0])) {
        out.kind = Kind::Error;
        out.error = "the stream ended inside an octet-counted frame";
        out.consumed = buf.size();
        return out;
    }
    if (rest.ends_with('\r'))
        rest.remove_suffix(1);
    out.kind = Kind::Message;
    out.message = rest;
    out.consumed = buf.size();
    return out;
}

} // namespace idl::collector::syslog
