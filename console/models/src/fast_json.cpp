#include "fast_json.h"

#include <QJsonDocument>

#include <charconv>
#include <simdjson.h>
#include <string>
#include <vector>

namespace idl::console::fastjson {

namespace {

using simdjson::ondemand::json_type;

thread_local simdjson::ondemand::parser t_parser;

simdjson::padded_string_view view(const QByteArray &utf8)
{
    return simdjson::padded_string_view(utf8.constData(), static_cast<size_t>(utf8.size()),
                                        static_cast<size_t>(utf8.capacity()));
}

// Parses utf8 (padded, see pad()) with this thread's parser and gets its root object; false
// when it is not JSON or not an object. doc must outlive obj.
bool rootObject(const QByteArray &utf8, simdjson::ondemand::document &doc,
                simdjson::ondemand::object &obj)
{
    return !t_parser.iterate(view(utf8)).get(doc) && !doc.get_object().get(obj);
}

QString qstr(std::string_view s)
{
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

qint64 toInt(std::string_view s)
{
    qint64 v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

// A time value: decimal string or number.
qint64 nsValue(simdjson::ondemand::value v)
{
    json_type t;
    if (v.type().get(t))
        return 0;
    if (t == json_type::string) {
        std::string_view s;
        return v.get_string().get(s) ? 0 : toInt(s);
    }
    if (t == json_type::number) {
        int64_t n = 0;
        if (!v.get_int64().get(n))
            return n;
    }
    return 0;
}

// The JSON text of a value (object, array or scalar).
simdjson::error_code rawJson(simdjson::ondemand::value &v, std::string_view &out)
{
    json_type t;
    if (auto e = v.type().get(t))
        return e;
    if (t == json_type::object) {
        simdjson::ondemand::object o;
        if (auto e = v.get_object().get(o))
            return e;
        return o.raw_json().get(out);
    }
    if (t == json_type::array) {
        simdjson::ondemand::array a;
        if (auto e = v.get_array().get(a))
            return e;
        return a.raw_json().get(out);
    }
    out = v.raw_json_token();
    return simdjson::SUCCESS;
}

bool readRow(simdjson::ondemand::object obj, LogRow &r)
{
    for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key))
            return false;
        simdjson::ondemand::value v;
        if (field.value().get(v))
            return false;
        std::string_view s;
        if (key == "ts") {
            r.tsNs = nsValue(v);
        } else if (key == "received") {
            r.receivedNs = nsValue(v);
        } else if (key == "attrs") {
            if (rawJson(v, s))
                return false;
            r.attrsJson = QByteArray(s.data(), static_cast<qsizetype>(s.size())).trimmed();
        } else if (key == "id" || key == "level" || key == "app" || key == "host" ||
                   key == "message" || key == "trace_id" || key == "span_id") {
            if (v.get_string().get(s))
                continue; // null or not a string: keep the default
            if (key == "id")
                r.id = qstr(s);
            else if (key == "level")
                r.level = parseLevel(s).value_or(Level::Info);
            else if (key == "app")
                r.app = qstr(s);
            else if (key == "host")
                r.host = qstr(s);
            else if (key == "message")
                r.message = qstr(s);
            else if (key == "trace_id")
                r.traceId = qstr(s);
            else
                r.spanId = qstr(s);
        }
    }
    return true;
}

} // namespace

void pad(QByteArray &utf8)
{
    if (utf8.capacity() - utf8.size() < static_cast<qsizetype>(simdjson::SIMDJSON_PADDING))
        utf8.reserve(utf8.size() + static_cast<qsizetype>(simdjson::SIMDJSON_PADDING));
}

bool peekIdType(const QByteArray &utf8, QString *id, QString *type)
{
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    if (!rootObject(utf8, doc, obj))
        return false;
    std::string_view s;
    bool gotType = false;
    bool gotId = false;
    for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key))
            return false;
        if (key == "type" && !field.value().get_string().get(s)) {
            *type = qstr(s);
            gotType = true;
        } else if (key == "id" && !field.value().get_string().get(s)) {
            *id = qstr(s);
            gotId = true;
        }
        if (gotType && gotId)
            break;
    }
    return gotType;
}

bool parseRowsFrame(const QByteArray &utf8, RowsFrame *out)
{
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    if (!rootObject(utf8, doc, obj))
        return false;
    for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key))
            return false;
        if (key == "events" || key == "rows") {
            simdjson::ondemand::array arr;
            if (field.value().get_array().get(arr))
                return false;
            for (auto item : arr) {
                simdjson::ondemand::object row;
                if (item.get_object().get(row))
                    return false;
                LogRow r;
                if (!readRow(row, r))
                    return false;
                out->rows.append(std::move(r));
            }
        } else if (key == "phase") {
            std::string_view s;
            if (!field.value().get_string().get(s))
                out->phase = qstr(s);
        } else if (key == "dropped") {
            int64_t n = 0;
            if (!field.value().get_int64().get(n))
                out->dropped = n;
        } else if (key == "positions") {
            std::string_view raw;
            simdjson::ondemand::value pv;
            if (!field.value().get(pv) && !rawJson(pv, raw))
                out->positions = QJsonDocument::fromJson(
                                     QByteArray(raw.data(), static_cast<qsizetype>(raw.size())))
                                     .object();
        }
    }
    return true;
}

qint64 writeCsvRows(const QByteArray &utf8, const QStringList &columns, CsvWriter &writer,
                    double *fraction)
{
    std::vector<std::string> names;
    for (const auto &c : columns)
        names.push_back(c.toStdString());
    std::vector<std::string_view> values(names.size());
    std::vector<bool> isString(names.size());
    std::vector<std::string> unescaped(names.size());

    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    if (!rootObject(utf8, doc, obj))
        return -1;
    qint64 written = 0;
    for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key))
            return -1;
        if (key == "progress") {
            simdjson::ondemand::object p;
            if (field.value().get_object().get(p))
                continue;
            for (auto pf : p) {
                std::string_view pk;
                double d = 0;
                if (!pf.unescaped_key().get(pk) && pk == "fraction" &&
                    !pf.value().get_double().get(d))
                    *fraction = d;
            }
            continue;
        }
        if (key != "rows")
            continue;
        simdjson::ondemand::array arr;
        if (field.value().get_array().get(arr))
            return -1;
        for (auto item : arr) {
            simdjson::ondemand::object row;
            if (item.get_object().get(row))
                return -1;
            std::fill(values.begin(), values.end(), std::string_view());
            for (auto f : row) {
                std::string_view k;
                if (f.unescaped_key().get(k))
                    return -1;
                size_t i = 0;
                while (i < names.size() && names[i] != k)
                    ++i;
                if (i == names.size())
                    continue;
                simdjson::ondemand::value v;
                if (f.value().get(v))
                    return -1;
                json_type t;
                if (v.type().get(t))
                    return -1;
                std::string_view s;
                if (t == json_type::string) {
                    if (v.get_string().get(s))
                        return -1;
                    unescaped[i].assign(s);
                    values[i] = unescaped[i];
                } else if (t == json_type::null) {
                    values[i] = {};
                } else {
                    if (rawJson(v, s))
                        return -1;
                    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' ||
                                          s.back() == '\t'))
                        s.remove_suffix(1);
                    unescaped[i].assign(s);
                    values[i] = unescaped[i];
                }
            }
            for (const auto &v : values)
                writer.writeFieldUtf8(v);
            writer.endRecord();
            ++written;
        }
    }
    return written;
}

} // namespace idl::console::fastjson
