// Internal to hp_io: the decoders behind MonoReader. Each yields mono float32 blocks at the
// source's own rate (mean of channels), checking every sample is finite.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hptrain/io/audio.h"

namespace hptrain::io::detail {

class Decoder {
 public:
  virtual ~Decoder() = default;
  const AudioInfo& info() const { return info_; }
  // Replaces `out` with the next block of mono samples; false (and `out` empty) at the end.
  virtual bool read_mono(std::vector<float>& out) = 0;

 protected:
  // Appends the mean of the channels of `frames` interleaved frames to `out`; throws
  // InputError naming the file and the time of the first NaN or infinite sample.
  void downmix(const float* interleaved, size_t frames, int channels, std::vector<float>& out);
  [[noreturn]] void fail(const std::string& why) const;

  AudioInfo info_;
  int64_t frames_done_ = 0;
};

// Samples per block a decoder aims for (per channel).
constexpr size_t kBlockFrames = 1 << 15;

// nullptr (and the reason in `why`) when libsndfile does not recognise the file.
std::unique_ptr<Decoder> open_sndfile(const std::string& path, int stream_index, std::string* why);
#ifdef HP_WITH_FFMPEG
std::unique_ptr<Decoder> open_ffmpeg(const std::string& path, int stream_index);
#endif

}  // namespace hptrain::io::detail
