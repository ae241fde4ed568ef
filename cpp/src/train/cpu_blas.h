// The BLAS that LibTorch's CPU matrix products run on (a linear layer, an LSTM's steps): which
// library it is, and what to change when it is a slow one (README, "Install and build").
#pragma once

#include <string>

namespace hptrain::train::detail {

// How OpenBLAS was built, as openblas_get_parallel() says (0, 1, 2); kNotOpenBlas otherwise.
enum class OpenBlasThreads { kNotOpenBlas = -1, kSerial = 0, kPthreads = 1, kOpenMp = 2 };

struct CpuBlas {
  std::string library;  // the file the products resolve to, links followed; empty if none found
  std::string name;     // "OpenBLAS OpenMP", "reference BLAS", "BLAS in libtorch_cpu.so", ...
  std::string advice;   // a warning's text when this BLAS is a slow one for LibTorch; else empty
};

// What `library` (a resolved path; empty when no sgemm_ is visible: PyPI's LibTorch carries MKL)
// built as `threads` is for LibTorch: the reference BLAS (Debian's netlib, in a `blas` folder)
// is named slow, with the package that fixes it.
CpuBlas classify_cpu_blas(const std::string& library, OpenBlasThreads threads);

// This process's BLAS. The first call logs the advice as a warning and sets a pthreads OpenBLAS
// to one thread of its own: LibTorch's threads work around its calls, and its own pool beside
// them made an LSTM's training step 2.5-4x slower on two cores
// (bench/results/2026-12-07-cpu-blas.md). The OpenMP build shares LibTorch's OpenMP threads and
// is left as it is.
const CpuBlas& cpu_blas();

}  // namespace hptrain::train::detail
