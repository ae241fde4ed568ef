// Streaming audio decoding to mono float32 at a target rate: libsndfile (WAV/FLAC/OGG/MP3...)
// or FFmpeg (video containers, AAC, AC-3, Opus...), mean-of-channels downmix, libsoxr HQ resample.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace hptrain::io {

// What was opened: the source's own rate and channel count (before downmix and resampling).
struct AudioInfo {
  std::string path;
  int sample_rate = 0;
  int channels = 0;
  int64_t frames = -1;  // source frames; -1 when the container does not say
  std::string decoder;  // "sndfile" or "ffmpeg"
};

// Streams `path` as mono float32 at `sr` (decode -> mean of channels -> soxr HQ resample).
// libsndfile is tried first; files it cannot open go to FFmpeg (when built with it).
// `stream_index` is the container's stream number as ffprobe lists it (0:N); -1 picks the
// first audio stream. Memory is bounded by one decode block, whatever the file's length and
// whatever the ratio of the rates (soxr's output is taken a block at a time). A source rate
// below kMinSourceRate is an InputError: no real recording has one, and a broken header that
// claims 1 Hz would turn each input sample into `sr` output samples.
// Every error is an InputError naming the file and the reason.
inline constexpr int kMinSourceRate = 16;  // Hz: the lowest `sr` the preprocess config takes

class MonoReader {
 public:
  MonoReader(const std::string& path, int sr, int stream_index = -1);
  ~MonoReader();
  MonoReader(MonoReader&&) noexcept;
  MonoReader& operator=(MonoReader&&) noexcept;
  MonoReader(const MonoReader&) = delete;
  MonoReader& operator=(const MonoReader&) = delete;

  const AudioInfo& info() const;
  int sample_rate() const;                      // the output rate `sr`
  size_t read(float* out, size_t max_samples);  // 0 at the end
  // Floats the reader's buffers hold allocated now (decode block, soxr output, pending output):
  // what "bounded by one decode block" means, for tests to check.
  size_t buffer_capacity() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The whole file through MonoReader.
std::vector<float> load_mono(const std::string& path, int sr, int stream_index = -1);

// Writes mono float32 WAV at `sr`, atomically (fs::atomic_write).
void write_wav(const std::filesystem::path& path, const float* samples, size_t n, int sr);

// Why `path` cannot be read as an input file, or "" when it can: it must be a regular file
// (after symlinks) this process may open. The reasons: "no such file", "is a directory", "not a
// regular file (a FIFO)" (or a character device, block device, socket), or the OS's own
// ("Permission denied", "Too many levels of symbolic links", ...). Nothing is read, so a FIFO
// without a writer or a device is refused at once instead of blocking the reader; MonoReader
// asks it first.
inline constexpr const char* kNoSuchFile = "no such file";
std::string input_file_problem(const std::filesystem::path& path);

// True when the file name has an extension of an audio or video format this build can decode
// (used to pick files out of a folder; the content decides the decoder, not the name).
bool is_media_file(const std::filesystem::path& path);

}  // namespace hptrain::io
