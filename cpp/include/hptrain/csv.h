// CSV (RFC 4180) read into rows of fields, and fields written: a field is quoted, with its
// quotes doubled, when it holds a comma, a quote or a line break, or starts or ends with a blank
// (readers trim unquoted fields). In hp_common: manifests, the demo corpus and casts read it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hptrain {

// A CSV split into fields (RFC 4180 quotes, "" escapes, CRLF, UTF-8 BOM); blank lines and lines
// starting with an unquoted '#' are skipped ("#1.wav",... is a row). Each row keeps its 1-based
// line number.
struct CsvRow {
  int64_t line = 0;
  std::vector<std::string> fields;
  std::string error;  // non-empty: the row is malformed (text after a closing quote)
};
std::vector<CsvRow> parse_csv(const std::string& text, const std::string& where);

inline std::string csv_field(const std::string& s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  const bool edge_blank = !s.empty() && (blank(s.front()) || blank(s.back()));
  if (!edge_blank && s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace hptrain
