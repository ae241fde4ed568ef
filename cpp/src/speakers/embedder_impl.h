// The state of a speakers::Embedder (embed.h) shared by its source files: the run's model and
// settings, the pending windows of a batch, and the window and stream modes' model calls.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "hptrain/data/dataset.h"
#include "hptrain/data/dataset_config.h"
#include "hptrain/features/extract.h"
#include "hptrain/models/net.h"
#include "hptrain/models/torch_device.h"
#include "hptrain/speakers/embed.h"
#include "hptrain/tensor.h"
#include "hptrain/train/experiment.h"
#include "speakers/stream_grid.h"

namespace hptrain::speakers {

struct Embedder::Impl {
  std::filesystem::path run;
  EmbedOptions opts;
  train::ExperimentConfig cfg;
  data::DatasetConfig dataset;
  data::Input in = data::Input::log_mel;
  torch::Device device{torch::kCPU};
  bool bf16 = false;
  models::Net net{nullptr};
  std::string fingerprint, device_name, oom, speaker_task;
  std::vector<std::string> tasks;
  int64_t len = 0, hop = 0, batch = 0, dim = 0;
  // the pending windows of a batch: samples [n, len], start and duration of each
  std::vector<float> audio;
  std::vector<std::pair<double, double>> spans;
  // stream mode (grid.stride 0: window mode) and its segment's samples
  detail::StreamGrid grid;
  std::vector<float> segment;
  // EmbedOptions::dither: the noise added to a window's samples (len values; empty: none)
  std::vector<float> dither;

  torch::Tensor run_model(Tensor3& ex, bool frames) {
    return models::out_of_memory_as_error(oom, [&] {
      torch::InferenceMode inference;
      const auto x =
          torch::from_blob(ex.data.data(), {ex.batch, ex.rows, ex.frames}, torch::kFloat32)
              .to(device);
      models::AutocastGuard autocast(bf16, device);
      return frames ? net->embed_frames(x) : net->embed(x).to(torch::kFloat32);
    });
  }

  void append(const torch::Tensor& v, Embeddings& out) {
    const auto e =
        torch::nn::functional::normalize(v, torch::nn::functional::NormalizeFuncOptions().dim(1))
            .cpu()
            .contiguous();
    out.data.insert(out.data.end(), e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
  }

  // Windows k0 <= k < k1 of a contiguous signal of `total` samples, zero beyond it, in one
  // model call; x holds its samples [x0, x0 + n), which must include what the segment reads
  // below `total`. The body frames are those of one pass over the whole signal (zero-padded
  // to its last window's end `end`): StreamGrid::segment.
  void stream_segment(const float* x, int64_t x0, int64_t n, int64_t total, int64_t end, int64_t k0,
                      int64_t k1, double offset_s, Embeddings& out) {
    const auto [a, b] = grid.segment(k0, k1, end);
    segment.assign(static_cast<size_t>(b - a), 0.0f);
    for (int64_t i = std::max(a, x0); i < std::min({b, total, x0 + n}); ++i) {
      segment[static_cast<size_t>(i - a)] = x[i - x0];
    }
    if (!dither.empty()) {  // dither[i % len] for sample i, without a division per sample
      for (int64_t i = a, j = a % len; i < b; ++i, j = j + 1 == len ? 0 : j + 1) {
        segment[static_cast<size_t>(i - a)] += dither[static_cast<size_t>(j)];
      }
    }
    auto fs =
        features::extract(dataset.features, segment.data(), 1, b - a, data::input_features(in));
    Tensor3 ex = data::input_examples(fs, in);
    // [C, T']: frame i is body frame a / frame_samples + i
    const torch::Tensor h = run_model(ex, true)[0];
    const int64_t wn = k1 - k0, width = grid.width();
    std::vector<int64_t> index;
    std::vector<float> weight;
    grid.pooling(k0, k1, a / grid.frame_samples(), h.size(1), index, weight);
    const auto idx = torch::from_blob(index.data(), {wn * width}, torch::kInt64).to(device);
    const auto w = torch::from_blob(weight.data(), {wn, width}, torch::kFloat32).to(device);
    torch::Tensor v;
    {
      torch::InferenceMode inference;
      const auto hw = h.index_select(1, idx).view({h.size(0), wn, width}).permute({1, 0, 2});
      v = net->pool_frames(hw, w);
    }
    append(v, out);
    const double sr = dataset.preprocess.sr;
    for (int64_t k = k0; k < k1; ++k) {
      out.start_s.push_back(offset_s + static_cast<double>(k * hop) / sr);
      out.duration_s.push_back(static_cast<double>(std::min(len, total - k * hop)) / sr);
    }
  }

  // The stream mode of windows k0 <= k < count over samples x [x0, x0 + n) of a signal of
  // `total` samples, in segments of segment_windows.
  void stream_windows(const float* x, int64_t x0, int64_t n, int64_t total, int64_t k0,
                      int64_t count, double offset_s, Embeddings& out) {
    const int64_t end = std::max(total, (count - 1) * hop + len);
    for (int64_t k = k0; k < count; k += grid.segment_windows) {
      stream_segment(x, x0, n, total, end, k, std::min(count, k + grid.segment_windows), offset_s,
                     out);
    }
  }

  void push(const float* x, int64_t real, double start_s, double duration_s, Embeddings& out) {
    audio.insert(audio.end(), x, x + real);
    audio.resize(audio.size() + static_cast<size_t>(len - real), 0.0f);  // zero padding
    if (!dither.empty()) {
      float* w = audio.data() + audio.size() - static_cast<size_t>(len);
      for (int64_t i = 0; i < len; ++i) w[i] += dither[static_cast<size_t>(i)];
    }
    spans.emplace_back(start_s, duration_s);
    if (static_cast<int64_t>(spans.size()) == batch) flush(out);
  }

  void flush(Embeddings& out) {
    if (spans.empty()) return;
    const auto n = static_cast<int64_t>(spans.size());
    auto fs = features::extract(dataset.features, audio.data(), n, len, data::input_features(in));
    Tensor3 ex = data::input_examples(fs, in);
    append(run_model(ex, false), out);
    for (const auto& [s, d] : spans) {
      out.start_s.push_back(s);
      out.duration_s.push_back(d);
    }
    audio.clear();
    spans.clear();
  }
};

}  // namespace hptrain::speakers
