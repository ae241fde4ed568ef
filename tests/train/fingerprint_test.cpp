// run_fingerprint (src/train/run_common.cpp): the values that runs on disk recorded never change
// (pinned below), and a [model] key the parser reads cannot be left out of it unnoticed.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/models/config.h"
#include "hptrain/train/experiment.h"
#include "train/run_common.h"

namespace hptrain::train {
namespace {

using detail::run_fingerprint;
using detail::RunClasses;

// An experiment on prepared shards (not opened here) whose [model] holds `model` (TOML lines);
// augmentation off (its noise needs log_mel; it is not part of the fingerprint).
ExperimentConfig experiment(const std::string& model, const std::string& input) {
  return parse_experiment("[data]\nshards = \"shards\"\ninput = \"" + input +
                              "\"\n\n[train.augment]\nenabled = false\n\n[model]\n" + model + "\n",
                          "fingerprint.toml");
}

const RunClasses kClasses = {{"character", {"none", "alice", "bob"}}, {"music", {"no", "yes"}}};
// the demo's (README "Demo"), as runs/cnn/classes.json lists them
const RunClasses kDemoClasses = {
    {"character",
     {"none", "Default", "Default_es", "Default_pl", "Default_ru", "HillBilly", "Robot"}},
    {"music", {"no", "yes"}},
    {"scene", {"dialog", "action", "emotional"}}};

struct Pinned {
  const char* name;
  const char* input;
  const char* model;  // [model]'s lines
  const char* hex;    // what run_fingerprint gave when the test was written
};

// Runs trained with these settings hold these values in run.json and in every checkpoint: a
// change here makes their checkpoints and casts unreadable. A new [model] key goes into the
// fingerprint only where it is set (or only for its new type), so that these stay.
const Pinned kPinned[] = {
    // experiments/cnn.toml with the demo's classes: the demo CNN's run.json holds this value
    {"demo_cnn", "log_mel",
     "type = \"cnn\"\nchannels = [8, 16, 32, 64]\ntime_pooling = \"mean_std\"\ndropout = 0.3",
     "5803f909dc79ff51"},
    {"cnn_defaults", "log_mel", "type = \"cnn\"", "81133c61dd6ed9c2"},
    {"cnn_mfcc", "mfcc", "type = \"cnn\"\nchannels = [4, 8]\ndropout = 0.1\ntime_pooling = \"max\"",
     "a265864d00f4953d"},
    {"lstm_demo", "mfcc",
     "type = \"lstm\"\nhidden_size = 64\nnum_layers = 2\nbidirectional = true\n"
     "pooling = \"attention\"\nframe_stride = 6\ndropout = 0.3",
     "a0a114b5c080f432"},
    {"lstm_aam", "mfcc",
     "type = \"lstm\"\nbidirectional = false\npooling = \"attention_stats\"\nloss = \"aam\"\n"
     "margin = 0.3\nscale = 20.0\neasy_margin = true",
     "4a71025c74f00dca"},
    {"ecapa_defaults", "log_mel", "type = \"ecapa\"", "c9f4c9ca7295798b"},
    {"ecapa_small", "log_mel",
     "type = \"ecapa\"\nchannels = [64, 64, 64, 64, 192]\nres2net_scale = 4\n"
     "embedding_dim = 128\nse_channels = 32\nattention_channels = 64\nglobal_context = false\n"
     "loss = \"aam\"\nloss_task = \"character\"",
     "0f0e182fe923b1c8"},
    {"ge2e_defaults", "log_mel", "type = \"ge2e\"", "180658c64b7a6073"},
    {"transformer_defaults", "log_mel", "type = \"transformer\"", "2ab50ef3f920e32f"},
    {"transformer_small", "log_mel",
     "type = \"transformer\"\nlayers = 2\nd_model = 64\nheads = 8\nff_dim = 256\n"
     "subsampling_channels = 32\npooling = \"cls\"",
     "840b15959689cfc7"},
    {"pretrained_weighted", "waveform", "type = \"pretrained\"\nencoder = \"encoders/hubert.pt\"",
     "baa50ca323102c8d"},
    {"pretrained_layer", "waveform",
     "type = \"pretrained\"\nencoder = \"encoders/hubert.pt\"\nlayers = 6\n"
     "pooling = \"attentive_stats\"\nfreeze_epochs = 2\nencoder_lr = 1e-5",
     "58765da288b9c560"},
    {"torchscript", "log_mel", "type = \"torchscript\"\nweights = \"models/speaker.pt\"",
     "cc1bfa05124bfd4a"},
};

TEST(RunFingerprint, KeepsTheValuesRunsOnDiskRecorded) {
  for (const Pinned& p : kPinned) {
    const auto& classes = std::string(p.name) == "demo_cnn" ? kDemoClasses : kClasses;
    EXPECT_EQ(run_fingerprint(experiment(p.model, p.input), classes), p.hex) << p.name;
  }
}

// [model] keys that are not part of the fingerprint, on purpose: how the model trains or where
// its starting weights or code are read from, not what it computes. A checkpoint loads strictly
// (every tensor's name and shape), which is what guards the files these paths name.
const std::map<std::string, std::string> kNotInFingerprint = {
    {"init", "the run the weights start from (train::init_from_run), not the model"},
    {"init_parts", "what is taken from `init`"},
    {"weights",
     "ge2e: starting weights, as init; torchscript: the module file's path (moves with the run)"},
    {"encoder", "pretrained: the encoder file's path (moves with the run)"},
    {"freeze_backbone", "training: only the heads learn"},
    {"freeze_epochs", "training: pretrained's epochs with a frozen encoder"},
    {"encoder_lr", "training: the encoder's learning rate"},
};

// TOML values tried for each key; every key needs one that its type accepts and that is not
// its default (else the test fails naming the key: add one here).
const std::vector<std::string> kCandidates = {"2",
                                              "3",
                                              "16",
                                              "0.45",
                                              "true",
                                              "false",
                                              "\"max\"",
                                              "\"mean\"",
                                              "\"cls\"",
                                              "\"aam\"",
                                              "\"speaker\"",
                                              "\"other.pt\"",
                                              "\"mean_std\"",
                                              "\"attentive_stats\"",
                                              "[16, 16, 16, 16, 48]",
                                              "[\"heads\"]"};

struct Base {
  std::string input;
  std::map<std::string, std::string> model;  // key -> TOML value
};

// Each type's smallest valid [model]; a new type needs one here.
const std::map<std::string, Base> kBases = {
    {"cnn", {"log_mel", {{"type", "\"cnn\""}}}},
    {"lstm", {"mfcc", {{"type", "\"lstm\""}}}},
    {"ecapa", {"log_mel", {{"type", "\"ecapa\""}}}},
    {"ge2e", {"log_mel", {{"type", "\"ge2e\""}}}},
    {"torchscript", {"log_mel", {{"type", "\"torchscript\""}, {"weights", "\"m.pt\""}}}},
    {"transformer", {"log_mel", {{"type", "\"transformer\""}}}},
    {"pretrained", {"waveform", {{"type", "\"pretrained\""}, {"encoder", "\"e.pt\""}}}},
};

std::string lines(const std::map<std::string, std::string>& model) {
  std::string s;
  for (const auto& [k, v] : model) s += k + " = " + v + "\n";
  return s;
}

// The keys of [model] the parser reads for this base, as its unknown-key error lists them.
std::vector<std::string> keys_read(const Base& base) {
  auto model = base.model;
  model["zz_not_a_key"] = "1";
  std::string message;
  try {
    experiment(lines(model), base.input);
  } catch (const ConfigError& e) {
    message = e.what();
  }
  const std::string marker = "valid keys here: ";
  const auto at = message.find(marker);
  if (at == std::string::npos) {
    ADD_FAILURE() << "no list of valid keys in the unknown-key error: '" << message << "'";
    return {};
  }
  std::vector<std::string> keys;
  for (size_t i = at + marker.size(); i <= message.size();) {
    const size_t end = std::min(message.find(", ", i), message.size());
    keys.push_back(message.substr(i, end - i));
    i = end + 2;
  }
  return keys;
}

TEST(RunFingerprint, EveryModelKeyTheParserReadsChangesIt) {
  std::set<std::string> excluded_seen, base_values;
  for (const auto& type : models::kModelTypes) {
    const auto it = kBases.find(type);
    ASSERT_NE(it, kBases.end()) << "type '" << type << "': add its smallest [model] to kBases";
    const Base& base = it->second;
    const std::string fp = run_fingerprint(experiment(lines(base.model), base.input), kClasses);
    EXPECT_TRUE(base_values.insert(fp).second) << type << ": the fingerprint of another type";
    const auto keys = keys_read(base);
    EXPECT_GT(keys.size(), 5u) << type;
    for (const auto& key : keys) {
      if (key == "type") continue;  // the types' fingerprints differ (above)
      std::vector<std::string> valid, changed;
      for (const auto& value : kCandidates) {
        auto model = base.model;
        model[key] = value;
        try {
          const auto cfg = experiment(lines(model), base.input);
          valid.push_back(value);
          if (run_fingerprint(cfg, kClasses) != fp) changed.push_back(value);
        } catch (const ConfigError&) {
          // not a value this key takes
        }
      }
      if (kNotInFingerprint.count(key) != 0) {
        excluded_seen.insert(key);
        EXPECT_TRUE(changed.empty())
            << "model." << key << " (type = " << type << ") is listed as not in the fingerprint, "
            << "but " << changed.front() << " changes it";
        continue;
      }
      ASSERT_FALSE(valid.empty()) << "model." << key << " (type = " << type
                                  << "): no value of kCandidates is valid; add one";
      EXPECT_FALSE(changed.empty())
          << "model." << key << " (type = " << type << ") is read from [model] but leaves "
          << "run_fingerprint unchanged: two different models would share a fingerprint. Add it "
          << "to run_fingerprint (only where it applies or is set, so that the values of "
          << "KeepsTheValuesRunsOnDiskRecorded stay), or to kNotInFingerprint with the reason";
    }
  }
  for (const auto& [key, why] : kNotInFingerprint) {
    EXPECT_EQ(excluded_seen.count(key), 1u)
        << "kNotInFingerprint lists model." << key << ", which no type reads: remove it";
  }
}

}  // namespace
}  // namespace hptrain::train
