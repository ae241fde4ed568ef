// run_fingerprint (src/train/run_common.cpp): the values that runs on disk recorded never change
// (pinned below).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hptrain/error.h"
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

}  // namespace
}  // namespace hptrain::train
