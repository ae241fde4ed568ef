#include "hptrain/models/config.h"

#include "hptrain/error.h"

namespace hptrain::models {
namespace {

bool one_of(const std::string& v, std::initializer_list<const char*> choices) {
  for (const char* c : choices) {
    if (v == c) return true;
  }
  return false;
}

// The range checks, written once: `require(key, ok, why)` throws when !ok.
template <class Require>
void check_fields(const ModelConfig& c, Require&& require) {
  require("type", one_of(c.type, {"cnn", "lstm"}), "'" + c.type + "' is not one of: cnn, lstm");
  require("dropout", c.dropout >= 0 && c.dropout < 1, "must be in [0, 1)");
  require("channels", !c.channels.empty(), "must list at least one block");
  for (int ch : c.channels) require("channels", ch > 0, "every entry must be > 0");
  require("time_pooling", one_of(c.time_pooling, {"mean", "max", "mean_max", "mean_std"}),
          "'" + c.time_pooling + "' is not one of: mean, max, mean_max, mean_std");
  require("hidden_size", c.hidden_size > 0, "must be > 0");
  require("num_layers", c.num_layers > 0, "must be > 0");
  require("pooling", one_of(c.pooling, {"attention", "attention_stats", "mean"}),
          "'" + c.pooling + "' is not one of: attention, attention_stats, mean");
  require("frame_stride", c.frame_stride > 0, "must be > 0");
}

}  // namespace

void ModelConfig::validate() const {
  check_fields(*this, [](const char* key, bool ok, const std::string& why) {
    if (!ok) throw ConfigError(std::string("model.") + key + ": " + why);
  });
}

void from_toml(const config::Section& s, ModelConfig& cfg) {
  s.get_choice("type", cfg.type, {"cnn", "lstm"});
  s.get("dropout", cfg.dropout);
  if (cfg.type == "cnn") {
    s.get("channels", cfg.channels);
    s.get_choice("time_pooling", cfg.time_pooling, {"mean", "max", "mean_max", "mean_std"});
  } else {
    s.get("hidden_size", cfg.hidden_size);
    s.get("num_layers", cfg.num_layers);
    s.get("bidirectional", cfg.bidirectional);
    s.get_choice("pooling", cfg.pooling, {"attention", "attention_stats", "mean"});
    s.get("frame_stride", cfg.frame_stride);
  }
  check_fields(cfg,
               [&](const char* key, bool ok, const std::string& why) { s.require(key, ok, why); });
}

}  // namespace hptrain::models
