// Writing CSV fields (RFC 4180): a field is quoted, with its quotes doubled, when it holds a
// comma, a quote or a line break, or starts or ends with a blank (readers trim unquoted fields).
#pragma once

#include <string>

namespace hptrain {

inline std::string csv_field(const std::string& s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  const bool edge_blank = !s.empty() && (blank(s.front()) || blank(s.back()));
  if (!edge_blank && s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace hptrain
