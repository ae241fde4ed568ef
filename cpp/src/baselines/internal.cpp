// Shared helpers of the baselines: checks, threads, hashing, class weights, file header.
#include "baselines/internal.h"

#include <algorithm>
#include <cmath>

#include "hptrain/device.h"
#include "hptrain/error.h"
#include "hptrain/h5.h"

#ifdef HP_WITH_CUDA
#include "hptrain/cuda/device.h"
#endif

namespace hptrain::baselines {

void check_finite(const float* X, int64_t n, int64_t d, const std::string& what) {
  for (int64_t i = 0; i < n * d; ++i) {
    if (!std::isfinite(X[i])) {
      throw InputError(what + ": X[" + std::to_string(i / d) + ", " + std::to_string(i % d) +
                       "] is " + (std::isnan(X[i]) ? "NaN" : "infinite") +
                       "; impute or drop such rows first");
    }
  }
}

std::vector<int64_t> check_training_data(const std::string& model, const float* X, int64_t n,
                                         int64_t d, const int32_t* y, int n_classes) {
  const std::string what = model + " fit";
  if (n < 2) throw InputError(what + ": needs at least 2 rows, got " + std::to_string(n));
  if (d < 1) throw InputError(what + ": needs at least 1 feature, got " + std::to_string(d));
  if (n_classes < 2) {
    throw InputError(what + ": n_classes = " + std::to_string(n_classes) + ": must be >= 2");
  }
  std::vector<int64_t> counts(n_classes, 0);
  for (int64_t i = 0; i < n; ++i) {
    if (y[i] < 0 || y[i] >= n_classes) {
      throw InputError(what + ": y[" + std::to_string(i) + "] = " + std::to_string(y[i]) +
                       " is outside [0, " + std::to_string(n_classes) + ")");
    }
    ++counts[y[i]];
  }
  const auto present = std::count_if(counts.begin(), counts.end(), [](int64_t c) { return c > 0; });
  if (present < 2) {
    throw InputError(what + ": every row has class " + std::to_string(y[0]) +
                     "; a classifier needs at least 2 classes in the training data");
  }
  check_finite(X, n, d, what);
  bool varies = false;
  for (int64_t i = 1; i < n && !varies; ++i) {
    varies = !std::equal(X, X + d, X + i * d);
  }
  if (!varies) {
    throw InputError(what + ": all " + std::to_string(n) +
                     " rows are identical (every feature is constant); nothing to learn from");
  }
  return counts;
}

bool valid_device(const std::string& device) {
  return parse_device(device).has_value();
}

int resolve_device(const std::string& model, const std::string& device) {
  const auto setting = parse_device(device);
  if (!setting) {
    throw ConfigError(model + ": device = " + device + ": expected auto, cpu, cuda or cuda:N");
  }
  using Kind = DeviceSetting::Kind;
  if (setting->kind == Kind::cpu || (setting->kind == Kind::automatic && !gpu_available())) {
    return -1;
  }
#ifdef HP_WITH_CUDA
  const int index = setting->index;
  const int count = gpu_available() ? cuda::device_count() : 0;
  if (index < count) return index;
  throw ConfigError(model + ": device = " + device + ": " +
                    (count == 0
                         ? std::string("no usable CUDA device (none found, or HP_FORCE_CPU set)")
                         : "only " + std::to_string(count) + " CUDA device(s)"));
#else
  throw ConfigError(model + ": device = " + device + ": this build has no CUDA (HP_CUDA=OFF)");
#endif
}

std::string device_label(int device) {
  if (device < 0) return "cpu";
#ifdef HP_WITH_CUDA
  return cuda::device_name(device) + " (cuda:" + std::to_string(device) + ")";
#else
  return "cuda:" + std::to_string(device);
#endif
}

uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

std::vector<double> balanced_weights(const std::vector<int64_t>& counts) {
  int64_t n = 0;
  int present = 0;
  for (int64_t c : counts) {
    n += c;
    present += c > 0;
  }
  std::vector<double> w(counts.size(), 0.0);
  for (size_t k = 0; k < counts.size(); ++k) {
    if (counts[k] > 0) w[k] = static_cast<double>(n) / (present * static_cast<double>(counts[k]));
  }
  return w;
}

void write_header(h5::File& f, const std::string& model, int n_classes, int64_t n_features,
                  const std::string& config_json) {
  f.set_attr("/", "format", std::string("hptrain-tabular"));
  f.set_attr("/", "format_version", kFormatVersion);
  f.set_attr("/", "model", model);
  f.set_attr("/", "n_classes", static_cast<int64_t>(n_classes));
  f.set_attr("/", "n_features", n_features);
  f.set_attr("/", "config", config_json);
}

std::string read_model_name(const h5::File& f) {
  const std::string file = f.path().string();
  if (!f.has_attr("/", "format") || f.attr_string("/", "format") != "hptrain-tabular") {
    throw InputError(file + ": not an hptrain tabular model (no format = \"hptrain-tabular\")");
  }
  const int64_t version = f.attr_int("/", "format_version");
  if (version != kFormatVersion) {
    throw InputError(file + ": format_version " + std::to_string(version) +
                     " is not supported (this build reads " + std::to_string(kFormatVersion) + ")");
  }
  return f.attr_string("/", "model");
}

ValueKind get_mixed(const config::Section& s, std::string_view key, double& number,
                    std::string& word, const std::vector<std::string>& words,
                    const std::string& expected) {
  if (!s.has(key)) return ValueKind::kAbsent;
  try {
    int64_t v = 0;
    s.get(key, v);
    number = static_cast<double>(v);
    return ValueKind::kInteger;
  } catch (const ConfigError&) {
  }
  try {
    s.get(key, number);
    return ValueKind::kNumber;
  } catch (const ConfigError&) {
  }
  std::string w;
  try {
    s.get(key, w);
  } catch (const ConfigError&) {
    s.require(key, false, "expected " + expected);
  }
  s.require(key, std::find(words.begin(), words.end(), w) != words.end(),
            "'" + w + "': expected " + expected);
  word = w;
  return ValueKind::kWord;
}

void require_valid(const config::Section& s, const std::pair<std::string, std::string>& problem) {
  if (!problem.first.empty()) s.require(problem.first, false, problem.second);
}

}  // namespace hptrain::baselines
