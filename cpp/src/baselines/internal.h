// Helpers shared by the SVM and the forest: input checks with clear errors (parallel_for comes
// from hptrain/parallel.h), seeded hashing, class weights and the model-file header.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hptrain/parallel.h"
#include "hptrain/toml_config.h"

namespace hptrain::h5 {
class File;
}

namespace hptrain::baselines {

// Throws InputError for NaN/inf values, naming the row and column.
void check_finite(const float* X, int64_t n, int64_t d, const std::string& what);

// Checks a training set (shape, labels in range, >= 2 classes present, finite, not every
// feature constant); returns the number of rows of each class [n_classes].
std::vector<int64_t> check_training_data(const std::string& model, const float* X, int64_t n,
                                         int64_t d, const int32_t* y, int n_classes);

// SplitMix64: a well-mixed 64-bit hash, the seed of every per-tree and per-node generator.
uint64_t mix64(uint64_t x);

// scikit-learn's class_weight="balanced": n / (n_present * count_k), 0 for absent classes.
std::vector<double> balanced_weights(const std::vector<int64_t>& counts);

// The device a baseline runs on: -1 for the CPU, else the CUDA device index. `device` is
// "auto" (device 0 when gpu_available(), else the CPU), "cpu", "cuda" (device 0) or "cuda:N";
// asking for CUDA in a build without it, without a usable device or with HP_FORCE_CPU set is a
// ConfigError naming `model`.
int resolve_device(const std::string& model, const std::string& device);
bool valid_device(const std::string& device);  // one of the spellings above
constexpr const char* kDeviceChoices = "expected auto, cpu, cuda or cuda:N";
// "cpu", or "NVIDIA H100 80GB HBM3 (cuda:0)", for logs.
std::string device_label(int device);

// Model-file header: attributes format, format_version, model, n_classes, n_features, config
// (JSON); read_header checks them and returns the model name.
void write_header(h5::File& f, const std::string& model, int n_classes, int64_t n_features,
                  const std::string& config_json);
std::string read_model_name(const h5::File& f);
constexpr int64_t kFormatVersion = 1;

// A key whose value is an integer, a floating-point number or a word (scikit-learn's mixed
// parameters such as gamma and max_features). Absent: kAbsent and nothing written. A word not
// in `words`, or another type, throws ConfigError "FILE:LINE: KEY: expected <expected>".
enum class ValueKind { kAbsent, kInteger, kNumber, kWord };
ValueKind get_mixed(const config::Section& s, std::string_view key, double& number,
                    std::string& word, const std::vector<std::string>& words,
                    const std::string& expected);

// Throws ConfigError "FILE:LINE: model.FIELD: why" when `problem` (field, why) names a field:
// the range checks of a config's validate(), reported at the TOML key.
void require_valid(const config::Section& s, const std::pair<std::string, std::string>& problem);

}  // namespace hptrain::baselines
