// A plain float32 host tensor in row-major [batch, rows, frames] layout, the exchange format
// of the feature stage (CPU and GPU alike) and of the dataset reader.
#pragma once

#include <cstdint>
#include <vector>

namespace hptrain {

struct Tensor3 {
  int64_t batch = 0;
  int64_t rows = 0;
  int64_t frames = 0;
  std::vector<float> data;  // batch * rows * frames values, row-major

  Tensor3() = default;
  Tensor3(int64_t b, int64_t r, int64_t f, float fill = 0.0f)
      : batch(b), rows(r), frames(f), data(static_cast<size_t>(b * r * f), fill) {}

  int64_t size() const { return batch * rows * frames; }
  float* item(int64_t b) { return data.data() + b * rows * frames; }
  const float* item(int64_t b) const { return data.data() + b * rows * frames; }
  float& at(int64_t b, int64_t r, int64_t t) { return data[(b * rows + r) * frames + t]; }
  float at(int64_t b, int64_t r, int64_t t) const { return data[(b * rows + r) * frames + t]; }
};

}  // namespace hptrain
