// A run's training history: log.csv (one row per epoch), the training-curve plot and the
// progress bar's status line.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hptrain::train::detail {

// log.csv: epoch, lr, losses, validation macro-F1, per-task accuracy and F1, speed, data wait.
void write_log_csv(const std::filesystem::path& path, const std::vector<std::string>& tasks,
                   const nlohmann::json& history);

// training_curves.png: losses and validation F1 per epoch.
void plot_history(const std::filesystem::path& png, const std::string& name,
                  const std::vector<std::string>& tasks, const nlohmann::json& history);

// The progress bar's status while training: the epoch's mean loss so far and the learning rate.
std::string step_status(double mean_loss, double lr);

}  // namespace hptrain::train::detail
