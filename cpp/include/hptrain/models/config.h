// Hyper-parameters of the LibTorch models (the [model] table of an experiment): the log-mel
// CNN, the MFCC BiLSTM and ECAPA-TDNN, and the loss head of one task (softmax or additive
// angular margin). Plain C++ (no LibTorch), so configuration code can include it.
#pragma once

#include <string>
#include <vector>

#include "hptrain/toml_config.h"

namespace hptrain::models {

// The LibTorch model types, ModelConfig::type's choices (an experiment's [model] also takes the
// baselines' svm and rf: baselines::make_classifier).
inline const std::vector<std::string> kModelTypes = {
    "cnn", "lstm", "ecapa", "ge2e", "torchscript", "transformer", "pretrained"};

struct ModelConfig {
  // one of kModelTypes (svm | rf: baselines::make_classifier)
  std::string type = "cnn";
  double dropout = 0.3;  // before the task heads (and between LSTM layers)
  // CNN: one block per entry (conv 3x3 -> batch norm -> ReLU -> 2x2 max pool), output channels.
  // ECAPA: SpeechBrain's list of 5: the front conv, the three SE-Res2Net blocks, the multi-layer
  // feature aggregation (kEcapaChannels when the TOML gives none).
  std::vector<int> channels = {16, 32, 64, 128};
  // CNN global pooling over time: mean | max | mean_max | mean_std (statistics pooling)
  std::string time_pooling = "mean_max";
  // LSTM: stacked, optionally bidirectional, over frames averaged `frame_stride` at a time.
  int hidden_size = 64;
  int num_layers = 2;
  bool bidirectional = true;
  // LSTM pooling over time: attention | attention_stats (weighted mean and std) | mean.
  // transformer: cls | mean | attentive_stats (pooling.h); pretrained: mean | attentive_stats.
  std::string pooling = "attention";
  int frame_stride = 1;
  // ECAPA-TDNN (Desplanques et al. 2020), names and defaults of SpeechBrain's ECAPA_TDNN
  int embedding_dim = 192;       // the linear embedding after pooling (SpeechBrain: lin_neurons)
  int res2net_scale = 8;         // Res2Net splits of each SE-Res2Net block (divides channels)
  int se_channels = 128;         // squeeze-excitation bottleneck
  int attention_channels = 128;  // attentive statistics pooling's bottleneck
  bool global_context = true;    // attention also sees the utterance's mean and std

  // Transformer (transformer.h): log-mel frames subsampled 4x in time by two 3x3 stride-2
  // convolutions, sinusoidal positions, `layers` pre-norm encoder blocks (self-attention with
  // `heads` heads, feed-forward of ff_dim, dropout = `dropout`), a final layer norm, pooling.
  // attentive_stats pooling uses attention_channels and global_context.
  int layers = 4;
  int d_model = 144;
  int heads = 4;
  int ff_dim = 576;
  int subsampling_channels = 0;  // the subsampling convolutions' channels (0: d_model, as ESPnet)

  // Pretrained (pretrained.h): a TorchScript encoder of 16 kHz waveforms giving every layer's
  // hidden states (scripts/export_encoder.py), a learned softmax-weighted sum of them
  // (encoder_layer = -1, TOML `layers = "weighted"`, as SUPERB) or one layer (its index, TOML
  // `layers = 3`), pooling, the heads. The encoder is trained at encoder_lr (0: train.lr) after
  // freeze_epochs epochs in which only the layer weights, pooling and heads learn.
  std::string encoder;  // path of the TorchScript file
  int encoder_layer = -1;
  int freeze_epochs = 0;
  double encoder_lr = 0;

  // The loss of task `loss_task` (the others always have a linear head and softmax):
  // softmax | aam (additive angular margin, ArcFace: WeSpeaker's ArcMarginProduct, SpeechBrain's
  // AdditiveAngularMargin). Applies to every type (cnn, lstm, ecapa).
  std::string loss = "softmax";
  std::string loss_task = "character";  // the speaker task (the demo's who speaks)
  double margin = 0.2;                  // aam: angular margin m (radians)
  double scale = 30;                    // aam: logit scale s
  bool easy_margin = false;             // aam: margin only where cos > 0 (else threshold)

  // Start from another run's weights (train::init_from_run): `init` is its run folder (relative
  // to the working directory; empty = random initialisation); `init_parts` what is taken from it:
  // "backbone" (the input normalisation and the body) and/or "heads" (every task head: the runs
  // must have the same tasks and classes), or "all" (both). Not part of the run's fingerprint:
  // where the weights started does not change the model.
  std::string init;
  std::vector<std::string> init_parts = {"backbone"};
  // ge2e: resemblyzer's pretrained weights (models::load_ge2e_weights), loaded into the body
  // before training starts (empty = random initialisation); the file is not needed afterwards.
  std::string weights;
  // Keep the body's weights as they start (from `weights` or `init`): only the heads learn.
  bool freeze_backbone = false;

  void validate() const;  // ConfigError naming the field
};

// SpeechBrain's default channels for ECAPA-TDNN (C = 512, aggregation 3 * 512).
inline const std::vector<int> kEcapaChannels = {512, 512, 512, 512, 1536};

// resemblyzer's VoiceEncoder (hparams.py): model_hidden_size, model_num_layers,
// model_embedding_size; ge2e's hidden_size, num_layers and embedding_dim when the TOML gives none.
constexpr int kGe2eHidden = 256, kGe2eLayers = 3, kGe2eEmbedding = 256;

// Reads the keys of [model] for type cnn, lstm, ecapa or ge2e (`type` included) and validates;
// errors name file, line and key.
void from_toml(const config::Section& s, ModelConfig& cfg);

}  // namespace hptrain::models
