// Checkpoints of a LibTorch run: weights, optimiser, training state and RNG in LibTorch's archive
// with a checksum trailer, loaded strictly against the run's fingerprint.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "hptrain/models/net.h"

namespace hptrain::train::detail {

// ---- the state a checkpoint carries besides weights and optimiser ---------------------------
struct State {
  int epoch = 0;              // completed epochs
  int64_t step_in_epoch = 0;  // batches done in the current (interrupted) epoch
  int64_t global_step = 0;    // optimiser steps so far (the schedule's position)
  double loss_sum = 0;        // training loss of the current epoch so far (sum over examples)
  int64_t seen = 0;           // examples of the current epoch so far
  double best_score = -1;     // best validation macro-F1 (mean over tasks)
  double best_loss = std::numeric_limits<double>::infinity();  // its validation loss
  int best_epoch = 0;
  int bad_epochs = 0;  // epochs since the best
  double train_seconds = 0;
  bool finished = false;                             // all epochs done or stopped early
  std::string data;                                  // fingerprint of the training shards
  nlohmann::json history = nlohmann::json::array();  // one object per epoch (log.csv rows)

  nlohmann::json to_json() const {
    return {{"epoch", epoch},
            {"step_in_epoch", step_in_epoch},
            {"global_step", global_step},
            {"loss_sum", loss_sum},
            {"seen", seen},
            {"best_score", best_score},
            {"best_loss", best_loss},
            {"best_epoch", best_epoch},
            {"bad_epochs", bad_epochs},
            {"train_seconds", train_seconds},
            {"finished", finished},
            {"history", history},
            {"data", data}};
  }
  // JSON has no infinity or NaN: nlohmann writes them as null (best_loss before the first
  // epoch ends is infinite, a diverged loss NaN), read back here as `if_null`
  static double number(const nlohmann::json& j, const char* key, double if_null) {
    const auto& v = j.at(key);
    return v.is_null() ? if_null : v.get<double>();
  }
  static State from_json(const nlohmann::json& j) {
    constexpr double inf = std::numeric_limits<double>::infinity();
    State s;
    s.epoch = j.at("epoch");
    s.step_in_epoch = j.at("step_in_epoch");
    s.global_step = j.at("global_step");
    s.loss_sum = number(j, "loss_sum", std::numeric_limits<double>::quiet_NaN());
    s.seen = j.at("seen");
    s.best_score = number(j, "best_score", -1);
    // checkpoints written before the tie-break had no best_loss: any loss breaks a tie then
    s.best_loss = j.contains("best_loss") ? number(j, "best_loss", inf) : inf;
    s.best_epoch = j.at("best_epoch");
    s.bad_epochs = j.at("bad_epochs");
    s.train_seconds = number(j, "train_seconds", 0);
    s.finished = j.at("finished");
    s.history = j.at("history");
    s.data = j.at("data");
    return s;
  }
};

// Weights, plus optimiser, state and RNG when `optimizer` is given (checkpoint_last.pt), and the
// run's fingerprint; the archive is made in memory and written with the OS's reason on failure.
void save_checkpoint(const std::filesystem::path& path, models::Net& net,
                     const std::string& fingerprint, torch::optim::Optimizer* optimizer,
                     const State* state);

// Reads a checkpoint of the run whose fingerprint is `fingerprint` into `net` (strictly: the
// same keys and shapes), and optimiser, state and RNG when `optimizer` is given. InputError
// naming the file when it is damaged (checksum), of another run or model, or does not fit.
void load_checkpoint(const std::filesystem::path& path, models::Net& net, torch::Device device,
                     const std::string& fingerprint, torch::optim::Optimizer* optimizer,
                     State* state);

}  // namespace hptrain::train::detail
