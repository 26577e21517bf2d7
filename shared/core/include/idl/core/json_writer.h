#pragma once

#include "idl/core/utf8.h" // findInvalidUtf8, used with these writers

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// A small append-only JSON writer over std::string, for hot paths (event encoding, service
// logs, HTTP replies). No allocation beyond the growth of the target string.
namespace idl {

// Appends `text` as a quoted JSON string. Escapes '"', '\\' and every control character
// below 0x20 (\b \f \n \r \t, others as \u00XX). Valid UTF-8 passes through unchanged;
// each byte that is not part of a valid UTF-8 sequence is replaced by U+FFFD, so the output
// is always valid JSON.
void appendJsonString(std::string &out, std::string_view text);

// Appends a signed integer in decimal.
void appendJsonInt(std::string &out, std::int64_t value);

// Appends an unsigned integer in decimal.
void appendJsonUInt(std::string &out, std::uint64_t value);

// Appends a double in the shortest form that reads back to the same value; integral values
// of 1e16 or more use an exponent (so they never read back as over-long integers), -0 is
// written "-0.0", NaN and infinities (not representable in JSON) as null.
void appendJsonDouble(std::string &out, double value);

// Streaming writer that places commas and colons. Nesting is not checked: the caller pairs
// begin/end calls and calls key() before each value inside an object.
//
// Lifecycle: wraps a std::string owned by the caller; use from one thread at a time.
class JsonWriter
{
public:
    explicit JsonWriter(std::string &out) : m_out(out) {}

    // Starts an object value.
    void beginObject() { open('{'); }
    // Ends the innermost object.
    void endObject() { close('}'); }
    // Starts an array value.
    void beginArray() { open('['); }
    // Ends the innermost array.
    void endArray() { close(']'); }
    // Writes an object key (followed by ':').
    void key(std::string_view name)
    {
        separate();
        appendJsonString(m_out, name);
        m_out.push_back(':');
        m_needComma = false;
    }
    // Writes a string value.
    void value(std::string_view text)
    {
        separate();
        appendJsonString(m_out, text);
    }
    // Overload so string literals do not convert to bool.
    void value(const char *text) { value(std::string_view(text)); }
    // Writes an integer value.
    void value(std::int64_t number)
    {
        separate();
        appendJsonInt(m_out, number);
    }
    // Writes an unsigned integer value.
    void value(std::uint64_t number)
    {
        separate();
        appendJsonUInt(m_out, number);
    }
    // Writes an int value.
    void value(int number) { value(static_cast<std::int64_t>(number)); }
    // Writes a floating-point value (see appendJsonDouble).
    void value(double number)
    {
        separate();
        appendJsonDouble(m_out, number);
    }
    // Writes true or false.
    void value(bool flag)
    {
        separate();
        m_out.append(flag ? "true" : "false");
    }
    // Writes null.
    void null()
    {
        separate();
        m_out.append("null");
    }
    // Writes already-encoded JSON text as the next value (the caller guarantees validity).
    void raw(std::string_view json)
    {
        separate();
        m_out.append(json);
    }
    // The target string.
    std::string &buffer() { return m_out; }

private:
    void separate()
    {
        if (m_needComma)
            m_out.push_back(',');
        m_needComma = true;
    }
    void open(char c)
    {
        separate();
        m_out.push_back(c);
        m_needComma = false;
    }
    void close(char c)
    {
        m_out.push_back(c);
        m_needComma = true;
    }

    std::string &m_out;
    bool m_needComma = false;
};

} // namespace idl
