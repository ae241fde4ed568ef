// The main jobs of hptrain, behind the CLI: train + evaluate an experiment into its run folder,
// re-evaluate a run on any split or dataset, point it at whole recordings, and collect every run
// into a results table.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
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
};

// Re-evaluates the run's best model; writes metrics.json, CSVs and plots to
// <run>/eval-<split>[-<dataset stem>]/ and returns the metrics.
nlohmann::json run_evaluate(const EvaluateOptions& opts);

struct PredictOptions {
  std::filesystem::path run;                 // a run folder written by run_experiment
  std::vector<std::filesystem::path> files;  // audio or video files, any length
  std::filesystem::path out;                 // folder of the CSVs (empty: <run>/predictions)
};

// What run_predict wrote for one file.
struct FilePrediction {
  std::filesystem::path file, csv;
  int64_t chunks = 0;
  double seconds = 0;  // audio classified (the chunks' durations before padding)
  // task -> class -> fraction of `seconds` whose chunk was predicted as that class
  std::map<std::string, std::map<std::string, double>> share;
};

// Points the run's best model at whole recordings: each file is streamed through the run
// dataset's preprocessing (decode, resample, trim, loudness, chunks), its input extracted in
// batches (on the GPU when there is one), and <out>/<file stem>.csv written (atomically) with
// one row per chunk: start_s and duration_s in the file's own time, then for each task the
// predicted class and every class's probability (README, "Predicting whole recordings").
std::vector<FilePrediction> run_predict(const PredictOptions& opts);

struct ReportOptions {
  std::filesystem::path runs = "runs";  // every <runs>/*/metrics.json
  std::filesystem::path out;            // FILE.md (+ FILE.csv beside it); empty: none written
};

// The results table (model, task, accuracy, macro-F1, ROC-AUC, training time, device) as
// Markdown, one row per run and task, sorted by experiment and task.
std::string run_report(const ReportOptions& opts);

}  // namespace hptrain::train
