// Checks of CUDA runtime, cuFFT and cuBLAS calls: a failure throws hptrain::CudaError naming the
// call, the status code's name and file:line (e.g. "cufftExecD2Z(...): CUFFT_EXEC_FAILED at
// x.cpp:12").
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cufft.h>

#include "hptrain/error.h"

namespace hptrain::cuda {

[[noreturn]] void throw_cuda_error(const char* call, const char* code, const char* file, int line);
// "CUFFT_INVALID_PLAN" for CUFFT_INVALID_PLAN, ...
const char* cufft_status_name(cufftResult status);

}  // namespace hptrain::cuda

#define HP_CUDA_CHECK(call)                                                                       \
  do {                                                                                            \
    const cudaError_t hp_status_ = (call);                                                        \
    if (hp_status_ != cudaSuccess)                                                                \
      ::hptrain::cuda::throw_cuda_error(#call, cudaGetErrorName(hp_status_), __FILE__, __LINE__); \
  } while (0)

#define HP_CUFFT_CHECK(call)                                                                   \
  do {                                                                                         \
    const cufftResult hp_status_ = (call);                                                     \
    if (hp_status_ != CUFFT_SUCCESS)                                                           \
      ::hptrain::cuda::throw_cuda_error(#call, ::hptrain::cuda::cufft_status_name(hp_status_), \
                                        __FILE__, __LINE__);                                   \
  } while (0)

#define HP_CUBLAS_CHECK(call)                                                             \
  do {                                                                                    \
    const cublasStatus_t hp_status_ = (call);                                             \
    if (hp_status_ != CUBLAS_STATUS_SUCCESS)                                              \
      ::hptrain::cuda::throw_cuda_error(#call, cublasGetStatusName(hp_status_), __FILE__, \
                                        __LINE__);                                        \
  } while (0)

// After every kernel launch: a bad launch configuration shows here, not at the next
// synchronisation.
#define HP_CHECK_LAUNCH() HP_CUDA_CHECK(cudaGetLastError())
