// SVM kernel rows on the GPU: gather the rows, one SGEMM against B's columns (FP32, no TF32: the
// values feed LIBSVM's solver as the CPU's do), the RBF epilogue, one copy to pinned memory.
// ref: Xtra-Computing/thundersvm:src/thundersvm/kernel/kernelmatrix_kernel.cu (RBF from dot
// products and norms).
#include "hptrain/cuda/kernel_rows.h"

#include <algorithm>
#include <cstring>

#include "hptrain/cuda/nvtx.h"

namespace hptrain::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65536;  // grid-stride loops beyond this

unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>(std::min<int64_t>((n + kThreads - 1) / kThreads, kMaxBlocks));
}

// a[r, :] = b[rows[r], :], a_sq[r] = b_sq[rows[r]]
__global__ void gather_rows_kernel(const float* b, const float* b_sq, const int64_t* rows,
                                   int64_t n_rows, int64_t d, float* a, float* a_sq) {
  const int64_t total = n_rows * d;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / d, c = i - r * d;
    a[i] = b[rows[r] * d + c];
    if (c == 0) a_sq[r] = b_sq[rows[r]];
  }
}

// k [n_rows, n_cols] of dot products becomes exp(-gamma max(0, |a|^2 + |b|^2 - 2 a.b)), as
// baselines::kernel_block computes it; b_sq starts at the first column.
__global__ void rbf_epilogue_kernel(float* k, int64_t n_rows, int64_t n_cols, const float* a_sq,
                                    const float* b_sq, float gamma) {
  const int64_t total = n_rows * n_cols;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / n_cols, c = i - r * n_cols;
    const float sq = fmaxf(0.0f, a_sq[r] + b_sq[c] - 2.0f * k[i]);
    k[i] = expf(-gamma * sq);
  }
}

// ws[pos[r], :] = k[r, :] for r < n_rows (rows of length l)
__global__ void scatter_rows_kernel(const float* k, const int64_t* pos, int64_t n_rows, int64_t l,
                                    float* ws) {
  const int64_t total = n_rows * l;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / l, c = i - r * l;
    ws[pos[r] * l + c] = k[i];
  }
}

// sub[a, b] = ws[a, cols[b]] for a, b < q
__global__ void ws_submatrix_kernel(const float* ws, int64_t l, const int64_t* cols, int64_t q,
                                    float* sub) {
  const int64_t total = q * q;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t a = i / q, b = i - a * q;
    sub[i] = ws[a * l + cols[b]];
  }
}

// out[k] = sum_r c[r] ws[pos[r], k] in double; one thread per column, rows read coalesced
__global__ void ws_combine_kernel(const float* ws, int64_t l, const int64_t* pos, const double* c,
                                  int64_t n, double* out) {
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < l;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    double acc = 0;
    for (int64_t r = 0; r < n; ++r) acc += c[r] * static_cast<double>(ws[pos[r] * l + k]);
    out[k] = acc;
  }
}

int set_device(int device) {
  HP_CUDA_CHECK(cudaSetDevice(device));
  return device;
}

}  // namespace

KernelRows::KernelRows(const baselines::KernelParams& p, const float* B, const float* b_sq,
                       int64_t l, int64_t d, int device)
    : p_(p), device_(set_device(device)), l_(l), d_(d) {
  HP_NVTX_RANGE("svm kernel upload");
  HP_CUBLAS_CHECK(cublasSetStream(blas_.get(), stream_.get()));
  HP_CUBLAS_CHECK(cublasSetMathMode(blas_.get(), CUBLAS_DEFAULT_MATH));
  if (l == 0) return;  // no support vector: every block is empty
  b_ = DeviceBuffer<float>(static_cast<size_t>(l * d), stream_.get());
  b_sq_ = DeviceBuffer<float>(static_cast<size_t>(l), stream_.get());
  HP_CUDA_CHECK(
      cudaMemcpyAsync(b_.data(), B, l * d * sizeof(float), cudaMemcpyHostToDevice, stream_.get()));
  HP_CUDA_CHECK(cudaMemcpyAsync(b_sq_.data(), b_sq, l * sizeof(float), cudaMemcpyHostToDevice,
                                stream_.get()));
  stream_.synchronize();  // B may go when this returns
}

cudaStream_t KernelRows::begin_block(int64_t n_rows, int64_t n_cols) {
  HP_CUDA_CHECK(cudaSetDevice(device_));
  const cudaStream_t s = stream_.get();
  if (a_sq_.size() < static_cast<size_t>(n_rows)) {
    a_ = DeviceBuffer<float>(static_cast<size_t>(n_rows * d_), s);
    a_sq_ = DeviceBuffer<float>(static_cast<size_t>(n_rows), s);
    rows_ = DeviceBuffer<int64_t>(static_cast<size_t>(n_rows), s);
  }
  const size_t values = static_cast<size_t>(n_rows * n_cols);
  if (k_.size() < values) k_ = DeviceBuffer<float>(values, s);
  return s;
}

void KernelRows::kernel_block(const int64_t* rows, int64_t n_rows, int64_t col_begin,
                              int64_t col_end, float* out, int64_t ld) {
  if (n_rows == 0 || col_end <= col_begin) return;
  const cudaStream_t s = begin_block(n_rows, col_end - col_begin);
  HP_CUDA_CHECK(
      cudaMemcpyAsync(rows_.data(), rows, n_rows * sizeof(int64_t), cudaMemcpyHostToDevice, s));
  gather_rows_kernel<<<blocks_for(n_rows * d_), kThreads, 0, s>>>(
      b_.data(), b_sq_.data(), rows_.data(), n_rows, d_, a_.data(), a_sq_.data());
  HP_CHECK_LAUNCH();
  compute(n_rows, col_begin, col_end, out, ld);
}

void KernelRows::kernel_block(const float* A, const float* a_sq, int64_t n_rows, int64_t col_begin,
                              int64_t col_end, float* out, int64_t ld) {
  if (n_rows == 0 || col_end <= col_begin) return;
  const cudaStream_t s = begin_block(n_rows, col_end - col_begin);
  HP_CUDA_CHECK(
      cudaMemcpyAsync(a_.data(), A, n_rows * d_ * sizeof(float), cudaMemcpyHostToDevice, s));
  HP_CUDA_CHECK(
      cudaMemcpyAsync(a_sq_.data(), a_sq, n_rows * sizeof(float), cudaMemcpyHostToDevice, s));
  compute(n_rows, col_begin, col_end, out, ld);
}

void KernelRows::compute(int64_t n_rows, int64_t col_begin, int64_t col_end, float* out,
                         int64_t ld) {
  HP_NVTX_RANGE("svm kernel rows");
  const cudaStream_t s = stream_.get();
  const int64_t n_cols = col_end - col_begin;
  gemm_block(n_rows, col_begin, col_end);
  // pinned staging only for the blocks that come to the host (not the working set's rows)
  const size_t values = static_cast<size_t>(n_rows * n_cols);
  if (host_.size() < values) host_ = PinnedBuffer<float>(values);
  HP_CUDA_CHECK(cudaMemcpyAsync(host_.data(), k_.data(), n_rows * n_cols * sizeof(float),
                                cudaMemcpyDeviceToHost, s));
  stream_.synchronize();  // the solver reads the rows now
  for (int64_t r = 0; r < n_rows; ++r) {
    std::memcpy(out + r * ld, host_.data() + r * n_cols, n_cols * sizeof(float));
  }
}

void KernelRows::gemm_block(int64_t n_rows, int64_t col_begin, int64_t col_end) {
  const cudaStream_t s = stream_.get();
  const int64_t n_cols = col_end - col_begin;
  // Row-major k [n_rows, n_cols] is column-major [n_cols, n_rows]: k^T = B_cols a^T, with B and
  // a row-major [*, d], i.e. column-major [d, *].
  const float one = 1.0f, zero = 0.0f;
  HP_CUBLAS_CHECK(cublasSgemm(blas_.get(), CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n_cols),
                              static_cast<int>(n_rows), static_cast<int>(d_), &one,
                              b_.data() + col_begin * d_, static_cast<int>(d_), a_.data(),
                              static_cast<int>(d_), &zero, k_.data(), static_cast<int>(n_cols)));
  if (p_.type == baselines::KernelType::rbf) {
    rbf_epilogue_kernel<<<blocks_for(n_rows * n_cols), kThreads, 0, s>>>(
        k_.data(), n_rows, n_cols, a_sq_.data(), b_sq_.data() + col_begin,
        static_cast<float>(p_.gamma));
    HP_CHECK_LAUNCH();
  }
}

void KernelRows::ws_fill(const int64_t* rows, const int64_t* pos, int64_t n, int64_t q) {
  HP_NVTX_RANGE("svm working set rows");
  const cudaStream_t s = begin_block(n, l_);
  if (ws_q_ < q) {
    ws_ = DeviceBuffer<float>(static_cast<size_t>(q * l_), s);
    ws_sub_ = DeviceBuffer<float>(static_cast<size_t>(q * q), s);
    ws_idx_ = DeviceBuffer<int64_t>(static_cast<size_t>(q), s);
    ws_coef_ = DeviceBuffer<double>(static_cast<size_t>(q), s);
    ws_out_ = DeviceBuffer<double>(static_cast<size_t>(l_), s);
    ws_idx_host_ = PinnedBuffer<int64_t>(static_cast<size_t>(q));
    ws_coef_host_ = PinnedBuffer<double>(static_cast<size_t>(q));
    ws_out_host_ = PinnedBuffer<double>(static_cast<size_t>(l_));
    ws_sub_host_ = PinnedBuffer<float>(static_cast<size_t>(q * q));
    ws_q_ = q;
  }
  if (n == 0) return;
  // from pageable memory: staged before cudaMemcpyAsync returns, so the caller may reuse it
  // (the pinned staging buffers are for the calls that synchronise)
  HP_CUDA_CHECK(
      cudaMemcpyAsync(rows_.data(), rows, n * sizeof(int64_t), cudaMemcpyHostToDevice, s));
  HP_CUDA_CHECK(
      cudaMemcpyAsync(ws_idx_.data(), pos, n * sizeof(int64_t), cudaMemcpyHostToDevice, s));
  gather_rows_kernel<<<blocks_for(n * d_), kThreads, 0, s>>>(b_.data(), b_sq_.data(), rows_.data(),
                                                             n, d_, a_.data(), a_sq_.data());
  HP_CHECK_LAUNCH();
  gemm_block(n, 0, l_);
  scatter_rows_kernel<<<blocks_for(n * l_), kThreads, 0, s>>>(k_.data(), ws_idx_.data(), n, l_,
                                                              ws_.data());
  HP_CHECK_LAUNCH();  // no synchronisation: the next call's work follows on the stream
}

void KernelRows::ws_submatrix(const int64_t* cols, int64_t q, float* out) {
  HP_NVTX_RANGE("svm working set submatrix");
  HP_CUDA_CHECK(cudaSetDevice(device_));
  const cudaStream_t s = stream_.get();
  std::memcpy(ws_idx_host_.data(), cols, q * sizeof(int64_t));
  HP_CUDA_CHECK(cudaMemcpyAsync(ws_idx_.data(), ws_idx_host_.data(), q * sizeof(int64_t),
                                cudaMemcpyHostToDevice, s));
  ws_submatrix_kernel<<<blocks_for(q * q), kThreads, 0, s>>>(ws_.data(), l_, ws_idx_.data(), q,
                                                             ws_sub_.data());
  HP_CHECK_LAUNCH();
  HP_CUDA_CHECK(cudaMemcpyAsync(ws_sub_host_.data(), ws_sub_.data(), q * q * sizeof(float),
                                cudaMemcpyDeviceToHost, s));
  stream_.synchronize();
  std::memcpy(out, ws_sub_host_.data(), q * q * sizeof(float));
}

void KernelRows::ws_combine(const int64_t* pos, const double* c, int64_t n, double* out) {
  HP_NVTX_RANGE("svm working set gradient");
  HP_CUDA_CHECK(cudaSetDevice(device_));
  const cudaStream_t s = stream_.get();
  std::memcpy(ws_idx_host_.data(), pos, n * sizeof(int64_t));
  std::memcpy(ws_coef_host_.data(), c, n * sizeof(double));
  HP_CUDA_CHECK(cudaMemcpyAsync(ws_idx_.data(), ws_idx_host_.data(), n * sizeof(int64_t),
                                cudaMemcpyHostToDevice, s));
  HP_CUDA_CHECK(cudaMemcpyAsync(ws_coef_.data(), ws_coef_host_.data(), n * sizeof(double),
                                cudaMemcpyHostToDevice, s));
  ws_combine_kernel<<<blocks_for(l_), kThreads, 0, s>>>(ws_.data(), l_, ws_idx_.data(),
                                                        ws_coef_.data(), n, ws_out_.data());
  HP_CHECK_LAUNCH();
  HP_CUDA_CHECK(cudaMemcpyAsync(ws_out_host_.data(), ws_out_.data(), l_ * sizeof(double),
                                cudaMemcpyDeviceToHost, s));
  stream_.synchronize();
  std::memcpy(out, ws_out_host_.data(), l_ * sizeof(double));
}

}  // namespace hptrain::cuda
