// Random-forest split search on the GPU: one block per (node, feature) builds the class histogram
// of bootstrap draws in shared memory (integer counts, so the order rows arrive in does not
// matter) and scans it with baselines::best_bin_split, the host's own code; one thread per node
// then keeps the best feature as the CPU's BestSplitter does. As cuML's batched level-wise
// builder (rapidsai/cuml:cpp/src/decisiontree/batched-levelalgo/builder.cuh), nodes of a level
// of every tree go in one launch.
#include "hptrain/cuda/forest.h"

#include <algorithm>
#include <string>

#include "hptrain/cuda/nvtx.h"

namespace hptrain::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kBins = 256;                       // uint8 bins
constexpr int64_t kMaxItems = int64_t{1} << 18;  // (node, feature) histograms per launch

// Dynamic shared memory of a histogram block: [4 C] doubles, then [kBins, C] + [kBins] counts,
// then [kBins] bin indices.
size_t histogram_smem(int C) {
  return sizeof(double) * 4 * C + sizeof(uint32_t) * (kBins * C + kBins) + sizeof(int) * kBins;
}

// Item i (a feature of a node) of this launch is features[f0 + i] of node item_node[f0 + i].
__global__ void histogram_split_kernel(const uint8_t* binned, int64_t n, const int32_t* y, int C,
                                       const int32_t* rows, const int32_t* draws,
                                       const double* tree_cw, const ForestNode* nodes,
                                       const int32_t* features, const int32_t* item_node,
                                       int64_t f0, const double* node_draws,
                                       baselines::Criterion crit, int64_t min_leaf,
                                       ForestNodeResult* out, double* out_left) {
  extern __shared__ double smem[];
  double* scratch = smem;                                      // [3 C]
  double* ndraws = smem + 3 * C;                               // [C]
  uint32_t* hist = reinterpret_cast<uint32_t*>(smem + 4 * C);  // [kBins, C] draws
  uint32_t* cnt = hist + kBins * C;                            // [kBins] distinct rows
  int* bins = reinterpret_cast<int*>(cnt + kBins);             // [kBins] non-empty bins
  const int64_t item = f0 + blockIdx.x;
  const int32_t node = item_node[item];
  const ForestNode nd = nodes[node];
  for (int i = threadIdx.x; i < kBins * C; i += blockDim.x) hist[i] = 0;
  for (int i = threadIdx.x; i < kBins; i += blockDim.x) cnt[i] = 0;
  for (int k = threadIdx.x; k < C; k += blockDim.x) {
    ndraws[k] = node_draws[static_cast<int64_t>(node) * C + k];
  }
  __syncthreads();
  const int f = features[item];
  const uint8_t* col = binned + static_cast<int64_t>(f) * n;
  for (int64_t s = nd.begin + threadIdx.x; s < nd.end; s += blockDim.x) {
    const int32_t row = rows[s];
    const int b = col[row];
    atomicAdd(&cnt[b], 1u);
    atomicAdd(&hist[b * C + y[row]], static_cast<uint32_t>(draws[s]));
  }
  __syncthreads();
  if (threadIdx.x != 0) return;
  int n_visit = 0;
  for (int b = 0; b < kBins; ++b) {
    if (cnt[b] > 0) bins[n_visit++] = b;
  }
  ForestNodeResult r;
  r.non_constant = n_visit > 1 ? 1 : 0;
  if (n_visit > 1) {
    baselines::best_bin_split(crit, hist, cnt, bins, n_visit, C, tree_cw + nd.tree * C, ndraws,
                              nd.end - nd.begin, min_leaf, f, scratch, r.best);
  }
  out[blockIdx.x] = r;
  double* left = out_left + static_cast<int64_t>(blockIdx.x) * C;
  for (int k = 0; k < C; ++k) left[k] = 0;
  for (int b = 0; b <= r.best.bin; ++b) {  // bin -1 when there is no split
    for (int k = 0; k < C; ++k) left[k] += hist[b * C + k];
  }
}

// ref: sklearn/tree/_splitter.pyx BestSplitter.node_split: features in draw order, a strictly
// better proxy wins; in first_only mode the first non-constant feature decides.
__global__ void choose_split_kernel(const ForestNode* nodes, int64_t n0, int64_t count, int64_t f0,
                                    const ForestNodeResult* items, const double* item_left, int C,
                                    ForestNodeResult* out, double* out_left) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const ForestNode nd = nodes[n0 + i];
  ForestNodeResult r;
  int64_t chosen = -1;
  for (int64_t it = nd.feat_begin - f0; it < nd.feat_end - f0; ++it) {
    const ForestNodeResult& c = items[it];
    if (c.non_constant == 0) continue;
    ++r.non_constant;
    if (c.best.proxy > r.best.proxy) {
      r.best = c.best;
      chosen = it;
    }
    if (nd.first_only) break;
  }
  out[i] = r;
  for (int k = 0; k < C; ++k) out_left[i * C + k] = chosen >= 0 ? item_left[chosen * C + k] : 0;
}

// One block per split node; the order of rows inside a child does not matter (counts only).
__global__ void partition_kernel(const ForestSplit* splits, const uint8_t* binned, int64_t n,
                                 const int32_t* rows_in, const int32_t* draws_in, int32_t* rows_out,
                                 int32_t* draws_out) {
  __shared__ unsigned int n_left, n_right;
  const ForestSplit sp = splits[blockIdx.x];
  if (threadIdx.x == 0) {
    n_left = 0;
    n_right = 0;
  }
  __syncthreads();
  const uint8_t* col = binned + static_cast<int64_t>(sp.feature) * n;
  for (int64_t s = sp.begin + threadIdx.x; s < sp.end; s += blockDim.x) {
    const int32_t row = rows_in[s];
    const int64_t dst = col[row] <= sp.bin ? sp.begin + atomicAdd(&n_left, 1u)
                                           : sp.begin + sp.n_left + atomicAdd(&n_right, 1u);
    rows_out[dst] = row;
    draws_out[dst] = draws_in[s];
  }
}

int set_device(int device) {
  HP_CUDA_CHECK(cudaSetDevice(device));
  return device;
}

// `buf` holds at least `count` values (reallocated, contents lost, when it is smaller).
template <class T>
void reserve(DeviceBuffer<T>& buf, size_t count, cudaStream_t stream) {
  if (buf.size() < count) buf = DeviceBuffer<T>(count, stream);
}

template <class T>
void upload(DeviceBuffer<T>& buf, const T* host, size_t count, cudaStream_t stream) {
  reserve(buf, count, stream);
  if (count > 0) {
    HP_CUDA_CHECK(
        cudaMemcpyAsync(buf.data(), host, count * sizeof(T), cudaMemcpyHostToDevice, stream));
  }
}

}  // namespace

ForestHistogram::ForestHistogram(const ForestData& data, int device)
    : device_(set_device(device)),
      n_(data.n),
      d_(data.d),
      n_classes_(data.n_classes),
      crit_(data.crit),
      min_leaf_(data.min_samples_leaf) {
  if (n_classes_ < 1 || n_classes_ > kForestMaxClasses) {
    throw InputError("GPU forest: " + std::to_string(n_classes_) + " classes; at most " +
                     std::to_string(kForestMaxClasses) + " fit its shared-memory histograms");
  }
  HP_NVTX_RANGE("forest upload");
  const cudaStream_t s = stream_.get();
  upload(binned_, data.binned, static_cast<size_t>(n_ * d_), s);
  upload(y_, data.y, static_cast<size_t>(n_), s);
  upload(rows_[0], data.slot_rows, static_cast<size_t>(data.slots), s);
  upload(draws_[0], data.slot_draws, static_cast<size_t>(data.slots), s);
  reserve(rows_[1], static_cast<size_t>(data.slots), s);
  reserve(draws_[1], static_cast<size_t>(data.slots), s);
  upload(tree_cw_, data.tree_cw, static_cast<size_t>(data.n_trees) * n_classes_, s);
  stream_.synchronize();  // the host arrays may go when this returns
}

void ForestHistogram::search(const std::vector<ForestNode>& nodes,
                             const std::vector<int32_t>& features,
                             const std::vector<double>& node_draws,
                             std::vector<ForestNodeResult>& results,
                             std::vector<double>& left_draws) {
  HP_NVTX_RANGE("forest search");
  HP_CUDA_CHECK(cudaSetDevice(device_));
  const cudaStream_t s = stream_.get();
  const int C = n_classes_;
  const int64_t N = static_cast<int64_t>(nodes.size());
  std::vector<int32_t> item_node(features.size());
  for (int64_t i = 0; i < N; ++i) {
    std::fill(item_node.begin() + nodes[i].feat_begin, item_node.begin() + nodes[i].feat_end,
              static_cast<int32_t>(i));
  }
  upload(nodes_, nodes.data(), nodes.size(), s);
  upload(features_, features.data(), features.size(), s);
  upload(item_node_, item_node.data(), item_node.size(), s);
  upload(node_draws_, node_draws.data(), node_draws.size(), s);
  results.resize(N);
  left_draws.resize(static_cast<size_t>(N) * C);
  const size_t smem = histogram_smem(C);
  for (int64_t n0 = 0; n0 < N;) {
    // a batch of whole nodes with at most kMaxItems features (at least one node)
    const int64_t f0 = nodes[n0].feat_begin;
    int64_t n1 = n0 + 1;
    while (n1 < N && nodes[n1].feat_end - f0 <= kMaxItems) ++n1;
    const int64_t items = nodes[n1 - 1].feat_end - f0;
    const int64_t count = n1 - n0;
    reserve(item_results_, static_cast<size_t>(items), s);
    reserve(item_left_, static_cast<size_t>(items) * C, s);
    reserve(results_, static_cast<size_t>(count), s);
    reserve(left_, static_cast<size_t>(count) * C, s);
    if (host_results_.size() < static_cast<size_t>(count)) {
      host_results_ = PinnedBuffer<ForestNodeResult>(static_cast<size_t>(count));
      host_left_ = PinnedBuffer<double>(static_cast<size_t>(count) * C);
    }
    if (items > 0) {
      histogram_split_kernel<<<static_cast<unsigned>(items), kThreads, smem, s>>>(
          binned_.data(), n_, y_.data(), C, rows_[cur_].data(), draws_[cur_].data(),
          tree_cw_.data(), nodes_.data(), features_.data(), item_node_.data(), f0,
          node_draws_.data(), crit_, min_leaf_, item_results_.data(), item_left_.data());
      HP_CHECK_LAUNCH();
    }
    choose_split_kernel<<<static_cast<unsigned>((count + kThreads - 1) / kThreads), kThreads, 0,
                          s>>>(nodes_.data(), n0, count, f0, item_results_.data(),
                               item_left_.data(), C, results_.data(), left_.data());
    HP_CHECK_LAUNCH();
    HP_CUDA_CHECK(cudaMemcpyAsync(host_results_.data(), results_.data(),
                                  count * sizeof(ForestNodeResult), cudaMemcpyDeviceToHost, s));
    HP_CUDA_CHECK(cudaMemcpyAsync(host_left_.data(), left_.data(), count * C * sizeof(double),
                                  cudaMemcpyDeviceToHost, s));
    stream_.synchronize();  // the host grows the next level from these
    std::copy_n(host_results_.data(), count, results.begin() + n0);
    std::copy_n(host_left_.data(), count * C, left_draws.begin() + n0 * C);
    n0 = n1;
  }
}

void ForestHistogram::partition(const std::vector<ForestSplit>& splits) {
  HP_NVTX_RANGE("forest partition");
  HP_CUDA_CHECK(cudaSetDevice(device_));
  const cudaStream_t s = stream_.get();
  upload(splits_, splits.data(), splits.size(), s);
  const int next = 1 - cur_;
  partition_kernel<<<static_cast<unsigned>(splits.size()), kThreads, 0, s>>>(
      splits_.data(), binned_.data(), n_, rows_[cur_].data(), draws_[cur_].data(),
      rows_[next].data(), draws_[next].data());
  HP_CHECK_LAUNCH();
  cur_ = next;
}

}  // namespace hptrain::cuda
