// Hyper-parameters of the LibTorch models (the [model] table of an experiment): the log-mel
// CNN and the MFCC BiLSTM. Plain C++ (no LibTorch), so configuration code can include it.
#pragma once

#include <string>
#include <vector>

#include "hptrain/toml_config.h"

namespace hptrain::models {

struct ModelConfig {
  std::string type = "cnn";  // cnn | lstm (svm | rf are read by baselines::make_classifier)
  double dropout = 0.3;      // before the task heads (and between LSTM layers)
  // CNN: one block per entry (conv 3x3 -> batch norm -> ReLU -> 2x2 max pool), output channels.
  std::vector<int> channels = {16, 32, 64, 128};
  // CNN global pooling over time: mean | max | mean_max | mean_std (statistics pooling)
  std::string time_pooling = "mean_max";
  // LSTM: stacked, optionally bidirectional, over frames averaged `frame_stride` at a time.
  int hidden_size = 64;
  int num_layers = 2;
  bool bidirectional = true;
  // LSTM pooling over time: attention | attention_stats (weighted mean and std) | mean
  std::string pooling = "attention";
  int frame_stride = 1;

  void validate() const;  // ConfigError naming the field
};

// Reads the keys of [model] for type cnn or lstm (`type` included) and validates; errors name
// file, line and key.
void from_toml(const config::Section& s, ModelConfig& cfg);

}  // namespace hptrain::models
