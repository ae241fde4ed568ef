// Reading configuration from TOML (toml++): typed getters that name the file, line and key in
// every error, `--set a.b=value` overrides, and a check that rejects unknown keys.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace hptrain::config {

// Parses a TOML file. A top-level `base = "other.toml"` (relative to this file) reads that file
// first and merges this one over it: tables key by key, any other value (arrays too) replaced;
// bases may chain, not in a cycle. Throws ConfigError "FILE:LINE:COL: reason" on a syntax error
// and InputError when a file is missing.
toml::table parse_file(const std::filesystem::path& path);

// Applies one "a.b.c=value" override; value is read as a TOML value (5, 0.1, true, "x", [1,2])
// and taken as a plain string when it does not parse. Creates missing tables.
void apply_override(toml::table& root, const std::string& assignment);

// A view of one table of a parsed file. Every getter leaves `out` untouched when the key is
// absent, and throws ConfigError "FILE:LINE: KEY: expected T, got U" on a wrong type.
// Every key asked for is remembered, so that check_unknown() can list the valid ones.
class Section {
 public:
  Section(const toml::table* table, std::string file, std::string path = {});

  bool has(std::string_view key) const;
  void get(std::string_view key, bool& out) const;
  void get(std::string_view key, int& out) const;
  void get(std::string_view key, int64_t& out) const;
  void get(std::string_view key, double& out) const;
  void get(std::string_view key, std::string& out) const;
  void get(std::string_view key, std::optional<double>& out) const;
  void get(std::string_view key, std::optional<int>& out) const;
  void get(std::string_view key, std::optional<std::string>& out) const;
  void get(std::string_view key, std::vector<std::string>& out) const;
  void get(std::string_view key, std::vector<double>& out) const;
  void get(std::string_view key, std::vector<int>& out) const;
  // A string that must be one of `choices`; the error lists them.
  void get_choice(std::string_view key, std::string& out,
                  const std::vector<std::string>& choices) const;

  // A sub-table (empty view when absent; error when the key is not a table).
  Section section(std::string_view key) const;
  // Names of the sub-tables / keys present (for open-ended tables such as [tasks]).
  std::vector<std::string> keys() const;

  // Throws ConfigError "FILE:LINE: KEY: why" unless ok. For range checks after reading.
  void require(std::string_view key, bool ok, const std::string& why) const;
  // Throws ConfigError naming the first key present here (recursively) that no getter asked
  // for, with the valid keys of its table.
  void check_unknown() const;

  // "FILE:LINE: section.key" for messages; FILE is the one that set the key (see parse_file).
  std::string where(std::string_view key) const;
  // The file that set `key` (or this table, when the key is absent): relative paths in a value
  // are relative to it.
  std::string file_of(std::string_view key) const;
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }

 private:
  const toml::node* node(std::string_view key) const;
  [[noreturn]] void type_error(std::string_view key, const char* expected) const;
  std::string full_key(std::string_view key) const;

  const toml::table* table_;
  std::string file_;
  std::string path_;
  std::shared_ptr<std::set<std::string>> asked_;  // full keys asked for, shared by sub-views
};

}  // namespace hptrain::config
