#include "hptrain/models/config.h"

#include <string>
#include <vector>

#include "hptrain/error.h"

namespace hptrain::models {
namespace {

// The choices of each string field, for reading the TOML and for validate().
const std::vector<std::string> kTimePoolings = {"mean", "max", "mean_max", "mean_std"};
const std::vector<std::string> kPoolings = {"attention", "attention_stats", "mean"};
const std::vector<std::string> kTransformerPoolings = {"cls", "mean", "attentive_stats"};
const std::vector<std::string> kPretrainedPoolings = {"mean", "attentive_stats"};

// The pooling choices of a model type.
const std::vector<std::string>& poolings(const std::string& type) {
  if (type == "transformer") return kTransformerPoolings;
  if (type == "pretrained") return kPretrainedPoolings;
  return kPoolings;
}
const std::vector<std::string> kLosses = {"softmax", "aam"};
const std::vector<std::string> kInitParts = {"backbone", "heads", "all"};

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
  require_choice(require, "type", c.type, kModelTypes);
  require("dropout", c.dropout >= 0 && c.dropout < 1, "must be in [0, 1)");
  require("channels", !c.channels.empty(), "must list at least one block");
  for (int ch : c.channels) require("channels", ch > 0, "every entry must be > 0");
  require_choice(require, "time_pooling", c.time_pooling, kTimePoolings);
  require("hidden_size", c.hidden_size > 0, "must be > 0");
  require("num_layers", c.num_layers > 0, "must be > 0");
  require_choice(require, "pooling", c.pooling, poolings(c.type));
  require("frame_stride", c.frame_stride > 0, "must be > 0");
  if (c.type == "ecapa") {
    require("channels", c.channels.size() == 5,
            "ecapa needs 5 entries (front, three SE-Res2Net blocks, aggregation), e.g. "
            "[512, 512, 512, 512, 1536]");
    require("res2net_scale", c.res2net_scale > 1, "must be > 1");
    for (size_t i = 1; i + 1 < c.channels.size(); ++i) {
      require("channels", c.channels[i] % c.res2net_scale == 0,
              "the SE-Res2Net blocks' channels must be multiples of res2net_scale (" +
                  std::to_string(c.res2net_scale) + ")");
    }
    require("embedding_dim", c.embedding_dim > 0, "must be > 0");
    require("se_channels", c.se_channels > 0, "must be > 0");
    require("attention_channels", c.attention_channels > 0, "must be > 0");
  }
  if (c.type == "transformer") {
    require("layers", c.layers > 0, "must be > 0");
    require("d_model", c.d_model > 0, "must be > 0");
    require("heads", c.heads > 0, "must be > 0");
    require("d_model", c.heads <= 0 || c.d_model % c.heads == 0,
            "must be a multiple of heads (" + std::to_string(c.heads) + ")");
    require("ff_dim", c.ff_dim > 0, "must be > 0");
    require("subsampling_channels", c.subsampling_channels >= 0, "must be >= 0 (0: d_model)");
  }
  if (c.type == "transformer" || c.type == "pretrained") {
    require("attention_channels", c.attention_channels > 0, "must be > 0");
  }
  if (c.type == "pretrained") {
    require("encoder", !c.encoder.empty(),
            "must name a TorchScript file (scripts/export_encoder.py)");
    require("layers", c.encoder_layer >= -1, "must be \"weighted\" or a layer index >= 0");
    require("freeze_epochs", c.freeze_epochs >= 0, "must be >= 0");
    require("encoder_lr", c.encoder_lr >= 0, "must be >= 0 (0: train.lr)");
  }
  if (c.type == "ge2e") require("embedding_dim", c.embedding_dim > 0, "must be > 0");
  require("weights", !c.weights.empty() || c.type != "torchscript",
          "type = \"torchscript\" needs the file of its TorchScript module");
  require("weights", c.weights.empty() || c.type == "ge2e" || c.type == "torchscript",
          "is read by type = \"ge2e\" and \"torchscript\" only (other types start from a run: "
          "model.init)");
  require_choice(require, "loss", c.loss, kLosses);
  require("loss_task", c.loss == "softmax" || !c.loss_task.empty(), "must name a task");
  require("margin", c.margin >= 0 && c.margin < 1.5707963267948966, "must be in [0, pi/2)");
  require("scale", c.scale > 0, "must be > 0");
  require("init_parts", !c.init_parts.empty(), "must name at least one part");
  for (const auto& part : c.init_parts) require_choice(require, "init_parts", part, kInitParts);
}

}  // namespace

void ModelConfig::validate() const {
  check_fields(*this, [](const char* key, bool ok, const std::string& why) {
    if (!ok) throw ConfigError(std::string("model.") + key + ": " + why);
  });
}

void from_toml(const config::Section& s, ModelConfig& cfg) {
  s.get_choice("type", cfg.type, kModelTypes);
  s.get("dropout", cfg.dropout);
  if (cfg.type == "cnn") {
    s.get("channels", cfg.channels);
    s.get_choice("time_pooling", cfg.time_pooling, kTimePoolings);
  } else if (cfg.type == "ecapa") {
    if (!s.has("channels")) cfg.channels = kEcapaChannels;
    s.get("channels", cfg.channels);
    s.get("embedding_dim", cfg.embedding_dim);
    s.get("res2net_scale", cfg.res2net_scale);
    s.get("se_channels", cfg.se_channels);
    s.get("attention_channels", cfg.attention_channels);
    s.get("global_context", cfg.global_context);
  } else if (cfg.type == "transformer") {
    if (!s.has("pooling")) cfg.pooling = "mean";
    s.get_choice("pooling", cfg.pooling, kTransformerPoolings);
    s.get("layers", cfg.layers);
    s.get("d_model", cfg.d_model);
    s.get("heads", cfg.heads);
    s.get("ff_dim", cfg.ff_dim);
    s.get("subsampling_channels", cfg.subsampling_channels);
    s.get("attention_channels", cfg.attention_channels);
    s.get("global_context", cfg.global_context);
  } else if (cfg.type == "pretrained") {
    if (!s.has("pooling")) cfg.pooling = "mean";
    s.get_choice("pooling", cfg.pooling, kPretrainedPoolings);
    s.get("encoder", cfg.encoder);
    if (s.has("layers")) {
      std::string layers;
      try {
        s.get("layers", layers);
      } catch (const ConfigError&) {
        layers.clear();
      }
      if (layers == "weighted") {
        cfg.encoder_layer = -1;
      } else {
        int index = -2;
        try {
          s.get("layers", index);
        } catch (const ConfigError&) {
          index = -2;
        }
        s.require("layers", index >= 0, "must be \"weighted\" or a layer index >= 0");
        cfg.encoder_layer = index;
      }
    }
    s.get("freeze_epochs", cfg.freeze_epochs);
    s.get("encoder_lr", cfg.encoder_lr);
    s.get("attention_channels", cfg.attention_channels);
    s.get("global_context", cfg.global_context);
  } else if (cfg.type == "ge2e") {
    cfg.hidden_size = kGe2eHidden;
    cfg.num_layers = kGe2eLayers;
    cfg.embedding_dim = kGe2eEmbedding;
    s.get("hidden_size", cfg.hidden_size);
    s.get("num_layers", cfg.num_layers);
    s.get("embedding_dim", cfg.embedding_dim);
  } else {
    s.get("hidden_size", cfg.hidden_size);
    s.get("num_layers", cfg.num_layers);
    s.get("bidirectional", cfg.bidirectional);
    s.get_choice("pooling", cfg.pooling, kPoolings);
    s.get("frame_stride", cfg.frame_stride);
  }
  s.get_choice("loss", cfg.loss, kLosses);
  s.get("loss_task", cfg.loss_task);
  // read (and checked) whatever the loss, so that --set model.loss="softmax" keeps a file valid
  s.get("margin", cfg.margin);
  s.get("scale", cfg.scale);
  s.get("easy_margin", cfg.easy_margin);
  s.get("init", cfg.init);
  s.get("init_parts", cfg.init_parts);
  s.get("weights", cfg.weights);
  s.get("freeze_backbone", cfg.freeze_backbone);
  check_fields(cfg,
               [&](const char* key, bool ok, const std::string& why) { s.require(key, ok, why); });
}

}  // namespace hptrain::models
