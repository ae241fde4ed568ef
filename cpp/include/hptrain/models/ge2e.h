// The GE2E voice encoder (Wan et al., ICASSP 2018) as resemblyzer's VoiceEncoder builds it:
// [B, n_mels, T] log-mel (dB, ref 1) -> L2-normalised embedding [B, embedding_dim]; and any
// speaker encoder given as a TorchScript file.
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>

#include "hptrain/models/config.h"
#include "hptrain/models/net.h"

namespace hptrain::models {

// Power mel from dB (10^(x/10): resemblyzer feeds librosa's melspectrogram, not its log) ->
// stacked unidirectional LSTM (hidden_size, num_layers) -> the last layer's final hidden state
// -> linear to embedding_dim -> ReLU -> L2 norm.
// ref: resemblyzer/voice_encoder.py VoiceEncoder.forward (0.1.4): defaults 40 mels, 256 hidden,
// 3 layers, 256 values.
//   Ge2eBody g(cfg, 40);  g(torch::rand({8, 40, 160})) -> [8, 256], each row of norm 1
class Ge2eBodyImpl : public BodyImpl {
 public:
  Ge2eBodyImpl(const ModelConfig& cfg, int64_t rows);
  torch::Tensor forward(const torch::Tensor& x) override;
  int64_t out_features() const override { return embedding_dim_; }

 private:
  int64_t embedding_dim_;
  torch::nn::LSTM lstm_{nullptr};
  torch::nn::Linear linear_{nullptr};
};
TORCH_MODULE(Ge2eBody);

// Reads resemblyzer's weights into `body`: a torch.save zip archive of a dict from name
// ("lstm.weight_ih_l0", ..., "linear.bias") to tensor, as scripts/resemblyzer_weights.py writes
// it from the package's pretrained.pt (LibTorch 1.13 reads only the zip format; other keys of the
// file, such as GE2E's similarity_weight, are ignored). Every tensor of the body must be there
// with its shape: InputError naming the file, the key and both shapes. Returns how many tensors.
int64_t load_ge2e_weights(Ge2eBodyImpl& body, const std::filesystem::path& file);

// A speaker encoder a user brings as a TorchScript file (torch.jit.save): its forward maps
// hptrain's features [B, rows, T] (as the dataset gives them: no input normalisation) to
// embeddings [B, D]. Its parameters and buffers are this module's (by their names with '.' as
// '_'), so checkpoints, resume, model.init and freeze_backbone work as for the other bodies; D is
// found by one forward of a [2, rows, 16] batch. The file is read whenever the model is built
// (evaluate and predict too). InputError naming the file when it cannot be read or its forward
// does not give [B, D].
class TorchScriptBodyImpl : public BodyImpl {
 public:
  TorchScriptBodyImpl(const std::filesystem::path& file, int64_t rows);
  torch::Tensor forward(const torch::Tensor& x) override;
  int64_t out_features() const override { return out_features_; }
  void train(bool on = true) override;

 private:
  std::shared_ptr<torch::jit::Module> module_;
  int64_t out_features_ = 0;
};
TORCH_MODULE(TorchScriptBody);

}  // namespace hptrain::models
