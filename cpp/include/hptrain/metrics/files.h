// Metric files of a run folder: metrics.json (tasks.<task>.{accuracy, f1_macro, roc_auc,
// confusion, ...}), confusion_<task>.csv and roc_<task>.csv. All written atomically.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "hptrain/metrics/metrics.h"

namespace hptrain::metrics {

// accuracy, precision/recall/f1 macro and weighted, roc_auc (null when undefined), n,
// confusion {classes, matrix [true][predicted]} and per_class {class: {precision, recall,
// f1, support, roc_auc}}.
nlohmann::json to_json(const TaskMetrics& m);

// Writes `header` (run information) with "tasks": {task: to_json(metrics)} added.
void write_metrics_json(const std::filesystem::path& path, nlohmann::json header,
                        const std::map<std::string, TaskMetrics>& tasks);

// Confusion matrix as CSV: header "true\predicted,<classes...>", one row per true class.
void write_confusion_csv(const std::filesystem::path& path, const TaskMetrics& m);

// One-vs-rest ROC points as CSV: class,threshold,fpr,tpr.
void write_roc_csv(const std::filesystem::path& path, const TaskMetrics& m);

}  // namespace hptrain::metrics
