// SvmConfig: its checks, its [model] keys in TOML and its JSON form (model files, info()).
#include <cmath>
#include <sstream>

#include "baselines/internal.h"
#include "hptrain/baselines/svm.h"
#include "hptrain/error.h"

namespace hptrain::baselines {

std::string Gamma::str() const {
  if (rule != "value") return rule;
  std::ostringstream o;
  o << value;
  return o.str();
}

std::pair<std::string, std::string> SvmConfig::problem() const {
  auto num = [](double v) {
    std::ostringstream o;
    o << v;
    return o.str();
  };
  if (kernel != "linear" && kernel != "rbf")
    return {"kernel", "'" + kernel + "': expected linear or rbf"};
  if (!(C > 0) || !std::isfinite(C)) return {"C", num(C) + ": must be a finite number > 0"};
  if (gamma.rule != "scale" && gamma.rule != "auto" && gamma.rule != "value") {
    return {"gamma", "'" + gamma.rule + "': expected a number > 0, \"scale\" or \"auto\""};
  }
  if (gamma.rule == "value" && (!(gamma.value > 0) || !std::isfinite(gamma.value))) {
    return {"gamma", num(gamma.value) + ": must be a finite number > 0, \"scale\" or \"auto\""};
  }
  if (!(tol > 0)) return {"tol", num(tol) + ": must be > 0"};
  if (class_weight != "none" && class_weight != "balanced") {
    return {"class_weight", "'" + class_weight + "': expected none or balanced"};
  }
  if (max_iter != -1 && max_iter < 1) {
    return {"max_iter", std::to_string(max_iter) + ": must be -1 (no limit) or >= 1"};
  }
  if (!(cache_size > 0)) return {"cache_size", num(cache_size) + ": must be > 0 (MiB)"};
  if (working_set < -1 || working_set == 1) {
    return {"working_set",
            std::to_string(working_set) + ": must be -1 (auto), 0 (pairwise) or >= 2"};
  }
  if (n_threads < 0) return {"n_threads", std::to_string(n_threads) + ": must be >= 0"};
  if (!valid_device(device)) return {"device", "'" + device + "': " + kDeviceChoices};
  return {};
}

void SvmConfig::validate() const {
  const auto p = problem();
  if (!p.first.empty()) throw ConfigError("svm: " + p.first + " = " + p.second);
}

void from_toml(const config::Section& s, SvmConfig& cfg) {
  s.get_choice("kernel", cfg.kernel, {"linear", "rbf"});
  s.get("C", cfg.C);
  std::string word;
  const ValueKind g = get_mixed(s, "gamma", cfg.gamma.value, word, {"scale", "auto"},
                                "a number > 0, \"scale\" or \"auto\"");
  if (g == ValueKind::kWord) cfg.gamma.rule = word;
  if (g == ValueKind::kInteger || g == ValueKind::kNumber) cfg.gamma.rule = "value";
  s.get("tol", cfg.tol);
  s.get_choice("class_weight", cfg.class_weight, {"none", "balanced"});
  s.get("max_iter", cfg.max_iter);
  s.get("cache_size", cfg.cache_size);
  s.get("shrinking", cfg.shrinking);
  s.get("working_set", cfg.working_set);
  s.get("probability", cfg.probability);
  s.get("standardize", cfg.standardize);
  s.get("seed", cfg.seed);
  s.get("n_threads", cfg.n_threads);
  s.get("device", cfg.device);
  require_valid(s, cfg.problem());
}

nlohmann::json to_json(const SvmConfig& c) {
  nlohmann::json j = {{"kernel", c.kernel},
                      {"C", c.C},
                      {"tol", c.tol},
                      {"class_weight", c.class_weight},
                      {"max_iter", c.max_iter},
                      {"cache_size", c.cache_size},
                      {"shrinking", c.shrinking},
                      {"working_set", c.working_set},
                      {"probability", c.probability},
                      {"standardize", c.standardize},
                      {"seed", c.seed},
                      {"n_threads", c.n_threads},
                      {"device", c.device}};
  if (c.gamma.rule == "value") {
    j["gamma"] = c.gamma.value;
  } else {
    j["gamma"] = c.gamma.rule;
  }
  return j;
}

SvmConfig svm_config_from_json(const nlohmann::json& j) {
  SvmConfig c;
  c.kernel = j.at("kernel").get<std::string>();
  c.C = j.at("C").get<double>();
  if (j.at("gamma").is_string()) {
    c.gamma.rule = j.at("gamma").get<std::string>();
  } else {
    c.gamma = {"value", j.at("gamma").get<double>()};
  }
  c.tol = j.at("tol").get<double>();
  c.class_weight = j.at("class_weight").get<std::string>();
  c.max_iter = j.at("max_iter").get<int64_t>();
  c.cache_size = j.at("cache_size").get<double>();
  c.shrinking = j.at("shrinking").get<bool>();
  c.working_set = j.value("working_set", c.working_set);  // absent from earlier files
  c.probability = j.at("probability").get<bool>();
  c.standardize = j.at("standardize").get<bool>();
  c.seed = j.at("seed").get<int64_t>();
  c.n_threads = j.at("n_threads").get<int>();
  c.device = j.value("device", c.device);  // absent from files of earlier versions
  return c;
}

}  // namespace hptrain::baselines
