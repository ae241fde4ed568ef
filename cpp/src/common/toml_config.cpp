#include "hptrain/toml_config.h"

#include <algorithm>
#include <sstream>

#include "hptrain/error.h"
#include "hptrain/fs.h"

namespace hptrain::config {

namespace {

toml::table parse_one(const std::filesystem::path& path) {
  // read_text: the OS's reason, and a FIFO refused instead of waited on
  const std::string text = fs::read_text(path);
  try {
    return toml::parse(text, path.string());
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw ConfigError(path.string() + ":" + std::to_string(b.line) + ":" +
                      std::to_string(b.column) + ": " + std::string(e.description()));
  }
}

// Moves every key of `over` into `into`: a table into a table merges key by key, anything else
// replaces. Moving (not copying) keeps each node's file and line for error messages.
void merge_into(toml::table& into, toml::table&& over) {
  for (auto&& [key, value] : over) {
    auto* have = into.get(key);
    if (have != nullptr && have->is_table() && value.is_table()) {
      merge_into(*have->as_table(), std::move(*value.as_table()));
    } else {
      into.insert_or_assign(key, std::move(value));
    }
  }
}

toml::table parse_extending(const std::filesystem::path& path,
                            std::vector<std::filesystem::path>& chain) {
  toml::table t = parse_one(path);
  const toml::node* b = t.get("base");
  if (b == nullptr) return t;
  const std::string at = path.string() + ":" + std::to_string(b->source().begin.line) + ": base";
  if (!b->is_string()) {
    throw ConfigError(at + ": expected a string (the file this one extends, relative to it)");
  }
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  const std::filesystem::path base = (dir / b->as_string()->get()).lexically_normal();
  chain.push_back(std::filesystem::weakly_canonical(path));
  if (std::find(chain.begin(), chain.end(), std::filesystem::weakly_canonical(base)) !=
      chain.end()) {
    std::string cycle;
    for (const auto& c : chain) cycle += c.string() + " -> ";
    throw ConfigError(at + ": the files extend each other in a cycle (" + cycle + base.string() +
                      ")");
  }
  toml::table merged;
  try {
    merged = parse_extending(base, chain);
  } catch (const InputError& e) {
    throw InputError(at + ": " + e.what());
  }
  t.erase("base");
  merge_into(merged, std::move(t));
  return merged;
}

}  // namespace

toml::table parse_file(const std::filesystem::path& path) {
  std::vector<std::filesystem::path> chain;
  return parse_extending(path, chain);
}

void apply_override(toml::table& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError("--set '" + assignment + "': expected KEY=VALUE, e.g. train.epochs=5");
  }
  const std::string key = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string p; std::getline(ss, p, '.');) {
    if (p.empty()) throw ConfigError("--set '" + assignment + "': empty key component");
    parts.push_back(p);
  }
  toml::table* t = &root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto* sub = t->get(parts[i]);
    if (sub == nullptr) {
      t->insert(parts[i], toml::table{});
      sub = t->get(parts[i]);
    }
    if (!sub->is_table()) {
      throw ConfigError("--set '" + assignment + "': '" + parts[i] + "' is not a table");
    }
    t = sub->as_table();
  }
  toml::table holder;
  try {
    holder = toml::parse("v = " + value);
    t->insert_or_assign(parts.back(), *holder.get("v"));
  } catch (const toml::parse_error&) {
    t->insert_or_assign(parts.back(), value);
  }
}

Section::Section(const toml::table* table, std::string file, std::string path)
    : table_(table),
      file_(std::move(file)),
      path_(std::move(path)),
      asked_(std::make_shared<std::set<std::string>>()) {}

std::string Section::full_key(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const toml::node* Section::node(std::string_view key) const {
  asked_->insert(full_key(key));
  return table_ == nullptr ? nullptr : table_->get(key);
}

std::string Section::file_of(std::string_view key) const {
  // a key from the file named by `base` (parse_file) carries that file's name
  const toml::node* n = table_ == nullptr ? nullptr : table_->get(key);
  if (n == nullptr) n = table_;
  return n != nullptr && n->source().path != nullptr ? *n->source().path : file_;
}

std::string Section::where(std::string_view key) const {
  // A value set by --set (apply_override) has no line in any file: name the option instead.
  const toml::node* n = table_ == nullptr ? nullptr : table_->get(key);
  if (n != nullptr && n->source().begin.line == 0) return file_ + " (--set): " + full_key(key);
  const toml::node* at = n != nullptr ? n : table_;
  const auto line = at == nullptr ? 0 : at->source().begin.line;
  return file_of(key) + (line > 0 ? ":" + std::to_string(line) : "") + ": " + full_key(key);
}

bool Section::has(std::string_view key) const {
  return node(key) != nullptr;
}

namespace {
const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    default:
      return "date/time";
  }
}
}  // namespace

void Section::type_error(std::string_view key, const char* expected) const {
  throw ConfigError(where(key) + ": expected " + expected + ", got " + type_name(*node(key)));
}

void Section::require(std::string_view key, bool ok, const std::string& why) const {
  if (!ok) throw ConfigError(where(key) + ": " + why);
}

void Section::get(std::string_view key, bool& out) const {
  const auto* n = node(key);
  if (n == nullptr) return;
  if (!n->is_boolean()) type_error(key, "a boolean (true/false)");
  out = n->as_boolean()->get();
}

void Section::get(std::string_view key, int64_t& out) const {
  const auto* n = node(key);
  if (n == nullptr) return;
  if (!n->is_integer()) type_error(key, "an integer");
  out = n->as_integer()->get();
}

void Section::get(std::string_view key, int& out) const {
  int64_t v = out;
  get(key, v);
  require(key, v >= INT32_MIN && v <= INT32_MAX, "value " + std::to_string(v) + " is out of range");
  out = static_cast<int>(v);
}

void Section::get(std::string_view key, double& out) const {
  const auto* n = node(key);
  if (n == nullptr) return;
  if (n->is_integer()) {
    out = static_cast<double>(n->as_integer()->get());
  } else if (n->is_floating_point()) {
    out = n->as_floating_point()->get();
  } else {
    type_error(key, "a number");
  }
}

void Section::get(std::string_view key, std::string& out) const {
  const auto* n = node(key);
  if (n == nullptr) return;
  if (!n->is_string()) type_error(key, "a string");
  out = n->as_string()->get();
}

void Section::get(std::string_view key, std::optional<double>& out) const {
  if (!has(key)) return;
  double v = 0;
  get(key, v);
  out = v;
}

void Section::get(std::string_view key, std::optional<int>& out) const {
  if (!has(key)) return;
  int v = 0;
  get(key, v);
  out = v;
}

void Section::get(std::string_view key, std::optional<std::string>& out) const {
  if (!has(key)) return;
  std::string v;
  get(key, v);
  out = v;
}

namespace {
template <class T, class Fn>
void get_array(const Section& s, const toml::node* n, std::string_view key, std::vector<T>& out,
               const char* expected, Fn&& convert) {
  if (n == nullptr) return;
  if (!n->is_array()) {
    s.require(key, false, std::string("expected ") + expected + ", got " + type_name(*n));
  }
  std::vector<T> v;
  for (const auto& el : *n->as_array()) {
    std::optional<T> x = convert(el);
    s.require(key, x.has_value(),
              std::string("expected ") + expected + ", got an array with a " + type_name(el));
    v.push_back(*x);
  }
  out = std::move(v);
}
}  // namespace

void Section::get(std::string_view key, std::vector<std::string>& out) const {
  get_array(*this, node(key), key, out, "an array of strings",
            [](const toml::node& el) { return el.value<std::string>(); });
}

void Section::get(std::string_view key, std::vector<double>& out) const {
  get_array(*this, node(key), key, out, "an array of numbers",
            [](const toml::node& el) { return el.value<double>(); });
}

void Section::get(std::string_view key, std::vector<int>& out) const {
  std::vector<int64_t> wide;
  get_array(*this, node(key), key, wide, "an array of integers",
            [](const toml::node& el) -> std::optional<int64_t> {
              if (!el.is_integer()) return std::nullopt;
              return el.as_integer()->get();
            });
  if (node(key) == nullptr) return;
  // each element as the scalar getter checks it: [4, 4294967300] must not read as [4, 4]
  std::vector<int> v;
  for (size_t i = 0; i < wide.size(); ++i) {
    require(
        key, wide[i] >= INT32_MIN && wide[i] <= INT32_MAX,
        "index " + std::to_string(i) + ": value " + std::to_string(wide[i]) + " is out of range");
    v.push_back(static_cast<int>(wide[i]));
  }
  out = std::move(v);
}

void Section::get_choice(std::string_view key, std::string& out,
                         const std::vector<std::string>& choices) const {
  std::string v = out;
  get(key, v);
  for (const auto& c : choices) {
    if (c == v) {
      out = v;
      return;
    }
  }
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  throw ConfigError(where(key) + ": '" + v + "' is not one of: " + list);
}

Section Section::section(std::string_view key) const {
  const auto* n = node(key);
  const toml::table* sub = nullptr;
  if (n != nullptr) {
    if (!n->is_table()) type_error(key, "a table");
    sub = n->as_table();
  }
  Section s(sub, file_, full_key(key));
  s.asked_ = asked_;
  return s;
}

std::vector<std::string> Section::keys() const {
  std::vector<std::string> out;
  if (table_ == nullptr) return out;
  for (const auto& [k, v] : *table_) out.emplace_back(k.str());
  return out;
}

void Section::check_unknown() const {
  if (table_ == nullptr) return;
  for (const auto& [k, v] : *table_) {
    const std::string key = full_key(k.str());
    if (asked_->count(key) == 0) {
      std::string valid;
      const std::string prefix = path_.empty() ? "" : path_ + ".";
      for (const auto& a : *asked_) {
        if (a.rfind(prefix, 0) == 0 && a.find('.', prefix.size()) == std::string::npos) {
          valid += (valid.empty() ? "" : ", ") + a.substr(prefix.size());
        }
      }
      throw ConfigError(where(k.str()) + ": unknown key" +
                        (valid.empty() ? std::string() : "; valid keys here: " + valid));
    }
    if (v.is_table()) {
      Section sub(v.as_table(), file_, key);
      sub.asked_ = asked_;
      sub.check_unknown();
    }
  }
}

}  // namespace hptrain::config
