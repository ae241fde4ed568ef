// The kernel matrix Q of a binary SVM problem (baselines/smo.h): full rows behind an LRU cache,
// computed in blocks on CPU threads or the GPU, and the working-set solver's rows and gradient
// updates.
#include <algorithm>
#include <cmath>

#include "baselines/internal.h"
#include "baselines/smo.h"

namespace hptrain::baselines {

namespace {
// multiply-adds of a gradient update below which it stays on the calling thread
constexpr int64_t kParallelUpdate = 1 << 18;
}  // namespace

QMatrix::QMatrix(const float* X, int64_t l, int64_t d, const KernelParams& p, const int8_t* y,
                 size_t cache_bytes, int n_threads, int device)
    : k_(p, X, l, d, device, n_threads),
      l_(l),
      y_(y),
      qd_(l),
      n_threads_(n_threads),
      cache_bytes_(cache_bytes) {
  const float* sq = k_.sq_norms();
  std::vector<float> k(1);
  for (int64_t i = 0; i < l; ++i) {
    kernel_block(p, X, sq, &i, 1, X + i * d, sq + i, 0, 1, d, k.data(), 1);
    qd_[i] = k[0];
  }
}

void QMatrix::reserve(int64_t rows) {
  if (capacity_ > 0) return;
  const int64_t fit = static_cast<int64_t>(cache_bytes_ / (sizeof(float) * l_));
  // l >= 2: one row of each class; the working-set solver needs its q rows at once
  capacity_ = std::max<int64_t>(std::max<int64_t>(2, rows), std::min(fit, l_));
  data_.resize(static_cast<size_t>(capacity_ * l_));
  slot_row_.assign(capacity_, -1);
  row_slot_.assign(l_, -1);
  prev_.assign(capacity_, -1);
  next_.assign(capacity_, -1);
}

void QMatrix::touch(int64_t s) {
  if (tail_ == s) return;
  // unlink (a slot never used yet is not in the list)
  if (prev_[s] >= 0) next_[prev_[s]] = next_[s];
  if (next_[s] >= 0) prev_[next_[s]] = prev_[s];
  if (head_ == s) head_ = next_[s];
  prev_[s] = tail_;
  next_[s] = -1;
  if (tail_ >= 0) next_[tail_] = s;
  tail_ = s;
  if (head_ < 0) head_ = s;
}

int64_t QMatrix::slot_for(int64_t row, int64_t keep) {
  int64_t s = used_ < capacity_ ? used_++ : -1;
  if (s < 0) {
    s = head_ != keep ? head_ : next_[head_];
    row_slot_[slot_row_[s]] = -1;
  }
  slot_row_[s] = row;
  row_slot_[row] = s;
  touch(s);
  return s;
}

void QMatrix::rows(int64_t i, int64_t j, const float** qi, const float** qj) {
  reserve(2);
  int64_t want[2] = {i, j};
  int64_t slot[2] = {-1, -1};
  int64_t miss[2];
  int64_t miss_slot[2];
  int n_miss = 0;
  for (int t = 0; t < 2; ++t) {
    if (want[t] < 0) continue;
    if (t == 1 && j == i) {
      slot[1] = slot[0];
      continue;
    }
    slot[t] = row_slot_[want[t]];
    if (slot[t] >= 0) {
      touch(slot[t]);
    } else {
      slot[t] = slot_for(want[t], t == 1 ? slot[0] : -1);
      miss[n_miss] = want[t];
      miss_slot[n_miss++] = slot[t];
    }
  }
  if (n_miss > 0) {
    // One block of the missed rows (CPU threads or one GEMM on the GPU).
    std::vector<float> block(static_cast<size_t>(n_miss * l_));
    k_.rows(miss, n_miss, block.data());
    for (int r = 0; r < n_miss; ++r) {
      float* q = data_.data() + miss_slot[r] * l_;
      const float* k = block.data() + r * l_;
      const float yi = y_[miss[r]];
      for (int64_t c = 0; c < l_; ++c) q[c] = yi * y_[c] * k[c];
    }
  }
  *qi = data_.data() + slot[0] * l_;
  if (qj != nullptr) *qj = j >= 0 ? data_.data() + slot[1] * l_ : nullptr;
}

void QMatrix::load_working_set(const int64_t* ws, int64_t q, const int64_t* fresh,
                               int64_t n_fresh) {
  ws_.assign(ws, ws + q);
  if (k_.on_gpu()) {
    // positions are device slots: only the fresh ones are computed (one GEMM)
    std::vector<int64_t> rows(n_fresh);
    for (int64_t r = 0; r < n_fresh; ++r) rows[r] = ws[fresh[r]];
    k_.ws_fill(rows.data(), fresh, n_fresh, q);
    return;
  }
  // CPU: through the LRU cache (rows of earlier sets may still be there), misses as one block
  reserve(q);
  ws_rows_.assign(q, nullptr);
  std::vector<int64_t> miss, miss_pos;
  for (int64_t p = 0; p < q; ++p) {
    const int64_t s = row_slot_[ws[p]];
    if (s >= 0) {
      touch(s);
      ws_rows_[p] = data_.data() + s * l_;
    } else {
      miss.push_back(ws[p]);
      miss_pos.push_back(p);
    }
  }
  if (miss.empty()) return;
  const int64_t n_miss = static_cast<int64_t>(miss.size());
  std::vector<float> block(static_cast<size_t>(n_miss * l_));
  k_.rows(miss.data(), n_miss, block.data());
  // capacity >= q: the least recently used slots evicted here are never this set's hits
  for (int64_t r = 0; r < n_miss; ++r) {
    float* dst = data_.data() + slot_for(miss[r], -1) * l_;
    const float* k = block.data() + r * l_;
    const float yi = y_[miss[r]];
    for (int64_t c = 0; c < l_; ++c) dst[c] = yi * y_[c] * k[c];
    ws_rows_[miss_pos[r]] = dst;
  }
}

void QMatrix::working_submatrix(float* out) {
  const int64_t q = static_cast<int64_t>(ws_.size());
  if (k_.on_gpu()) {
    k_.ws_submatrix(ws_.data(), q, out);
    for (int64_t a = 0; a < q; ++a) {
      for (int64_t b = 0; b < q; ++b) out[a * q + b] *= static_cast<float>(y_[ws_[a]] * y_[ws_[b]]);
    }
    return;
  }
  for (int64_t a = 0; a < q; ++a) {
    for (int64_t b = 0; b < q; ++b) out[a * q + b] = ws_rows_[a][ws_[b]];
  }
}

void QMatrix::add_working_gradient(const double* dalpha, double* G) {
  const int64_t q = static_cast<int64_t>(ws_.size());
  std::vector<int64_t> pos;
  std::vector<double> coef;
  for (int64_t a = 0; a < q; ++a) {
    if (dalpha[a] == 0) continue;
    pos.push_back(a);
    coef.push_back(k_.on_gpu() ? y_[ws_[a]] * dalpha[a] : dalpha[a]);
  }
  const int64_t n = static_cast<int64_t>(pos.size());
  if (n == 0) return;
  if (k_.on_gpu()) {
    // v = K_ws' (y_ws dalpha) on the device; Q = y y' K
    std::vector<double> v(l_);
    k_.ws_combine(pos.data(), coef.data(), n, v.data());
    for (int64_t k = 0; k < l_; ++k) G[k] += y_[k] * v[k];
    return;
  }
  const int chunks = n * l_ >= kParallelUpdate ? n_threads_ : 1;
  parallel_for(chunks, chunks, [&](int64_t c) {
    const int64_t c0 = l_ * c / chunks, c1 = l_ * (c + 1) / chunks;
    for (int64_t a = 0; a < n; ++a) {
      const float* q_a = ws_rows_[pos[a]];
      const double d = coef[a];
      for (int64_t k = c0; k < c1; ++k) G[k] += q_a[k] * d;
    }
  });
}

}  // namespace hptrain::baselines
