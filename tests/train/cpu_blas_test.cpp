// The BLAS of LibTorch's CPU products (src/train/cpu_blas.h): what each kind is called, that
// only the reference BLAS is named slow, and the one this test process runs on.
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <filesystem>
#include <string>

#include "train/cpu_blas.h"

namespace hptrain::train::detail {
namespace {

TEST(CpuBlas, OpenBlasBuildsAreNamedWithoutAdvice) {
  const std::string lib = "/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3";
  const CpuBlas omp = classify_cpu_blas(lib, OpenBlasThreads::kOpenMp);
  EXPECT_EQ(omp.name, "OpenBLAS OpenMP");
  EXPECT_EQ(omp.library, lib);
  EXPECT_TRUE(omp.advice.empty());
  EXPECT_EQ(classify_cpu_blas(lib, OpenBlasThreads::kSerial).name, "OpenBLAS serial");
  EXPECT_TRUE(classify_cpu_blas(lib, OpenBlasThreads::kSerial).advice.empty());
  EXPECT_EQ(classify_cpu_blas(lib, OpenBlasThreads::kPthreads).name,
            "OpenBLAS pthreads set to 1 thread");
  EXPECT_TRUE(classify_cpu_blas(lib, OpenBlasThreads::kPthreads).advice.empty());
  // OpenBLAS is told by its own entry point, wherever its file lies
  EXPECT_TRUE(
      classify_cpu_blas("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", OpenBlasThreads::kOpenMp)
          .advice.empty());
}

TEST(CpuBlas, TheReferenceBlasIsNamedWithItsFix) {
  const std::string ref = "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3";
  const CpuBlas b = classify_cpu_blas(ref, OpenBlasThreads::kNotOpenBlas);
  EXPECT_EQ(b.name, "reference BLAS");
  EXPECT_NE(b.advice.find(ref), std::string::npos) << b.advice;
  EXPECT_NE(b.advice.find("libopenblas0-openmp"), std::string::npos) << b.advice;
}

TEST(CpuBlas, OtherLibrariesAreNamedByTheirFileWithoutAdvice) {
  const CpuBlas blis = classify_cpu_blas("/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3",
                                         OpenBlasThreads::kNotOpenBlas);
  EXPECT_EQ(blis.name, "BLAS in libblas.so.3");
  EXPECT_TRUE(blis.advice.empty());
  // a library in a folder merely ending in "blas" is not the reference one
  EXPECT_TRUE(classify_cpu_blas("/opt/openblas/libopenblas.so", OpenBlasThreads::kNotOpenBlas)
                  .advice.empty());
  const CpuBlas none = classify_cpu_blas("", OpenBlasThreads::kNotOpenBlas);
  EXPECT_EQ(none.name, "BLAS not found");
  EXPECT_TRUE(none.advice.empty());
}

// This process: the file that sgemm_ resolves to, links followed, and a pthreads OpenBLAS left
// with one thread of its own.
TEST(CpuBlas, ThisProcessBlasIsTheFileItsProductsResolveTo) {
  const CpuBlas& b = cpu_blas();
  void* gemm = dlsym(RTLD_DEFAULT, "sgemm_");
  if (gemm == nullptr) {
    EXPECT_TRUE(b.library.empty());
    EXPECT_EQ(b.name, "BLAS not found");
    return;
  }
  Dl_info info{};
  ASSERT_NE(dladdr(gemm, &info), 0);
  EXPECT_TRUE(std::filesystem::equivalent(b.library, info.dli_fname)) << b.library;
  EXPECT_FALSE(std::filesystem::is_symlink(b.library)) << b.library;
  if (auto* get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
      get != nullptr && b.name.rfind("OpenBLAS pthreads", 0) == 0) {
    EXPECT_EQ(get(), 1);
  }
#if HP_TORCH_VERSION_MAJOR == 1
  // Debian's LibTorch links the system's libblas.so.3 (an alternative: reference or OpenBLAS)
  EXPECT_EQ(std::filesystem::path(b.library).filename(), "libblas.so.3") << b.library;
#endif
}

}  // namespace
}  // namespace hptrain::train::detail
