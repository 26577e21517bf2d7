#pragma once

#include <string>
#include <string_view>

namespace idl {

// Appends one CSV field (RFC 4180) to `out`: quoted when it holds a comma, a quote, CR or LF,
// or starts or ends with a space; quotes doubled.
//
// Spreadsheet formula injection (CWE-1236): anyone who can send logs controls the fields, and
// a field that starts with `=`, `+`, `-`, `@`, TAB or CR is run as a formula by Excel,
// LibreOffice and Google Sheets (`=HYPERLINK(...)`, `@SUM(...)`, `-2+3`). Such a field is
// written with a leading apostrophe, which spreadsheets show as text; a plain decimal number
// (`-42`, `+1.5`) is not a formula and is written as it is. Every CSV this project writes (the
// gateway's HTTP export and the console's export) goes through this function.
void appendCsvField(std::string &out, std::string_view field);

} // namespace idl
