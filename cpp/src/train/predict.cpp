// `run_predict`: a trained run pointed at whole recordings. Each file is streamed through the
// run dataset's preprocessing, its chunks' input extracted in batches, classified by the best
// model (LibTorch) or the saved SVM / forest, and written as one CSV row per chunk and as a
// timeline of segments.
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <set>
#include <sstream>

#include "hptrain/baselines/classifier.h"
#include "hptrain/csv.h"
#include "hptrain/data/dataset.h"
#include "hptrain/data/dataset_config.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "hptrain/log.h"
#include "hptrain/metrics/plots.h"
#include "hptrain/models/torch_device.h"
#include "hptrain/preprocess/preprocess.h"
#include "hptrain/progress.h"
#include "hptrain/speakers/cast.h"
#include "hptrain/train/run.h"
#include "hptrain/train/segments.h"
#include "train/classify.h"
#include "train/run_common.h"
#include "train/torch_run.h"

namespace hptrain::train {
namespace detail {

// The run's tasks (the experiment's, else the dataset's, in order) with the classes it was
// trained with (classes.json, checked against the fingerprint run.json records).
std::vector<TaskClasses> run_tasks(const std::filesystem::path& run, const ExperimentConfig& cfg,
                                   const data::DatasetConfig& dataset, std::string& fingerprint) {
  std::vector<std::string> names = cfg.tasks;
  if (names.empty()) {
    for (const auto& t : dataset.tasks) names.push_back(t.name);
  }
  std::vector<TaskClasses> out;
  for (auto& [name, classes] : detail::read_run_classes(run, cfg, names, &fingerprint)) {
    out.push_back({name, std::move(classes)});
  }
  return out;
}

Classify torch_classifier(const std::filesystem::path& run, const ExperimentConfig& cfg,
                          const features::FeatureConfig& feats, data::Input in,
                          const std::vector<TaskClasses>& tasks, const std::string& fingerprint,
                          std::string& device_name, const speakers::Cast* cast,
                          const std::filesystem::path& cast_file) {
  const torch::Device device = models::resolve_device(cfg.train.device);
  detail::configure_torch(cfg.train, device);
  device_name = detail::describe(device);
  const int64_t rows = data::input_rows(feats, in);
  std::vector<int64_t> counts;
  std::vector<std::string> names;
  for (const auto& t : tasks) {
    counts.push_back(static_cast<int64_t>(t.classes.size()));
    names.push_back(t.name);
  }
  auto net = detail::load_best(run, cfg, rows, names, counts, device, fingerprint);
  if (cast != nullptr) {
    speakers::check_cast(*cast, cast_file, run, fingerprint, net->embedding_size());
  }
  const bool embed = cast != nullptr;
  const bool bf16 = device.is_cuda() && cfg.train.mixed_precision;
  const std::string oom = detail::out_of_memory_advice(run, "predicting", cfg.train.batch_size);
  return [net, device, bf16, oom, embed](Tensor3& ex) mutable {
    return models::out_of_memory_as_error(oom, [&] {
      torch::NoGradGuard no_grad;
      const auto x =
          torch::from_blob(ex.data.data(), {ex.batch, ex.rows, ex.frames}, torch::kFloat32)
              .to(device);
      std::vector<torch::Tensor> logits;
      torch::Tensor e;
      {
        models::AutocastGuard autocast(bf16);
        logits = net->forward(x);
        if (embed) e = net->embed(x);
      }
      std::vector<std::vector<float>> out;
      for (const auto& lg : logits) {
        const auto p = torch::softmax(lg.to(torch::kFloat32), 1).cpu().contiguous();
        out.emplace_back(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
      }
      if (embed) {
        e = torch::nn::functional::normalize(e.to(torch::kFloat32),
                                             torch::nn::functional::NormalizeFuncOptions().dim(1))
                .cpu()
                .contiguous();
        out.emplace_back(e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
      }
      return out;
    });
  };
}

Classify tabular_classifier(const std::filesystem::path& run,
                            const std::vector<TaskClasses>& tasks) {
  std::vector<std::shared_ptr<baselines::TabularClassifier>> models;
  for (const auto& t : tasks) {
    models.push_back(detail::load_tabular(run, t.name, t.classes.size()));
  }
  return [models, tasks](Tensor3& ex) {
    std::vector<std::vector<float>> out;
    for (size_t k = 0; k < models.size(); ++k) {
      out.emplace_back(static_cast<size_t>(ex.batch) * tasks[k].classes.size());
      models[k]->predict_proba(ex.data.data(), ex.batch, out.back().data());
    }
    return out;
  };
}

}  // namespace detail

namespace {

using detail::Classify;
using detail::run_tasks;
using detail::tabular_classifier;
using detail::TaskClasses;
using detail::torch_classifier;

// The duration of `file` that its container states, in seconds; 0 when it does not say.
double stated_duration(const std::filesystem::path& file, const preprocess::PreprocessConfig& p) {
  const io::MonoReader reader(file.string(), p.sr, p.stream);
  const io::AudioInfo& info = reader.info();
  if (info.frames < 0 || info.sample_rate <= 0) return 0;
  return static_cast<double>(info.frames) / info.sample_rate;
}

// The segments CSV: per task (in order), its timeline of merged chunks.
std::string segments_csv(const std::vector<TaskClasses>& tasks,
                         const std::vector<std::vector<ChunkClass>>& timeline, FilePrediction& r) {
  std::ostringstream text;
  text << "task,class,start_s,end_s,chunks,mean_probability\n";
  char buf[96];
  for (size_t k = 0; k < tasks.size(); ++k) {
    const auto segments = merge_segments(timeline[k]);
    r.segment_count[tasks[k].name] = static_cast<int64_t>(segments.size());
    for (const auto& s : segments) {
      text << csv_field(tasks[k].name) << "," << csv_field(tasks[k].classes[s.cls]);
      std::snprintf(buf, sizeof buf, ",%.3f,%.3f,%lld,%.6f\n", s.start_s, s.end_s,
                    static_cast<long long>(s.chunks), s.mean_probability);
      text << buf;
    }
  }
  return text.str();
}

// One file: chunks in batches of `batch` through extract + classify, CSV rows as they come; both
// CSVs written at the end, so a file that fails leaves nothing.
FilePrediction predict_file(const std::filesystem::path& file, const std::filesystem::path& out,
                            const data::DatasetConfig& dataset, data::Input in, int64_t batch,
                            const std::vector<TaskClasses>& tasks, const Classify& classify,
                            const speakers::Cast* cast) {
  FilePrediction r;
  r.file = file;
  r.csv = out / (file.stem().string() + ".csv");
  r.segments = out / (file.stem().string() + ".segments.csv");
  // the timeline's rows: the tasks, then the cast (its characters, then "unknown")
  std::vector<TaskClasses> rows_of = tasks;
  if (cast != nullptr) {
    rows_of.push_back({"cast", cast->characters});
    rows_of.back().classes.push_back("unknown");
  }
  std::vector<std::vector<ChunkClass>> timeline(rows_of.size());
  std::ostringstream text;
  text << "start_s,duration_s";
  for (const auto& t : tasks) {
    text << "," << csv_field(t.name);
    for (const auto& c : t.classes) text << "," << csv_field(t.name + ":" + c);
  }
  if (cast != nullptr) {
    text << ",cast,cast_score";
    for (const auto& c : cast->characters) text << "," << csv_field("cast:" + c);
  }
  text << "\n";
  const features::FeatureSelection what = data::input_features(in);
  std::vector<float> audio;
  std::vector<std::pair<double, double>> spans;  // start, duration of the pending chunks
  int64_t n_samples = 0;
  // the bar counts chunks (fewer than stated when silence is trimmed); the analysis pass before
  // the first chunk shows the seconds it has read
  const double seconds = stated_duration(file, dataset.preprocess);
  Progress bar("predict " + file.filename().string(),
               static_cast<size_t>(std::ceil(seconds / dataset.preprocess.chunk_hop_s)), "chunks");
  const auto on_analysed = [&](double s) {
    char status[64];
    if (seconds > 0) {
      std::snprintf(status, sizeof status, "analysing %.0f/%.0f s", s, seconds);
    } else {
      std::snprintf(status, sizeof status, "analysing %.0f s", s);
    }
    bar.advance(0, status);
  };
  auto flush = [&] {
    if (spans.empty()) return;
    const auto n = static_cast<int64_t>(spans.size());
    Tensor3 ex;
    if (in == data::Input::waveform) {  // the chunks themselves
      ex = Tensor3(n, 1, n_samples);
      std::copy_n(audio.data(), n * n_samples, ex.data.data());
    } else {
      auto fs = features::extract(dataset.features, audio.data(), n, n_samples, what);
      ex = data::input_examples(fs, in);
    }
    const auto probs = classify(ex);
    char buf[64];
    for (int64_t i = 0; i < n; ++i) {
      std::snprintf(buf, sizeof buf, "%.3f,%.3f", spans[i].first, spans[i].second);
      text << buf;
      for (size_t k = 0; k < tasks.size(); ++k) {
        const auto& classes = tasks[k].classes;
        const float* p = probs[k].data() + i * static_cast<int64_t>(classes.size());
        size_t best = 0;
        for (size_t c = 1; c < classes.size(); ++c) best = p[c] > p[best] ? c : best;
        text << "," << csv_field(classes[best]);
        for (size_t c = 0; c < classes.size(); ++c) {
          std::snprintf(buf, sizeof buf, ",%.6f", static_cast<double>(p[c]));
          text << buf;
        }
        timeline[k].push_back({spans[i].first, spans[i].second, static_cast<int>(best), p[best]});
      }
      if (cast != nullptr) {  // the embeddings follow the tasks' probabilities
        const float* e = probs[tasks.size()].data() + i * cast->dim;
        double score = 0;
        std::vector<double> all;
        const int64_t who = speakers::name_window(*cast, e, &score, &all);
        const auto unknown = static_cast<int64_t>(cast->characters.size());
        const int64_t cls = who < 0 ? unknown : who;
        text << "," << csv_field(who < 0 ? "unknown" : cast->characters[who]);
        std::snprintf(buf, sizeof buf, ",%.6f", score);
        text << buf;
        for (size_t c = 0; c < cast->characters.size(); ++c) {
          std::snprintf(buf, sizeof buf, ",%.6f", all[c]);
          text << buf;
        }
        timeline[tasks.size()].push_back(
            {spans[i].first, spans[i].second, static_cast<int>(cls), static_cast<float>(score)});
      }
      text << "\n";
      r.seconds += spans[i].second;
    }
    r.chunks += n;
    bar.advance(static_cast<size_t>(n), "classifying");
    audio.clear();
    spans.clear();
  };
  preprocess::process_file(
      file.string(), dataset.preprocess,
      [&](preprocess::Chunk&& c) {
        n_samples = static_cast<int64_t>(c.samples.size());
        audio.insert(audio.end(), c.samples.begin(), c.samples.end());
        spans.emplace_back(c.offset_s, c.duration_s);
        if (static_cast<int64_t>(spans.size()) == batch) flush();
      },
      on_analysed);
  flush();
  bar.set_total(bar.done());  // the chunks there were, not the estimate from the stated duration
  bar.finish("done");
  if (r.chunks == 0) {
    throw InputError("'" + file.string() + "': no chunk to classify (shorter than one chunk of " +
                     std::to_string(dataset.preprocess.chunk_s) + " s after trimming)");
  }
  // each class's share of the classified time, from the timeline (classes never predicted: 0)
  for (size_t k = 0; k < rows_of.size(); ++k) {
    auto& share = r.share[rows_of[k].name];
    for (const auto& c : rows_of[k].classes) share[c] = 0;
    for (const auto& ch : timeline[k]) share[rows_of[k].classes[ch.cls]] += ch.duration_s;
    for (auto& [c, s] : share) s /= r.seconds;
  }
  fs::write_text(r.csv, text.str());
  fs::write_text(r.segments, segments_csv(rows_of, timeline, r));
  // <stem>.timeline.png: one band per task, its segments coloured by class (a warning, no
  // picture, without gnuplot)
  std::vector<metrics::TimelineRow> rows;
  for (size_t k = 0; k < rows_of.size(); ++k) {
    metrics::TimelineRow row{rows_of[k].name, rows_of[k].classes, {}};
    for (const auto& sg : merge_segments(timeline[k]))
      row.spans.push_back({sg.start_s, sg.end_s, sg.cls});
    rows.push_back(std::move(row));
  }
  metrics::plot_timeline(out / (file.stem().string() + ".timeline.png"), rows,
                         file.filename().string());
  return r;
}

}  // namespace

std::vector<FilePrediction> run_predict(const PredictOptions& opts) {
  const auto cfg = detail::load_run(opts.run, opts.batch_size);
  if (cfg.dataset.empty()) {
    throw InputError("run '" + opts.run.string() +
                     "' was trained on a folder of shards (data.shards) without its dataset "
                     "TOML, so its preprocessing and features are unknown: predict needs a run "
                     "of a data.dataset experiment");
  }
  auto dataset = data::load_dataset_config(cfg.dataset);
  detail::check_data_settings(opts.run, dataset, cfg.dataset);
  if (opts.stream) {
    if (*opts.stream < -1) {
      throw ConfigError("predict: stream " + std::to_string(*opts.stream) +
                        " must be >= 0 (ffprobe's 0:N), or -1 for the first audio stream");
    }
    dataset.preprocess.stream = *opts.stream;
  }
  const auto in = data::parse_input(cfg.input);
  std::string fingerprint;
  const auto tasks = run_tasks(opts.run, cfg, dataset, fingerprint);
  const auto out = opts.out.empty() ? opts.run / "predictions" : opts.out;
  // <stem>.csv and <stem>.segments.csv of every file: no two may be the same file
  std::set<std::string> outputs;
  for (const auto& f : opts.files) {
    const std::string stem = f.stem().string();
    for (const auto& name : {stem + ".csv", stem + ".segments.csv"}) {
      if (!outputs.insert(name).second) {
        throw InputError("'" + f.string() + "': its predictions would be written to " + name +
                         ", as another input's: rename one of them");
      }
    }
  }
  std::string device_name = "cpu";
  std::unique_ptr<speakers::Cast> cast;
  if (!opts.cast.empty()) {
    if (cfg.tabular()) {
      throw InputError("--cast '" + opts.cast.string() + "': run '" + opts.run.string() +
                       "' is a " + cfg.model.type +
                       " run, which has no embedding to name characters by: use a neural run "
                       "(model.type cnn, lstm or ecapa) and a cast enrolled with it");
    }
    cast = std::make_unique<speakers::Cast>(speakers::read_cast(opts.cast));
  }
  const Classify classify = cfg.tabular()
                                ? tabular_classifier(opts.run, tasks)
                                : torch_classifier(opts.run, cfg, dataset.features, in, tasks,
                                                   fingerprint, device_name, cast.get(), opts.cast);
  std::filesystem::create_directories(out);
  HP_LOG_INFO("{}: {} ({}) on {}, {} file(s) to {}", opts.run.string(), cfg.model.type, cfg.input,
              device_name, opts.files.size(), out.string());
  std::vector<FilePrediction> results;
  for (const auto& f : opts.files) {
    FilePrediction r;
    try {
      r = predict_file(f, out, dataset, in, cfg.train.batch_size, tasks, classify, cast.get());
    } catch (const InputError& e) {  // this file's audio; the run and the device are fine
      r.file = f;
      r.error = e.what();
    }
    if (opts.on_file) opts.on_file(r);
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace hptrain::train
