// Fuzz target `toml`: the TOML layer (toml_config.h) and the from_toml readers of the main
// config structs on arbitrary text. Lines `#set KEY=VALUE` (TOML comments) are applied as
// --set overrides after parsing.
#include <sstream>

#include "hptrain/baselines/classifier.h"
#include "hptrain/data/dataset_config.h"
#include "hptrain/error.h"
#include "hptrain/features/config_io.h"
#include "hptrain/preprocess/preprocess.h"
#include "hptrain/toml_config.h"
#include "targets.h"
#ifdef HP_FUZZ_EXPERIMENT
#include "hptrain/train/experiment.h"
#endif

namespace hptrain::fuzz {
namespace {

std::vector<std::string> overrides_in(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("#set ", 0) == 0) out.push_back(line.substr(5));
  }
  return out;
}

// Runs `fn`; an hptrain::Error is a rejection, not a finding.
template <class Fn>
void rejecting(Fn&& fn) {
  try {
    fn();
  } catch (const Error&) {
  }
}

}  // namespace

int fuzz_toml(const uint8_t* data, size_t size) {
  quiet();
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto path = scratch_file("fuzz.toml", data, size);
  const auto overrides = overrides_in(text);
  toml::table root;
  try {
    root = config::parse_file(path);
    for (const auto& o : overrides) config::apply_override(root, o);
  } catch (const Error&) {
    return 0;
  }
  const config::Section top(&root, path.string());
  // a dataset file: tasks, split, [preprocess], [features], unknown keys
  rejecting([&] {
    const auto cfg = data::dataset_config_from_toml(root, path);
    cfg.validate();
    (void)data::to_string(cfg);
  });
  // the sections on their own, as `features --config` and `preprocess --config` read them
  rejecting([&] {
    auto f = features::preset("speech");
    features::from_toml(top.section("features"), f);
    f.validate();
  });
  rejecting([&] {
    preprocess::PreprocessConfig p;
    preprocess::from_toml(top.section("preprocess"), p);
    p.validate();
    (void)preprocess::to_string(p);
  });
  // an experiment's [model] for the baselines (svm, rf), as load_experiment reads it
  rejecting([&] {
    const auto model = top.section("model");
    std::string type;
    model.get("type", type);
    if (type == "svm" || type == "rf") (void)baselines::make_classifier(model);
    top.check_unknown();
  });
#ifdef HP_FUZZ_EXPERIMENT
  rejecting([&] { (void)train::load_experiment(path, overrides); });
#endif
  // every getter on every key of the root table, whatever its type
  rejecting([&] {
    for (const auto& key : top.keys()) {
      bool b;
      int64_t i64;
      double d;
      std::string s;
      std::vector<int> vi;
      std::vector<double> vd;
      std::vector<std::string> vs;
      std::optional<int> oi;
      rejecting([&] { top.get(key, b); });
      rejecting([&] { top.get(key, i64); });
      rejecting([&] {
        int i = 0;
        top.get(key, i);
      });
      rejecting([&] { top.get(key, d); });
      rejecting([&] { top.get(key, s); });
      rejecting([&] {
        top.get(key, vi);
        // an int array reads exactly: an element out of int's range is an error, never cut
        const auto* a = root[key].as_array();
        HP_FUZZ_CHECK(a == nullptr || a->size() == vi.size(), "an int array read short");
        for (size_t k = 0; a != nullptr && k < vi.size(); ++k) {
          HP_FUZZ_CHECK(
              (*a)[k].value<int64_t>() == std::optional<int64_t>(vi[k]),
              "int array element " + std::to_string(k) + " read as " + std::to_string(vi[k]));
        }
      });
      rejecting([&] { top.get(key, vd); });
      rejecting([&] { top.get(key, vs); });
      rejecting([&] { top.get(key, oi); });
      rejecting([&] { (void)top.where(key); });
      rejecting([&] { (void)top.section(key).keys(); });
    }
  });
  return 0;
}

}  // namespace hptrain::fuzz
