// Fuzz target `ffmpeg`: arbitrary bytes as a file for FFmpeg (io::detail::open_ffmpeg and
// every block). Without FFmpeg in the build it returns at once.
#include "hptrain/error.h"
#include "io/decoder.h"
#include "targets.h"

namespace hptrain::fuzz {

int fuzz_ffmpeg([[maybe_unused]] const uint8_t* data, [[maybe_unused]] size_t size) {
#ifdef HP_WITH_FFMPEG
  quiet();
  const auto path = scratch_file("input", data, size).string();
  try {
    auto dec = io::detail::open_ffmpeg(path, -1);
    drain(*dec);
  } catch (const Error&) {
  }
#endif
  return 0;
}

}  // namespace hptrain::fuzz
