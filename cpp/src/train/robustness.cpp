// `hptrain evaluate --noise`: a run's best model on its test (or validation) chunks rebuilt from
// their sources, clean and with noise mixed in at each SNR before feature extraction. Each source
// is decoded and preprocessed once; its chunks then go through every (kind, SNR) condition, in
// batches filled across sources and conditions, features of the next batch beside the current
// forward.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "hptrain/data/dataset.h"
#include "hptrain/data/dataset_config.h"
#include "hptrain/data/noise.h"
#include "hptrain/error.h"
#include "hptrain/features/extract.h"
#include "hptrain/fs.h"
#include "hptrain/log.h"
#include "hptrain/metrics/metrics.h"
#include "hptrain/metrics/plots.h"
#include "hptrain/models/torch_device.h"
#include "hptrain/parallel.h"
#include "hptrain/preprocess/preprocess.h"
#include "hptrain/progress.h"
#include "hptrain/tensor.h"
#include "hptrain/train/run.h"
#include "train/batches.h"
#include "train/classify.h"
#include "train/run_common.h"

namespace hptrain::train {
namespace {

namespace stdfs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// One evaluation condition: clean (kind < 0) or noise kind `kind` at `snr_db`.
struct Condition {
  int kind = -1;
  double snr_db = 0;
};

nlohmann::json metric_fields(const metrics::TaskMetrics& m) {
  nlohmann::json j;
  j["accuracy"] = m.accuracy;
  j["f1_macro"] = m.f1_macro;
  j["roc_auc"] = m.roc_auc ? nlohmann::json(*m.roc_auc) : nlohmann::json(nullptr);
  nlohmann::json f1 = nlohmann::json::object();  // which classes the noise costs
  for (size_t c = 0; c < m.per_class.size(); ++c) f1[m.classes[c]] = m.per_class[c].f1;
  j["f1_per_class"] = f1;
  return j;
}

// A decoded test source: its chunks and, per noise kind, the noise drawn for each chunk, with the
// powers the SNR is measured by (the same at every SNR: measured once).
struct SourceChunks {
  std::vector<preprocess::Chunk> chunks;
  std::vector<double> signal_power;                    // [chunk] data::active_power
  std::vector<std::vector<std::vector<float>>> drawn;  // [kind][chunk] samples
  std::vector<std::vector<double>> noise_power;        // [kind][chunk] data::mean_power
};

// One example to evaluate: a chunk of a source under a condition, and its test row.
struct Item {
  size_t condition = 0;
  std::shared_ptr<const SourceChunks> source;
  size_t chunk = 0;
  int64_t row = 0;
};

// A batch of items with its model input, and the seconds its mixing and features took.
struct Prepared {
  std::vector<Item> items;
  Tensor3 examples;
  double seconds = 0;
};

// The split's chunks of one source: shard rows and their offsets.
struct SourceRows {
  std::string source;
  stdfs::path file;
  std::map<long long, int64_t> row_of_ms;  // offset (ms) -> row of the split
};

long long offset_ms(double offset_s) {
  return std::llround(offset_s * 1000);
}

// The run's batch size (or --batch-size), capped on the CPU as evaluation caps it.
size_t batch_size(const ExperimentConfig& cfg, const std::vector<int64_t>& example_shape) {
  const bool cuda = !cfg.tabular() && models::resolve_device(cfg.train.device).is_cuda();
  return static_cast<size_t>(
      detail::inference_batch_size(cfg.train.batch_size, example_shape, cuda));
}

// robustness.png: one panel per task, macro-F1 against SNR (high to low), one line per kind and
// a dashed line at the clean figure.
void plot(const stdfs::path& png, const nlohmann::json& j) {
  std::set<double> snrs;
  std::set<std::string> kinds;
  for (const auto& r : j.at("results")) {
    snrs.insert(r.at("snr_db").get<double>());
    kinds.insert(r.at("kind").get<std::string>());
  }
  std::vector<double> x(snrs.rbegin(), snrs.rend());
  std::vector<metrics::Panel> panels;
  for (const auto& [task, clean] : j.at("clean").items()) {
    metrics::Panel p{task, {}};
    for (const auto& kind : kinds) {
      metrics::Series s{kind, std::vector<double>(x.size(), std::nan(""))};
      for (const auto& r : j.at("results")) {
        if (r.at("kind") != kind || r.at("task") != task) continue;
        const auto it = std::find(x.begin(), x.end(), r.at("snr_db").get<double>());
        s.y[static_cast<size_t>(it - x.begin())] = r.at("f1_macro").get<double>();
      }
      p.series.push_back(std::move(s));
    }
    p.series.push_back(
        {"clean", std::vector<double>(x.size(), clean.at("f1_macro").get<double>())});
    panels.push_back(std::move(p));
  }
  metrics::plot_panels(png, x, panels, "SNR (dB)", "macro-F1",
                       j.at("experiment").get<std::string>() + ": macro-F1 under noise");
}

}  // namespace

nlohmann::json run_robustness(const RobustnessOptions& opts) {
  const auto t_start = Clock::now();
  if (opts.noise.empty()) throw ConfigError("--noise: give at least one kind");
  if (opts.snr_db.empty()) throw ConfigError("--snr: give at least one SNR");
  std::vector<data::NoiseKind> kinds;
  for (const auto& k : opts.noise) kinds.push_back(data::parse_noise_kind(k));
  for (double s : opts.snr_db) data::check_snr(s, "--snr");
  if (opts.split != "test" && opts.split != "validation") {
    throw ConfigError(
        "--noise evaluates the test or the validation split (the noise comes "
        "from the training split), not '" +
        opts.split + "'");
  }
  const std::string& split = opts.split;
  const auto cfg = detail::load_run(opts.run, opts.batch_size);
  if (cfg.dataset.empty()) {
    throw InputError("run '" + opts.run.string() +
                     "' was trained on a folder of shards (data.shards) without its dataset TOML: "
                     "evaluate --noise needs the dataset's audio_root and [preprocess] to rebuild "
                     "the " +
                     split + " chunks");
  }
  const auto dataset = data::load_dataset_config(cfg.dataset);
  detail::check_data_settings(opts.run, dataset, cfg.dataset);
  const fs::Lock lock(opts.run / fs::kLockName, "run folder '" + opts.run.string() + "'");
  const data::ShardDataset ds(dataset.shards_dir(), split);
  const auto in = data::parse_input(cfg.input);
  std::string fingerprint;
  const auto tasks = detail::run_tasks(opts.run, cfg, dataset, fingerprint);
  for (const auto& t : tasks) {
    if (ds.classes(t.name) != t.classes) {
      throw InputError("run '" + opts.run.string() + "': task '" + t.name +
                       "' has other classes in the " + split + " shards of '" +
                       cfg.dataset.string() + "' than the run was trained with");
    }
  }

  // the split's chunks by source, in the order of the shards; every source must still be there
  std::vector<SourceRows> sources;
  std::map<std::string, size_t> source_index;
  for (int64_t i = 0; i < ds.size(); ++i) {
    const auto& src = ds.sources()[static_cast<size_t>(i)];
    auto [it, fresh] = source_index.emplace(src, sources.size());
    if (fresh) {
      const stdfs::path p(src);
      sources.push_back(
          {src, (p.is_absolute() ? p : dataset.audio_root / p).lexically_normal(), {}});
    }
    sources[it->second].row_of_ms[offset_ms(ds.offsets()[static_cast<size_t>(i)])] = i;
  }
  std::vector<std::string> missing;
  for (const auto& s : sources) {
    if (!stdfs::is_regular_file(s.file)) missing.push_back(s.file.string());
  }
  if (!missing.empty()) {
    std::string msg = std::to_string(missing.size()) + " of " + std::to_string(sources.size()) +
                      " " + split + " sources of '" + cfg.dataset.string() +
                      "' are not where prepare found them (moved since?):";
    for (size_t i = 0; i < std::min<size_t>(missing.size(), 10); ++i) msg += "\n  " + missing[i];
    if (missing.size() > 10) msg += "\n  ... and " + std::to_string(missing.size() - 10) + " more";
    msg += "\nset audio_root in '" + cfg.dataset.string() + "' (now '" +
           dataset.audio_root.string() + "') to their new folder, or move them back";
    throw InputError(msg);
  }

  // the noise pools (training split only) and the conditions
  const uint64_t seed = opts.seed;
  std::vector<data::NoiseSource> noise;
  for (const auto& k : kinds) noise.push_back(data::load_noise(k, dataset, seed));
  std::vector<Condition> conditions{{-1, 0}};
  for (size_t k = 0; k < kinds.size(); ++k) {
    for (double s : opts.snr_db) conditions.push_back({static_cast<int>(k), s});
  }
  const std::string speaker = data::speaker_task(dataset);

  std::string device_name = "cpu";
  const detail::Classify classify =
      cfg.tabular() ? detail::tabular_classifier(opts.run, tasks)
                    : detail::torch_classifier(opts.run, cfg, dataset.features, in, tasks,
                                               fingerprint, device_name);
  const size_t batch = batch_size(cfg, ds.example_shape(in));
  HP_LOG_INFO("{}: {} ({}) on {}: {} {} chunks from {} sources, {} conditions, batches of {}",
              opts.run.string(), cfg.model.type, cfg.input, device_name, ds.size(), split,
              sources.size(), conditions.size(), batch);

  // probabilities per condition and task, by row of the split
  std::vector<std::vector<std::vector<float>>> probs(conditions.size());
  for (auto& c : probs) {
    for (const auto& t : tasks) c.emplace_back(static_cast<size_t>(ds.size()) * t.classes.size());
  }
  std::vector<char> seen(static_cast<size_t>(ds.size()), 0);
  const features::FeatureSelection what = data::input_features(in);
  // extraction runs on the worker thread alone, beside the forward pass: with threads = 0 it
  // would start a thread per batch, each with a fresh workspace and STFT plan
  features::FeatureConfig worker_features = dataset.features;
  worker_features.threads = 1;
  const int sr = dataset.preprocess.sr;
  double decode_s = 0, features_s = 0, classify_s = 0, max_clean_diff = 0;
  size_t clean_items = 0, noisy_items = 0;

  // Batches are filled to the batch size across sources and conditions (a source holds a few
  // chunks; per-source batches were mostly small), and the next batch's mixing and features are
  // computed on a second thread while the model classifies the current one. Every item's
  // features and probabilities are its own (extraction and the models are per example), so
  // the results are those of one condition and one source at a time.
  auto prepare = [&](std::vector<Item> items) {
    const auto t0 = Clock::now();
    Prepared out;
    const size_t n = items.front().source->chunks[items.front().chunk].samples.size();
    std::vector<float> audio;
    audio.reserve(items.size() * n);
    for (const auto& it : items) {
      const auto& chunk = it.source->chunks[it.chunk];
      if (chunk.samples.size() != n) {
        throw InputError(split + " chunks of different lengths (" + std::to_string(n) + " and " +
                         std::to_string(chunk.samples.size()) + " samples): check [preprocess]");
      }
      const size_t at = audio.size();
      audio.insert(audio.end(), chunk.samples.begin(), chunk.samples.end());
      const auto& cond = conditions[it.condition];
      if (cond.kind >= 0) {
        const auto k = static_cast<size_t>(cond.kind);
        // data::mix_at_snr's samples, its two powers taken once per chunk, not once per SNR
        const double g = data::mix_gain(it.source->signal_power[it.chunk],
                                        it.source->noise_power[k][it.chunk], cond.snr_db);
        if (g > 0) data::add_scaled(audio.data() + at, n, it.source->drawn[k][it.chunk].data(), g);
      }
    }
    auto feats =
        features::extract(worker_features, audio.data(), static_cast<int64_t>(items.size()),
                          static_cast<int64_t>(n), what);
    out.examples = data::input_examples(feats, in);
    out.items = std::move(items);
    out.seconds = seconds_since(t0);
    return out;
  };
  auto consume = [&](Prepared b) {
    features_s += b.seconds;
    auto& ex = b.examples;
    const auto per = static_cast<size_t>(ex.rows * ex.frames);
    // the clean chunks must be the shards' (same sources, same preprocessing)
    std::vector<int64_t> idx;
    std::vector<size_t> pos;
    for (size_t i = 0; i < b.items.size(); ++i) {
      if (conditions[b.items[i].condition].kind >= 0) continue;
      idx.push_back(b.items[i].row);
      pos.push_back(i);
    }
    if (!idx.empty()) {
      const auto stored = ds.get(idx, in);
      for (size_t q = 0; q < pos.size(); ++q) {
        const float* a = stored.x.data() + q * per;
        const float* e = ex.data.data() + pos[q] * per;
        for (size_t v = 0; v < per && (q + 1) * per <= stored.x.size(); ++v) {
          max_clean_diff = std::max(max_clean_diff, static_cast<double>(std::abs(a[v] - e[v])));
        }
      }
    }
    const auto t0 = Clock::now();
    const auto p = classify(ex);
    classify_s += seconds_since(t0);
    for (size_t t = 0; t < tasks.size(); ++t) {
      const size_t k = tasks[t].classes.size();
      for (size_t i = 0; i < b.items.size(); ++i) {
        std::copy_n(
            p[t].data() + i * k, k,
            probs[b.items[i].condition][t].data() + static_cast<size_t>(b.items[i].row) * k);
      }
    }
    for (const auto& it : b.items) {
      ++(conditions[it.condition].kind < 0 ? clean_items : noisy_items);
    }
  };
  std::future<Prepared> in_flight;
  std::vector<Item> pending;
  // one thread for the batches' preparation, for the evaluation (its thread-local feature
  // workspace made once); destroyed first: it may still run a batch that uses the names above
  SerialWorker worker;
  auto submit = [&](std::vector<Item> items) {
    auto next = worker.run(
        [&prepare, items = std::move(items)]() mutable { return prepare(std::move(items)); });
    if (in_flight.valid()) consume(in_flight.get());  // while `next` is being extracted
    in_flight = std::move(next);
  };
  auto submit_full = [&](bool all) {
    size_t b0 = 0;
    while (pending.size() - b0 >= batch || (all && b0 < pending.size())) {
      const size_t b1 = std::min(pending.size(), b0 + batch);
      submit(std::vector<Item>(pending.begin() + static_cast<long>(b0),
                               pending.begin() + static_cast<long>(b1)));
      b0 = b1;
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<long>(b0));
  };

  Progress bar("robustness", sources.size(), "files");
  for (const auto& src : sources) {
    // 1. decode + preprocess once; keep the chunks the test shards hold
    const auto t0 = Clock::now();
    auto decoded = std::make_shared<SourceChunks>();
    std::vector<int64_t> rows;
    preprocess::process_file(src.file.string(), dataset.preprocess, [&](preprocess::Chunk&& c) {
      const auto it = src.row_of_ms.find(offset_ms(c.offset_s));
      if (it == src.row_of_ms.end()) return;  // dropped by prepare (no label)
      rows.push_back(it->second);
      decoded->chunks.push_back(std::move(c));
    });
    const auto& chunks = decoded->chunks;
    if (chunks.size() != src.row_of_ms.size()) {
      throw InputError(split + " source '" + src.file.string() + "' gives " +
                       std::to_string(chunks.size()) + " of the " +
                       std::to_string(src.row_of_ms.size()) +
                       " chunks the shards hold: it changed since prepare (prepare the dataset "
                       "again, or restore the file)");
    }
    const size_t n = chunks.empty() ? 0 : chunks[0].samples.size();
    // 2. the noise of each chunk, drawn once per kind (the same at every SNR), and the powers
    for (const auto& c : chunks) {
      decoded->signal_power.push_back(data::active_power(c.samples.data(), c.samples.size(), sr));
    }
    decoded->drawn.resize(kinds.size());
    decoded->noise_power.resize(kinds.size());
    for (size_t k = 0; k < kinds.size(); ++k) {
      for (size_t i = 0; i < chunks.size(); ++i) {
        std::string who;
        if (!speaker.empty()) {
          const auto label = ds.labels(speaker)[static_cast<size_t>(rows[i])];
          who = ds.classes(speaker)[static_cast<size_t>(label)];
        }
        decoded->drawn[k].push_back(
            noise[k].draw(n, data::chunk_key(src.source, chunks[i].offset_s), who));
        decoded->noise_power[k].push_back(data::mean_power(decoded->drawn[k].back().data(), n));
      }
    }
    decode_s += seconds_since(t0);
    // 3. every condition of every chunk joins the queue of items to mix, extract and classify
    for (size_t c = 0; c < conditions.size(); ++c) {
      for (size_t i = 0; i < chunks.size(); ++i) pending.push_back({c, decoded, i, rows[i]});
    }
    submit_full(false);
    for (int64_t r : rows) seen[static_cast<size_t>(r)] = 1;
    bar.advance(1, src.source);
  }
  submit_full(true);
  if (in_flight.valid()) consume(in_flight.get());
  bar.finish("done");
  // the time per condition, shared out by items (batches mix conditions)
  const double items_total = std::max<double>(1.0, static_cast<double>(clean_items + noisy_items));
  const double clean_s = (features_s + classify_s) * static_cast<double>(clean_items) / items_total;
  const double noisy_s = (features_s + classify_s) * static_cast<double>(noisy_items) / items_total;

  // metrics per condition and task
  nlohmann::json j;
  j["run"] = opts.run.string();
  j["experiment"] = cfg.name;
  j["model"] = cfg.model.type;
  j["input"] = cfg.input;
  j["dataset"] = cfg.dataset.string();
  j["split"] = split;
  j["chunks"] = ds.size();
  j["device"] = device_name;
  j["snr_definition"] =
      "10 log10(P_signal / P_noise): P_signal the mean square of the chunk's active 25 ms frames "
      "(within 40 dB of its loudest, above -100 dBFS), P_noise the noise's mean square over the "
      "chunk; mixed after preprocessing, before feature extraction";
  j["max_clean_input_difference"] = max_clean_diff;
  nlohmann::json clean = nlohmann::json::object();
  nlohmann::json results = nlohmann::json::array();
  for (size_t c = 0; c < conditions.size(); ++c) {
    for (size_t t = 0; t < tasks.size(); ++t) {
      std::vector<int64_t> labels;
      std::vector<float> p;
      const size_t k = tasks[t].classes.size();
      for (int64_t r = 0; r < ds.size(); ++r) {
        if (!seen[static_cast<size_t>(r)]) continue;
        labels.push_back(ds.labels(tasks[t].name)[static_cast<size_t>(r)]);
        p.insert(p.end(), probs[c][t].begin() + r * static_cast<int64_t>(k),
                 probs[c][t].begin() + (r + 1) * static_cast<int64_t>(k));
      }
      const auto m = metrics::evaluate(labels, p, tasks[t].classes);
      if (conditions[c].kind < 0) {
        clean[tasks[t].name] = metric_fields(m);
        continue;
      }
      auto row = metric_fields(m);
      row["kind"] = kinds[static_cast<size_t>(conditions[c].kind)].text();
      row["seed"] = seed;
      row["snr_db"] = conditions[c].snr_db;
      row["task"] = tasks[t].name;
      results.push_back(std::move(row));
    }
  }
  // rows of other kinds that an earlier evaluate --noise of this run wrote are kept
  const std::string stem = split == "test" ? "robustness" : "robustness_" + split;
  const auto json_path = opts.run / (stem + ".json");
  std::set<std::string> now;
  for (const auto& k : kinds) now.insert(k.text());
  if (stdfs::exists(json_path)) {
    try {
      const auto old = nlohmann::json::parse(fs::read_text(json_path));
      for (const auto& r : old.at("results")) {
        if (now.count(r.at("kind").get<std::string>()) == 0) results.push_back(r);
      }
    } catch (const std::exception& e) {
      HP_LOG_WARN("'{}' unreadable ({}): replaced", json_path.string(), e.what());
    }
  }
  j["clean"] = clean;
  j["results"] = results;
  j["seconds"] = {{"decode", decode_s},
                  {"features", features_s},
                  {"classify", classify_s},
                  {"clean", clean_s},
                  {"noisy", noisy_s},
                  {"noisy_conditions", conditions.size() - 1},
                  {"total", seconds_since(t_start)}};
  fs::write_text(json_path, j.dump(2) + "\n");
  plot(opts.run / (stem + ".png"), j);
  HP_LOG_INFO(
      "robustness of {}: decode {:.1f} s, clean {:.1f} s, {} noisy conditions {:.1f} s; "
      "written to {}",
      opts.run.string(), decode_s, clean_s, conditions.size() - 1, noisy_s, json_path.string());
  return j;
}

}  // namespace hptrain::train
