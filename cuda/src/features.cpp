// The GPU resources the feature twins share (hptrain/cuda/features.h): the cuBLAS handle and the
// cuFFT plans of a Context, the window on the device and the items' maxima. The twins are in
// their stage's .cu (stft.cu, spectral.cu, contrast.cu, tuning.cu, signal.cu, stats.cu).
#include "hptrain/cuda/features.h"

#include <string>

#include "hptrain/log.h"

namespace hptrain::cuda {

DeviceWindow::DeviceWindow(const std::vector<double>& window, cudaStream_t stream)
    : f64(to_device(window, stream)),
      f32(to_device(std::vector<float>(window.begin(), window.end()), stream)) {}

cublasHandle_t Context::blas(cudaStream_t stream) {
  if (!blas_) blas_ = std::make_unique<BlasHandle>();
  HP_CUBLAS_CHECK(cublasSetStream(blas_->get(), stream));
  return blas_->get();
}

const FftPlan& Context::fft(const FftKey& key) {
  auto it = plans_.find(key);
  if (it == plans_.end()) it = plans_.emplace(key, FftPlan(key)).first;
  return it->second;
}

const FftPlan* Context::stft_callback_plan(int n, int64_t rows, bool f64, cudaStream_t stream) {
  if (framing_ == FftFraming::kernel || framing_ == FftFraming::radix || callbacks_failed_) {
    return nullptr;
  }
  const FftKey key{n, rows, f64, true, stream};
  if (framing_ == FftFraming::callbacks) return &fft(key);
  try {
    return &fft(key);
  } catch (const CudaError& e) {
    callbacks_failed_ = true;
    HP_LOG_WARN(
        "cuFFT could not make the STFT's callback plan ({}): the framing kernel from now on",
        e.what());
    return nullptr;
  }
}

ItemMaxima::ItemMaxima(int64_t batch, cudaStream_t stream)
    : keys(static_cast<size_t>(batch), stream) {}

uint32_t* ItemMaxima::keys_of(const ItemMaxima* maxima, int64_t batch, const char* what) {
  if (maxima == nullptr) return nullptr;
  if (maxima->keys.size() != static_cast<size_t>(batch)) {
    throw InputError(std::string(what) + ": ItemMaxima of " + std::to_string(maxima->keys.size()) +
                     " items for a batch of " + std::to_string(batch));
  }
  return maxima->keys.data();
}

}  // namespace hptrain::cuda
