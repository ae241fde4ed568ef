// The main jobs of hptrain, behind the CLI: train + evaluate an experiment into its run folder,
// re-evaluate a run on any split or dataset, point it at whole recordings, and collect every run
// into a results table.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hptrain::train {

struct RunOptions {
  std::filesystem::path experiment;    // experiments/*.toml
  std::vector<std::string> overrides;  // "train.epochs=5", applied in order
  bool resume = false;                 // continue from <run>/checkpoint_last.pt
  // Stop as Ctrl-C does (checkpoint, no test) after this many optimiser steps in total; 0 = never.
  int64_t stop_after_steps = 0;
};

struct RunResult {
  std::filesystem::path run_dir;
  bool interrupted = false;  // stopped by Ctrl-C (or stop_after_steps): resume with --resume
  nlohmann::json metrics;    // metrics.json of the test split (empty when interrupted)
};

// Prepares the dataset if needed (data::ensure_prepared), trains on the train split (CNN/LSTM
// with LibTorch, SVM/RF with hp_baselines), selects on validation macro-F1, evaluates the best
// model on the test split, and writes the run folder (README, "Training, evaluation and reports"
// lists its files). SIGINT during training saves checkpoint_last.pt and returns with interrupted =
// true.
RunResult run_experiment(const RunOptions& opts);

struct EvaluateOptions {
  std::filesystem::path run;      // a run folder written by run_experiment
  std::string split = "test";     // test | validation | train
  std::filesystem::path dataset;  // another prepared dataset TOML (empty: the run's)
  int64_t batch_size = 0;         // examples per batch (0: the run's train.batch_size)
};

// Re-evaluates the run's best model; writes metrics.json, CSVs and plots to
// <run>/eval-<split>[-<dataset stem>]/ and returns the metrics.
nlohmann::json run_evaluate(const EvaluateOptions& opts);

struct RobustnessOptions {
  std::filesystem::path run;       // a run folder written by run_experiment (data.dataset)
  std::vector<std::string> noise;  // kinds (data::parse_noise_kind): babble, folder:PATH, ...
  std::vector<double> snr_db;      // each in [data::kMinSnrDb, data::kMaxSnrDb]
  uint64_t seed = 0;               // of the noise drawn (the same seed gives the same noise)
  int64_t batch_size = 0;          // chunks per batch (0: the run's train.batch_size)
  std::string split = "test";      // test, or validation (to choose settings on)
};

// The run's best model on its test chunks (or validation ones) rebuilt from their sources (the
// shards' source and offset, the run dataset's audio_root and [preprocess]), clean and with each
// noise kind mixed in at each SNR before feature extraction (data/noise.h); each source decoded
// once. Writes <run>/robustness.json (clean and, per kind, SNR and task: accuracy, macro-F1,
// ROC-AUC; rows of other kinds from an earlier call kept) and <run>/robustness.png
// (robustness_validation.json and .png for the validation split), atomically, and returns the JSON.
// Errors before any work: bad SNRs or kinds, an empty or undecodable noise folder, test sources
// that moved (named, with the key to fix).
nlohmann::json run_robustness(const RobustnessOptions& opts);

// What run_predict wrote for one file.
struct FilePrediction {
  std::filesystem::path file, csv, segments;
  std::string error;  // why the file failed (nothing was written for it); empty on success
  int64_t chunks = 0;
  double seconds = 0;  // audio classified (the chunks' durations before padding)
  // task -> class -> fraction of `seconds` whose chunk was predicted as that class
  std::map<std::string, std::map<std::string, double>> share;
  std::map<std::string, int64_t> segment_count;  // task -> rows of the segments CSV
};

struct PredictOptions {
  std::filesystem::path run;                 // a run folder written by run_experiment
  std::vector<std::filesystem::path> files;  // audio or video files, any length
  std::filesystem::path out;                 // folder of the CSVs (empty: <run>/predictions)
  // The container stream to classify (ffprobe's 0:N, e.g. a film's original-language track);
  // unset: the run dataset's preprocess.stream (by default the first audio stream).
  std::optional<int> stream;
  int64_t batch_size = 0;  // chunks per batch (0: the run's train.batch_size)
  // A cast file (hptrain enroll, speakers/cast.h) made with this run: each chunk also named by
  // the best-scoring character, or "unknown" below the cast's threshold (columns cast,
  // cast_score, cast:<character>; task "cast" in the timeline). Empty: none.
  std::filesystem::path cast;
  // Called as each file ends, whether it succeeded or failed (optional).
  std::function<void(const FilePrediction&)> on_file;
};

// Points the run's best model at whole recordings: each file is streamed through the run
// dataset's preprocessing (decode, resample, trim, loudness, chunks), its input extracted in
// batches (on the GPU when there is one), and two CSVs written (atomically): <out>/<stem>.csv
// with one row per chunk (start_s and duration_s in the file's own time, then for each task the
// predicted class and every class's probability) and <out>/<stem>.segments.csv with the
// timeline (per task, consecutive chunks of one class merged). A file that cannot be decoded or
// is too short fails alone (FilePrediction::error) and the others go on; errors of the run
// itself throw before any file is read (README, "Predicting whole recordings").
std::vector<FilePrediction> run_predict(const PredictOptions& opts);

struct ReportOptions {
  std::filesystem::path runs = "runs";  // every <runs>/*/metrics.json
  std::filesystem::path out;  // FILE.md and FILE.csv (given as either, or as FILE); empty: none
  bool robustness = false;    // the robustness table (every <runs>/*/robustness.json) instead
};

// The results table (model, task, accuracy, macro-F1, ROC-AUC, the speaker task's verification
// EER where metrics.json has one, training time, device) as
// Markdown, one row per run and task, sorted by experiment and task.
std::string run_report(const ReportOptions& opts);

// The robustness table: one row per run, task and noise kind (sorted), columns clean and the
// macro-F1 at each SNR any run was evaluated at (highest first; "-" where a run has none).
std::string robustness_report(const ReportOptions& opts);

}  // namespace hptrain::train
