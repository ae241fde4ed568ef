// models::out_of_memory_as_error: LibTorch's out-of-memory becomes hptrain's DeviceOutOfMemory
// with the caller's advice and LibTorch's own message; results and other errors pass unchanged;
// on a GPU, a real allocation the card cannot hold.
#include <gtest/gtest.h>

#include <string>

#include "hptrain/error.h"
#include "hptrain/models/torch_device.h"

namespace hptrain::models {
namespace {

const std::string kAdvice = "cnn.toml: lower train.batch_size";

TEST(OutOfMemory, BecomesAnErrorThatSaysWhatToChange) {
  try {
    out_of_memory_as_error(kAdvice, [] {
      TORCH_CHECK_WITH(OutOfMemoryError, false, "CUDA out of memory. Tried to allocate 2.00 GiB");
    });
    FAIL() << "no error";
  } catch (const DeviceOutOfMemory& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(kAdvice, 0), 0u) << what;
    EXPECT_NE(what.find("(LibTorch: CUDA out of memory. Tried to allocate 2.00 GiB"),
              std::string::npos)
        << what;
  }
}

TEST(OutOfMemory, ResultsAndOtherErrorsPassUnchanged) {
  EXPECT_EQ(out_of_memory_as_error(kAdvice, [] { return 42; }), 42);
  EXPECT_THROW(out_of_memory_as_error(kAdvice, [] { TORCH_CHECK(false, "shape mismatch"); }),
               c10::Error);
  EXPECT_THROW(out_of_memory_as_error(kAdvice, [] { throw InputError("bad file"); }), InputError);
}

TEST(OutOfMemory, CudaAllocationBeyondTheCardIsCaught) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "LibTorch sees no CUDA device";
  // 2^42 floats: 16 TiB, more than any card holds
  EXPECT_THROW(out_of_memory_as_error(
                   kAdvice, [] { return torch::empty({int64_t{1} << 42}, torch::kCUDA).numel(); }),
               DeviceOutOfMemory);
}

}  // namespace
}  // namespace hptrain::models
