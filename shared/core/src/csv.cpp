#include "idl/core/csv.h"

namespace idl {
namespace {

bool isPlainNumber(std::string_view f)
{
    std::size_t i = 0;
    if (i < f.size() && (f[i] == '+' || f[i] == '-'))
        ++i;
    bool digits = false, dot = false;
    for (; i < f.size(); ++i) {
        const char c = f[i];
        if (c >= '0' && c <= '9') {
            digits = true;
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            return false;
        }
    }
    return digits;
}

bool isFormula(std::string_view f)
{
    if (f.empty())
        return false;
    switch (f.front()) {
    case '=':
    case '@':
    case '\t':
    case '\r':
        return true;
    case '+':
    case '-':
        return !isPlainNumber(f);
    default:
        return false;
    }
}

} // namespace

void appendCsvField(std::string &out, std::string_view field)
{
    const bool formula = isFormula(field);
    bool quote = formula;
    if (!field.empty() && (field.front() == ' ' || field.back() == ' '))
        quote = true;
    if (!quote)
        quote = field.find_first_of(",\"\r\n") != std::string_view::npos;
    if (!quote) {
        out.append(field);
        return;
    }
    out.push_back('"');
    if (formula)
        out.push_back('\'');
    for (char c : field) {
        if (c == '"')
            out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
}

} // namespace idl
