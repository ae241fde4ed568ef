#include "hptrain/models/config.h"

#include <string>
#include <vector>

#include "hptrain/error.h"

namespace hptrain::models {
namespace {

// The choices of each string field, for reading the TOML and for validate().
const std::vector<std::string> kTypes = {"cnn", "lstm"};
const std::vector<std::string> kTimePoolings = {"mean", "max", "mean_max", "mean_std"};
const std::vector<std::string> kPoolings = {"attention", "attention_stats", "mean"};

// require(key, ...) unless `v` is one of `choices`, with the message get_choice gives.
template <class Require>
void require_choice(Require& require, const char* key, const std::string& v,
                    const std::vector<std::string>& choices) {
  std::string list;
  bool ok = false;
  for (const auto& c : choices) {
    ok = ok || v == c;
    list += (list.empty() ? "" : ", ") + c;
  }
  require(key, ok, "'" + v + "' is not one of: " + list);
}

// The range checks, written once: `require(key, ok, why)` throws when !ok.
template <class Require>
void check_fields(const ModelConfig& c, Require&& require) {
  require_choice(require, "type", c.type, kTypes);
  require("dropout", c.dropout >= 0 && c.dropout < 1, "must be in [0, 1)");
  require("channels", !c.channels.empty(), "must list at least one block");
  for (int ch : c.channels) require("channels", ch > 0, "every entry must be > 0");
  require_choice(require, "time_pooling", c.time_pooling, kTimePoolings);
  require("hidden_size", c.hidden_size > 0, "must be > 0");
  require("num_layers", c.num_layers > 0, "must be > 0");
  require_choice(require, "pooling", c.pooling, kPoolings);
  require("frame_stride", c.frame_stride > 0, "must be > 0");
}

}  // namespace

void ModelConfig::validate() const {
  check_fields(*this, [](const char* key, bool ok, const std::string& why) {
    if (!ok) throw ConfigError(std::string("model.") + key + ": " + why);
  });
}

void from_toml(const config::Section& s, ModelConfig& cfg) {
  s.get_choice("type", cfg.type, kTypes);
  s.get("dropout", cfg.dropout);
  if (cfg.type == "cnn") {
    s.get("channels", cfg.channels);
    s.get_choice("time_pooling", cfg.time_pooling, kTimePoolings);
  } else {
    s.get("hidden_size", cfg.hidden_size);
    s.get("num_layers", cfg.num_layers);
    s.get("bidirectional", cfg.bidirectional);
    s.get_choice("pooling", cfg.pooling, kPoolings);
    s.get("frame_stride", cfg.frame_stride);
  }
  check_fields(cfg,
               [&](const char* key, bool ok, const std::string& why) { s.require(key, ok, why); });
}

}  // namespace hptrain::models
