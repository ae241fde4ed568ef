// Writing CSV fields (RFC 4180): a field is quoted, with its quotes doubled, when it holds a
// comma, a quote or a line break.
#pragma once

#include <string>

namespace hptrain {

inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace hptrain
