// Small trained runs for the speakers tests: the tone corpus (train/tone_corpus.h: task `pitch`,
// low and high tones, 1-s chunks) with a CNN, or a random forest, trained in a few seconds.
#pragma once

#include <filesystem>
#include <string>

#include "hptrain/fs.h"
#include "hptrain/train/run.h"
#include "train/tone_corpus.h"

namespace hptrain::test {

inline const std::string kToneCnn =
    "input = \"log_mel\"\n\n[model]\ntype = \"cnn\"\nloss_task = \"pitch\"\nchannels = [8, "
    "16]\ntime_pooling = "
    "\"mean_std\"\n\n[train]\ndevice = \"cpu\"\nepochs = 12\nbatch_size = 4\nthreads = 1\n"
    "warmup_epochs = 0\npatience = 0\n";
inline const std::string kToneForest =
    "input = \"stats\"\n\n[model]\ntype = \"rf\"\nn_estimators = 5\n";

// Trains `model` (the [data] keys and tables after `dataset`) on the tone corpus in `dir`
// (written by write_tone_corpus) into dir/runs/<name>; returns the run folder.
inline std::filesystem::path train_tone_run(const std::filesystem::path& dir,
                                            const std::string& name, const std::string& model) {
  const auto path = dir / (name + ".toml");
  fs::write_text(path, "[experiment]\nname = \"" + name + "\"\nseed = 1\n\n[data]\ndataset = \"" +
                           (dir / "dataset.toml").string() + "\"\n" + model +
                           "\n[output]\ndir = \"" + (dir / "runs" / name).string() + "\"\n");
  return train::run_experiment({path, {}, false, 0}).run_dir;
}

}  // namespace hptrain::test
