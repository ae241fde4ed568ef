// Resolves a device setting ("auto", "cpu", "cuda", "cuda:N") to a LibTorch device, scopes bf16
// autocast on CUDA or the CPU (whose API moved in LibTorch 2.4), and turns LibTorch's out-of-memory
// into an error that says what to change.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>

namespace hptrain::models {

// "auto" is cuda:0 when LibTorch sees a CUDA device (and HP_FORCE_CPU is unset), else cpu.
// Throws ConfigError for a malformed spec or a CUDA device that is not there.
torch::Device resolve_device(const std::string& spec);

// While alive and `on`, ops on `device` (CUDA unless given; the CPU too, as inference on CPUs
// with native bf16 uses it) run under bf16 autocast (matmul/conv/LSTM in bf16, reductions and
// losses in float32); the destructor turns it off and clears the cast cache.
class AutocastGuard {
 public:
  explicit AutocastGuard(bool on, const torch::Device& device = torch::kCUDA);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool on_;
  bool cuda_;
};

// Whether this CPU has native bf16 arithmetic (AVX512_BF16; AMX CPUs have it), where oneDNN's
// bf16 convolutions beat fp32 (bench/results/2026-12-06-cpu-embed-fast.md); elsewhere oneDNN
// emulates bf16, slower than fp32.
bool cpu_has_bf16();

// Throws DeviceOutOfMemory: "<context> (LibTorch: <its message>)".
[[noreturn]] void throw_out_of_memory(const std::string& context, const c10::OutOfMemoryError& e);

// Runs `work`; LibTorch running out of memory (c10::OutOfMemoryError, from its CUDA allocator)
// becomes DeviceOutOfMemory with `context` (the file and key to change); other errors pass.
template <class F>
auto out_of_memory_as_error(const std::string& context, F&& work) -> decltype(work()) {
  try {
    return std::forward<F>(work)();
  } catch (const c10::OutOfMemoryError& e) {
    throw_out_of_memory(context, e);
  }
}

}  // namespace hptrain::models
