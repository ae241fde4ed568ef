// The CSV reader of hptrain/csv.h.
#include "hptrain/csv.h"

#include "hptrain/error.h"

namespace hptrain {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::vector<CsvRow> parse_csv(const std::string& text, const std::string& where) {
  std::vector<CsvRow> rows;
  size_t i = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  int64_t line = 1;
  while (i < text.size()) {
    CsvRow row;
    row.line = line;
    std::string field;
    bool quoted_field = false;
    bool first_quoted = false;  // "#1.wav" is a file name: only an unquoted # starts a comment
    bool end_of_row = false;
    while (!end_of_row) {
      if (i >= text.size()) {
        end_of_row = true;
      } else if (text[i] == '"' && trim(field).empty() && !quoted_field) {
        // quoted field: up to the closing quote, "" is a quote
        quoted_field = true;
        field.clear();
        ++i;
        for (;;) {
          if (i >= text.size()) {
            throw InputError(where + ":" + std::to_string(row.line) +
                             ": unterminated quoted field");
          }
          if (text[i] == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (text[i] == '\n') ++line;
          field += text[i++];
        }
        // only blanks may follow the closing quote: "a.wav"JUNK is a bad row, not a.wav
        size_t j = i;
        while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
        if (j < text.size() && text[j] != ',' && text[j] != '\n' && text[j] != '\r' &&
            row.error.empty()) {
          size_t e = j;
          while (e < text.size() && text[e] != ',' && text[e] != '\n' && text[e] != '\r') ++e;
          row.error = "text '" + text.substr(j, e - j) + "' after the closing quote of field " +
                      std::to_string(row.fields.size() + 1);
        }
      } else if (text[i] == ',') {
        if (row.fields.empty()) first_quoted = quoted_field;
        row.fields.push_back(quoted_field ? field : trim(field));
        field.clear();
        quoted_field = false;
        ++i;
      } else if (text[i] == '\n' || text[i] == '\r') {
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        ++i;
        ++line;
        end_of_row = true;
      } else {
        if (!quoted_field) field += text[i];
        ++i;
      }
    }
    if (row.fields.empty()) first_quoted = quoted_field;
    row.fields.push_back(quoted_field ? field : trim(field));
    const bool blank = row.fields.size() == 1 && row.fields[0].empty() && !quoted_field;
    const bool comment = !first_quoted && !row.fields[0].empty() && row.fields[0][0] == '#';
    if (!blank && !comment) rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace hptrain
