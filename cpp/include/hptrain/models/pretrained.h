// A pretrained speech encoder from a TorchScript file (model.type = "pretrained"): 16 kHz
// waveforms [B, 1, T] -> every layer's hidden states [B, frames, D] (the file's forward) ->
// SUPERB's learned softmax-weighted sum of the layers, or one layer -> pooling -> [B, F].
// The file is what scripts/export_encoder.py writes (README, "Transformer encoders").
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hptrain/models/config.h"
#include "hptrain/models/net.h"
#include "hptrain/models/pooling.h"

namespace hptrain::models {

// The sample rate every encoder file must declare (its attribute `sample_rate`).
constexpr int64_t kEncoderSampleRate = 16000;

// What the file says about itself, checked when it is loaded.
struct EncoderInfo {
  int64_t sample_rate = 0;  // the module's `sample_rate` attribute
  int64_t layers = 0;       // hidden states returned (one per layer)
  int64_t hidden = 0;       // their width D
};

// Loads `path` with torch::jit::load (on the CPU) and checks it: the file exists, is a
// TorchScript module, has an integer attribute sample_rate = 16000, and its forward(waveforms
// [B, T] float32, lengths [B] int64) returns a list of [B, frames, D] tensors (or a tuple whose
// first element is one: torchaudio's extract_features) on one second of silence. InputError
// naming the file and what was expected otherwise.
std::pair<torch::jit::Module, EncoderInfo> load_encoder(const std::string& path);

// Runs an encoder: its hidden states for `waves` [B, T] (all examples T samples long).
std::vector<torch::Tensor> encoder_hidden_states(torch::jit::Module& encoder,
                                                 const torch::Tensor& waves,
                                                 const std::string& path);

// The body. Children: encoder (the file's parameters and buffers, their dots as "_"),
// (asp); parameter layer_weights [layers] when encoder_layer = -1 (zeros: the plain mean).
//   ModelConfig c; c.type = "pretrained"; c.encoder = "tests/data/encoders/tiny_wav2vec2.pt";
//   c.pooling = "mean"; PretrainedBody body(c);  body(torch::rand({2, 1, 16000})) -> [2, D]
class PretrainedBodyImpl : public BodyImpl {
 public:
  explicit PretrainedBodyImpl(const ModelConfig& cfg);
  torch::Tensor forward(const torch::Tensor& x) override;
  int64_t out_features() const override;
  void train(bool on = true) override;

  const EncoderInfo& info() const { return info_; }
  // The softmax weights of the layers ([layers]; one-hot for a chosen layer).
  torch::Tensor layer_weights() const;

 private:
  std::string path_;
  torch::jit::Module encoder_;
  EncoderInfo info_;
  int64_t layer_;
  std::string pooling_;
  torch::Tensor layer_weights_;
  AttentiveStatisticsPooling asp_{nullptr};
};
TORCH_MODULE(PretrainedBody);

// The optimiser's parameter groups of a model: {the rest, the pretrained encoder's} (the
// second empty for other types; the trainer then makes one group, as before).
std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> parameter_groups(
    torch::nn::Module& net);

// The encoder group's learning rate as a multiple of the schedule's: 0 during the first
// freeze_epochs epochs (`epoch` counts from 0), then encoder_lr / lr (1 when encoder_lr = 0).
double encoder_lr_factor(const ModelConfig& cfg, double lr, int epoch);

// Whether the encoder's parameters take gradients (off while frozen: no backward through it).
void set_encoder_trainable(torch::nn::Module& net, bool on);

// InputError unless the model's encoder (if any) takes audio at `data_sr` Hz (the shards'
// sample rate; `shards` names them).
void check_encoder_sample_rate(torch::nn::Module& net, int64_t data_sr, const std::string& shards);

}  // namespace hptrain::models
