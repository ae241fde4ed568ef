// Fuzz target `sndfile`: arbitrary bytes as a file for libsndfile (io::detail::open_sndfile and
// every block), then, when it opens, MonoReader at another rate (FFmpeg fallback, soxr).
#include <cmath>

#include "hptrain/error.h"
#include "hptrain/io/audio.h"
#include "io/decoder.h"
#include "targets.h"

namespace hptrain::fuzz {

// Reads every block of `dec`, checking what the decoders promise: mono, finite, bounded blocks.
void drain(io::detail::Decoder& dec) {
  const auto& info = dec.info();
  HP_FUZZ_CHECK(
      info.sample_rate > 0 && info.channels > 0,
      std::to_string(info.channels) + " channels at " + std::to_string(info.sample_rate) + " Hz");
  std::vector<float> block;
  while (dec.read_mono(block)) {
    HP_FUZZ_CHECK(!block.empty(), "an empty block before the end");
    for (float v : block) HP_FUZZ_CHECK(std::isfinite(v), "a non-finite sample");
  }
  HP_FUZZ_CHECK(block.empty(), "samples at the end");
}

int fuzz_sndfile(const uint8_t* data, size_t size) {
  quiet();
  const auto path = scratch_file("input", data, size).string();
  try {
    std::string why;
    auto dec = io::detail::open_sndfile(path, -1, &why);
    if (dec == nullptr) return 0;
    drain(*dec);
  } catch (const Error&) {
    return 0;
  }
  try {
    io::MonoReader reader(path, 8000);
    std::vector<float> out(4096);
    while (const size_t n = reader.read(out.data(), out.size())) {
      for (size_t i = 0; i < n; ++i) HP_FUZZ_CHECK(std::isfinite(out[i]), "a non-finite sample");
    }
  } catch (const Error&) {
  }
  return 0;
}

}  // namespace hptrain::fuzz
