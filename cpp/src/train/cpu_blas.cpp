// The BLAS of LibTorch's CPU products, found in the process (cpu_blas.h).
#include "train/cpu_blas.h"

#include <dlfcn.h>

#include <filesystem>
#include <system_error>

#include "hptrain/log.h"

namespace hptrain::train::detail {

CpuBlas classify_cpu_blas(const std::string& library, OpenBlasThreads threads) {
  CpuBlas b;
  b.library = library;
  switch (threads) {
    case OpenBlasThreads::kSerial:
      b.name = "OpenBLAS serial";
      return b;
    case OpenBlasThreads::kPthreads:
      b.name = "OpenBLAS pthreads set to 1 thread";
      return b;
    case OpenBlasThreads::kOpenMp:
      b.name = "OpenBLAS OpenMP";
      return b;
    case OpenBlasThreads::kNotOpenBlas:
      break;
  }
  if (library.empty()) {
    b.name = "BLAS not found";
    return b;
  }
  const std::filesystem::path file(library);
  if (file.parent_path().filename() == "blas") {
    b.name = "reference BLAS";
    b.advice = "LibTorch's CPU matrix products run on the reference BLAS (" + library + ")" +
               ", which trains an LSTM 7-8x and a transformer 3x slower than OpenBLAS: "
               "install libopenblas0-openmp (scripts/setup.sh does)";
    return b;
  }
  b.name = "BLAS in " + file.filename().string();
  return b;
}

const CpuBlas& cpu_blas() {
  static const CpuBlas blas = [] {
    Dl_info info{};
    void* gemm = dlsym(RTLD_DEFAULT, "sgemm_");
    if (gemm == nullptr || dladdr(gemm, &info) == 0 || info.dli_fname == nullptr) {
      return classify_cpu_blas("", OpenBlasThreads::kNotOpenBlas);
    }
    // OpenBLAS's entry points in that very library (liblapack.so.3 may be another one's)
    auto threads = OpenBlasThreads::kNotOpenBlas;
    if (void* lib = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD)) {
      if (auto* get = reinterpret_cast<int (*)()>(dlsym(lib, "openblas_get_parallel"))) {
        threads = static_cast<OpenBlasThreads>(get());
        auto* set = reinterpret_cast<void (*)(int)>(dlsym(lib, "openblas_set_num_threads"));
        if (threads == OpenBlasThreads::kPthreads && set != nullptr) set(1);
      }
      dlclose(lib);
    }
    std::error_code ec;
    const auto resolved = std::filesystem::canonical(info.dli_fname, ec);
    CpuBlas b = classify_cpu_blas(ec ? std::string(info.dli_fname) : resolved.string(), threads);
    if (!b.advice.empty()) HP_LOG_WARN("{}", b.advice);
    return b;
  }();
  return blas;
}

}  // namespace hptrain::train::detail
