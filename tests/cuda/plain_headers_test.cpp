// hp_cuda reads hp_api's plain headers (the configs, framing, plan, tables, tuning) and nothing
// that parses or writes them: this file includes every header hp_cuda's sources read, first and
// alone, and does not build when one of them brings toml++ or HDF5 in.
#include "hptrain/cuda/extract.h"
#include "hptrain/cuda/features.h"
#include "hptrain/cuda/framing.h"
#include "hptrain/features/config.h"
#include "hptrain/features/framing.h"
#include "hptrain/features/plan.h"
#include "hptrain/features/tables.h"
#include "hptrain/features/tuning.h"

#if defined(TOMLPLUSPLUS_H)
#error "a header hp_cuda reads includes toml++ (hptrain/features/config_io.h is the TOML door)"
#endif
#if defined(H5_VERS_MAJOR)
#error "a header hp_cuda reads includes HDF5"
#endif

#include <gtest/gtest.h>

namespace hptrain::cuda::test {
namespace {

// The plain config still carries every parameter hp_cuda reads, with librosa's defaults.
TEST(PlainHeaders, ConfigIsPlainData) {
  const features::FeatureConfig cfg = features::preset("librosa-default");
  EXPECT_EQ(cfg.stft.n_fft, 2048);
  EXPECT_EQ(cfg.mel.n_mels, 128);
}

}  // namespace
}  // namespace hptrain::cuda::test
