// Host and device feature outputs to torch::Tensor: from_blob with a deleter that owns the
// memory (a moved std::vector, or a pool DeviceBuffer freed in torch's stream order).
#include "hptrain/models/feature_tensors.h"

#include <memory>
#include <utility>
#include <vector>

#ifdef HP_TORCH_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

namespace hptrain::models {

namespace {

#ifdef HP_WITH_CUDA
// Sizes of a device output of `batch` items: [batch, rows, frames] with rows from its size, or
// [batch] for per-item values (frames 0).
std::vector<int64_t> sizes_of(size_t n, int64_t batch, int64_t frames) {
  if (frames == 0) return {batch};
  return {batch, static_cast<int64_t>(n) / (batch * frames), frames};
}

#ifdef HP_TORCH_CUDA
// buf as a CUDA tensor over its memory; the buffer is freed on torch_stream with the tensor.
template <class T>
torch::Tensor device_tensor(cuda::DeviceBuffer<T>&& buf, int64_t batch, int64_t frames,
                            cudaStream_t torch_stream, int device) {
  if (buf.empty()) return {};
  auto owner = std::make_unique<cuda::DeviceBuffer<T>>(std::move(buf));
  owner->free_on(torch_stream);
  T* data = owner->data();
  const std::vector<int64_t> sizes = sizes_of(owner->size(), batch, frames);
  cuda::DeviceBuffer<T>* raw = owner.release();
  return torch::from_blob(
      data, sizes, [raw](void*) { delete raw; },
      torch::TensorOptions()
          .dtype(c10::CppTypeToScalarType<T>::value)
          .device(torch::kCUDA, device));
}
#else
// buf copied into a new CPU tensor, queued on `stream` (the caller synchronises).
template <class T>
torch::Tensor host_tensor(const cuda::DeviceBuffer<T>& buf, int64_t batch, int64_t frames,
                          cudaStream_t stream) {
  if (buf.empty()) return {};
  torch::Tensor t =
      torch::empty(sizes_of(buf.size(), batch, frames), c10::CppTypeToScalarType<T>::value);
  HP_CUDA_CHECK(cudaMemcpyAsync(t.data_ptr(), buf.data(), buf.size() * sizeof(T),
                                cudaMemcpyDeviceToHost, stream));
  return t;
}
#endif
#endif

}  // namespace

torch::Tensor to_tensor(Tensor3&& t) {
  if (t.batch == 0 || t.data.empty()) return {};
  auto owner = std::make_unique<std::vector<float>>(std::move(t.data));
  const std::vector<int64_t> sizes = {t.batch, t.rows, t.frames};
  t = Tensor3();
  float* data = owner->data();
  std::vector<float>* raw = owner.release();
  return torch::from_blob(
      data, sizes, [raw](void*) { delete raw; }, torch::TensorOptions().dtype(torch::kFloat));
}

FeatureTensors to_tensors(features::FeatureSet&& fs) {
  FeatureTensors out;
  out.stft_mag = to_tensor(std::move(fs.stft_mag));
  out.melspectrogram = to_tensor(std::move(fs.melspectrogram));
  out.log_mel = to_tensor(std::move(fs.log_mel));
  out.mfcc = to_tensor(std::move(fs.mfcc));
  out.mfcc_delta = to_tensor(std::move(fs.mfcc_delta));
  out.mfcc_delta2 = to_tensor(std::move(fs.mfcc_delta2));
  out.chroma_stft = to_tensor(std::move(fs.chroma_stft));
  out.spectral_contrast = to_tensor(std::move(fs.spectral_contrast));
  out.zcr = to_tensor(std::move(fs.zcr));
  out.rms = to_tensor(std::move(fs.rms));
  out.stats = to_tensor(std::move(fs.stats));
  if (!fs.tuning.empty()) {
    out.tuning = torch::tensor(fs.tuning, torch::kDouble);  // a handful of values: copied
    fs.tuning.clear();
  }
  return out;
}

#ifdef HP_WITH_CUDA
FeatureTensors to_tensors(cuda::DeviceFeatures&& d, cudaStream_t stream) {
  FeatureTensors out;
  if (d.batch == 0) return out;
  const int64_t B = d.batch, T = d.frames;
  const int64_t D = d.stats.empty() ? 0 : static_cast<int64_t>(d.stats.size()) / B;
#ifdef HP_TORCH_CUDA
  int device = 0;
  HP_CUDA_CHECK(cudaGetDevice(&device));
  const cudaStream_t ts =
      c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device)).stream();
  if (ts != stream) {  // torch's stream waits for the extractor's work, on the device
    cuda::Event ready;
    ready.record(stream);
    HP_CUDA_CHECK(cudaStreamWaitEvent(ts, ready.get(), 0));
  }
  auto convert = [&](auto&& buf, int64_t frames) {
    return device_tensor(std::move(buf), B, frames, ts, device);
  };
#else
  auto convert = [&](const auto& buf, int64_t frames) {
    return host_tensor(buf, B, frames, stream);
  };
#endif
  out.stft_mag = convert(std::move(d.stft_mag), T);
  out.melspectrogram = convert(std::move(d.melspectrogram), T);
  out.log_mel = convert(std::move(d.log_mel), T);
  out.mfcc = convert(std::move(d.mfcc), T);
  out.mfcc_delta = convert(std::move(d.mfcc_delta), T);
  out.mfcc_delta2 = convert(std::move(d.mfcc_delta2), T);
  out.chroma_stft = convert(std::move(d.chroma_stft), T);
  out.spectral_contrast = convert(std::move(d.spectral_contrast), T);
  out.zcr = convert(std::move(d.zcr), d.zcr_frames);
  out.rms = convert(std::move(d.rms), d.rms_frames);
  out.stats = convert(std::move(d.stats), D);
  out.tuning = convert(std::move(d.tuning), 0);
#ifndef HP_TORCH_CUDA
  HP_CUDA_CHECK(cudaStreamSynchronize(stream));
  d = cuda::DeviceFeatures();  // the device copies go back to the pool
#endif
  return out;
}
#endif

}  // namespace hptrain::models
