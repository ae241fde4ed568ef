// The LibTorch classifiers: a shared body (log-mel CNN, MFCC BiLSTM, ECAPA-TDNN or GE2E) and one
// head per task: linear, or an additive angular margin head (margin.h) for ModelConfig::loss_task
// when loss = "aam". Input [B, rows, T] float32 (any T >= 1), output logits [B, classes] per task.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hptrain/models/config.h"
#include "hptrain/models/margin.h"

namespace hptrain::models {

// A body maps [B, rows, T] to features [B, out_features()].
class BodyImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  virtual int64_t out_features() const = 0;
  // Bodies whose pooled vector is statistics over time of frame features (the CNN): input
  // frames per feature frame (0: none, as for the LSTM, ECAPA, GE2E, whose pooling is not such
  // statistics or whose frames see the whole input), the frames, and their pooling under
  // per-frame weights. What embeds a long stream once and pools each window (speakers/embed).
  virtual int64_t frame_stride() const { return 0; }
  virtual torch::Tensor frames(const torch::Tensor& x) { return x; }
  virtual torch::Tensor pool_frames(const torch::Tensor& h, const torch::Tensor& /*w*/) {
    return h;
  }
};

class NetImpl : public torch::nn::Module {
 public:
  // `rows`: input rows (n_mels, or 3*n_mfcc); `classes`: number of classes of each task;
  // `tasks`: their names (needed when cfg.loss = "aam", to find cfg.loss_task among them).
  NetImpl(const ModelConfig& cfg, int64_t rows, std::vector<int64_t> classes,
          const std::vector<std::string>& tasks = {});

  // Logits per task, in the order of `classes`. `targets` (int64 [B] per task, training only):
  // the margin head puts its margin on each example's class; without them it gives s * cos.
  std::vector<torch::Tensor> forward(const torch::Tensor& x,
                                     const std::vector<torch::Tensor>& targets = {});

  // The body's pooled vector [B, embedding_size()] (the CNN's and LSTM's pooled features,
  // ECAPA's embedding layer): the same input normalisation as forward, no dropout, no head.
  // What speaker embeddings (hptrain embed, enroll, verification) are made of; works for any
  // BodyImpl without code of its own. Callers L2-normalise it when they score by cosine.
  torch::Tensor embed(const torch::Tensor& x);
  int64_t embedding_size() const { return body_->out_features(); }

  // The body's frames before its pooling over time, [B, C, ceil(T / frame_stride())] float32,
  // each frame the pooled statistics of frame_stride() input frames (the same normalisation as
  // embed); and that pooling of frames h [B, C, T'] under weights w [B, T'] (>= 0, each row
  // summing to > 0; all ones: embed's pooling, so pool_frames(embed_frames(x), ones) =
  // embed(x)). frame_stride() = 0: the body has no such frames (Error from both).
  int64_t frame_stride() const { return body_->frame_stride(); }
  torch::Tensor embed_frames(const torch::Tensor& x);
  torch::Tensor pool_frames(const torch::Tensor& h, const torch::Tensor& w);

  // Per-row input normalisation (x - mean) / std applied first; [rows] each. Stored with the
  // weights (buffers), so a checkpoint carries the statistics of its training data. Not applied
  // for ge2e (its pretrained weights expect the features as they are) nor for pretrained (the
  // encoder takes the waveform it was trained on).
  void set_normalization(const torch::Tensor& mean, const torch::Tensor& std);

 private:
  torch::Tensor mean_, inv_std_;  // [1, rows, 1]
  bool normalize_ = true;         // off for ge2e and pretrained (set_normalization has no effect)
  std::shared_ptr<BodyImpl> body_;
  torch::nn::Dropout dropout_{nullptr};
  std::vector<torch::nn::Linear> heads_;  // null at margin_task_
  AdditiveAngularMargin margin_{nullptr};
  int64_t margin_task_ = -1;
};
TORCH_MODULE(Net);

// Loads `archive` (as torch::nn::Module::save wrote it) into `module` exactly: the same
// parameters, buffers and submodules at every level, each tensor of the same shape and dtype.
// InputError naming the first difference ("body.block2: in the file, not in the model");
// torch's Module::load ignores keys it does not know and takes other shapes silently.
void load_strict(torch::nn::Module& module, torch::serialize::InputArchive& archive);

}  // namespace hptrain::models
