// An experiment file (experiments/*.toml): [experiment], [data], [model], [train] (with
// [train.augment]) and [output], read with --set overrides; every error names file:line:key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "hptrain/models/config.h"
#include "hptrain/toml_config.h"

namespace hptrain::data {
class Rendezvous;  // rendezvous.h
}  // namespace hptrain::data

namespace hptrain::train {

// [train.augment.noise]: noisy copies of training chunks, made from the waveforms with the
// mixing code evaluate --noise uses (data/noise.h) before training starts; for every model type
// (LibTorch and SVM / forest alike read them as extra training rows). Off while kinds is empty.
struct NoiseAugmentConfig {
  std::vector<std::string> kinds;            // data::parse_noise_kind: babble, music, ...
  std::vector<double> snr_db = {0.0, 20.0};  // [min, max]: each copy's SNR, uniform
  double probability = 0.5;                  // chance that a training chunk gets copies
  int copies = 1;  // noisy copies of each chosen chunk, each its own kind, SNR and noise
                   // (SpeechBrain's Augmenter repeat_augment)
  bool enabled() const { return !kinds.empty() && probability > 0; }
};

// On-the-fly augmentation of training batches. Masks apply to log_mel and mfcc; noise and
// mixing work in the power domain and need log_mel (dB).
struct AugmentConfig {
  bool enabled = true;
  int freq_masks = 2;        // SpecAugment masks over rows (mel bands, MFCC coefficients)
  int freq_mask_width = 8;   // maximum rows per mask
  int time_masks = 2;        // SpecAugment time masks per example
  int time_mask_width = 30;  // maximum frames per mask
  double noise_prob = 0.3;   // chance of adding white noise to an example
  std::vector<double> noise_snr_db = {10.0, 30.0};  // SNR range of that noise
  double mix_prob = 0.3;  // chance of mixing in another example of the batch as background
  std::vector<double> mix_gain_db = {-20.0, -8.0};  // its gain range (labels unchanged)
  NoiseAugmentConfig noise;  // [train.augment.noise] (independent of `enabled`)
};

struct TrainConfig {
  std::string device = "auto";  // auto | cpu | cuda | cuda:N
  int epochs = 20;
  int batch_size = 32;
  std::string optimizer = "adamw";  // adam | adamw | sgd (momentum 0.9, Nesterov)
  double lr = 2e-3;
  double momentum = 0.9;            // sgd only
  std::string schedule = "cosine";  // cosine (per step, to 0) | step | none
  int step_size = 10;               // schedule = step: epochs between decays
  double gamma = 0.1;               // schedule = step: decay factor
  int warmup_epochs = 1;            // linear warm-up before the schedule
  double weight_decay = 1e-4;
  double grad_clip = 5.0;  // max global gradient norm (0 = off)
  int patience = 6;        // early stopping: epochs without better validation macro-F1 (0 = off)
  std::string class_weighting = "balanced";  // balanced (n / (k * count)) | none
  bool mixed_precision = false;              // bf16 autocast on CUDA (ignored on the CPU)
  int threads = 0;                           // CPU threads for LibTorch (0 = all cores)
  bool deterministic = false;  // ask ATen for deterministic algorithms (slow; see docs)
  int prefetch = 4;            // batches read ahead by the background reader
  AugmentConfig augment;
};

struct ExperimentConfig {
  std::filesystem::path file;  // the experiment file
  std::string name;            // [experiment] name (default: the file's stem)
  uint64_t seed = 0;
  std::vector<std::string> tasks;  // empty = every task of the dataset
  std::string tasks_where;         // "file:line: experiment.tasks" for later errors
  std::filesystem::path dataset;   // dataset TOML, relative to the working directory
  std::filesystem::path shards;    // or: a folder of prepared shards, used as it is
  std::string input = "log_mel";   // log_mel | mfcc | stats
  models::ModelConfig model;       // model.type cnn | lstm (svm | rf: baselines' keys)
  TrainConfig train;
  std::filesystem::path output_dir;  // [output] dir (default runs/<name>)
  std::string resolved;              // the TOML after overrides (saved in the run folder)

  bool tabular() const { return model.type == "svm" || model.type == "rf"; }
  // The folder of the shards: `shards`, or the dataset's after data::ensure_prepared (which
  // builds the demo corpus and the shards when they are absent or stale; with `ranks`, every
  // rank of a job calls it and prepares its part).
  std::filesystem::path prepare_data(data::Rendezvous* ranks = nullptr) const;
};

// Parses `file`, applies `overrides` ("train.epochs=5"), reads and checks every key (unknown
// keys, types, ranges, choices). Throws ConfigError naming file, line and key.
ExperimentConfig load_experiment(const std::filesystem::path& file,
                                 const std::vector<std::string>& overrides = {});

// The same from TOML text (the `resolved` copy of a run folder); `file` names it in errors.
ExperimentConfig parse_experiment(const std::string& text, const std::filesystem::path& file);

}  // namespace hptrain::train
