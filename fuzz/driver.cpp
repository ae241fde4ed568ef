// libFuzzer's entry: one executable per target, HP_FUZZ_ENTRY names its function (fuzz/CMakeLists).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hptrain::fuzz::HP_FUZZ_ENTRY(data, size);
}
