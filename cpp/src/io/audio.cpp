#include "hptrain/io/audio.h"

#include <fcntl.h>
#include <sndfile.h>
#include <soxr.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <set>
#include <system_error>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "io/decoder.h"

namespace hptrain::io {

namespace detail {

void Decoder::fail(const std::string& why) const {
  throw InputError("cannot decode '" + info_.path + "': " + why);
}

void Decoder::downmix(const float* x, size_t frames, int channels, std::vector<float>& out) {
  const size_t c = static_cast<size_t>(channels);
  if (c == 1) {
    // mono: (0.0f + x) * 1.0f below is x + 0.0f (x, with -0 made +0), checked as a whole
    // first; the loop below names the first NaN or infinite sample
    bool finite = true;
    for (size_t i = 0; i < frames; ++i) finite &= std::fabs(x[i]) <= FLT_MAX;
    if (finite) {
      const size_t o = out.size();
      out.resize(o + frames);
      for (size_t i = 0; i < frames; ++i) out[o + i] = x[i] + 0.0f;
      frames_done_ += static_cast<int64_t>(frames);
      return;
    }
  }
  const float scale = 1.0f / static_cast<float>(channels);
  out.reserve(out.size() + frames);
  for (size_t i = 0; i < frames; ++i) {
    float sum = 0.0f;
    for (size_t k = 0; k < c; ++k) {
      const float v = x[i * c + k];
      if (!std::isfinite(v)) {
        const double t = static_cast<double>(frames_done_ + static_cast<int64_t>(i)) /
                         static_cast<double>(info_.sample_rate);
        fail(std::string(std::isnan(v) ? "NaN" : "infinite") + " sample at " + std::to_string(t) +
             " s (channel " + std::to_string(k) + ")");
      }
      sum += v;
    }
    float mean = sum * scale;
    if (!std::isfinite(mean)) {  // finite samples near +-FLT_MAX whose float sum overflows
      double d = 0.0;
      for (size_t k = 0; k < c; ++k) d += x[i * c + k];
      mean = static_cast<float>(d / static_cast<double>(c));
    }
    out.push_back(mean);
  }
  frames_done_ += static_cast<int64_t>(frames);
}

}  // namespace detail

struct MonoReader::Impl {
  std::unique_ptr<detail::Decoder> dec;
  int sr = 0;
  soxr_t soxr = nullptr;         // null when the source is already at `sr`
  std::vector<float> block;      // the decoded block
  size_t block_pos = 0;          // samples of `block` soxr has taken
  bool flushing = false;         // the decoder is done; soxr is giving out its tail
  std::vector<float> resampled;  // soxr's output buffer
  std::vector<float> pending;    // output not yet handed out
  size_t pending_pos = 0;
  bool done = false;

  ~Impl() {
    if (soxr != nullptr) soxr_delete(soxr);
  }

  // Fills `pending` with the next output; sets `done` at the end. Resampled output comes from
  // one soxr call into a buffer of kBlockFrames samples, so memory stays bounded by a block
  // whatever the ratio of the rates (a 16 Hz source read at 2822400 Hz makes 176400 output
  // samples of each input sample: a whole decoded block at once would be 23 GB).
  void refill() {
    pending.clear();
    pending_pos = 0;
    if (soxr == nullptr) {
      if (!dec->read_mono(pending)) done = true;
      return;
    }
    for (;;) {
      if (!flushing && block_pos == block.size()) {
        block_pos = 0;
        if (!dec->read_mono(block)) flushing = true;
        continue;
      }
      resampled.resize(detail::kBlockFrames);
      size_t idone = 0;
      size_t odone = 0;
      const soxr_error_t err =
          flushing
              ? soxr_process(soxr, nullptr, 0, nullptr, resampled.data(), resampled.size(), &odone)
              : soxr_process(soxr, block.data() + block_pos, block.size() - block_pos, &idone,
                             resampled.data(), resampled.size(), &odone);
      if (err != nullptr) {
        throw InputError("cannot resample '" + dec->info().path + "': " + err);
      }
      block_pos += idone;
      // finite input near +-FLT_MAX can overflow in the filter: an error, never an inf sample
      for (size_t i = 0; i < odone; ++i) {
        if (!std::isfinite(resampled[i])) {
          throw InputError(
              "cannot resample '" + dec->info().path +
              "': it gave a non-finite sample (the file holds samples near the float limit)");
        }
      }
      if (odone > 0) {
        resampled.resize(odone);
        pending.swap(resampled);
        return;
      }
      if (flushing) {
        done = true;
        return;
      }
      if (idone == 0) {
        throw InputError("cannot resample '" + dec->info().path +
                         "': the resampler took no input and gave no output");
      }
    }
  }
};

MonoReader::MonoReader(const std::string& path, int sr, int stream_index)
    : impl_(std::make_unique<Impl>()) {
  if (sr <= 0) {
    throw ConfigError("cannot decode '" + path + "': output sample rate " + std::to_string(sr) +
                      ": must be > 0");
  }
  if (stream_index < -1) {
    throw ConfigError("cannot decode '" + path + "': stream " + std::to_string(stream_index) +
                      ": must be >= 0, or -1 for the first audio stream");
  }
  const std::string problem = input_file_problem(path);
  if (!problem.empty()) throw InputError("cannot decode '" + path + "': " + problem);
  std::string sndfile_why;
  impl_->dec = detail::open_sndfile(path, stream_index, &sndfile_why);
  if (impl_->dec == nullptr) {
#ifdef HP_WITH_FFMPEG
    impl_->dec = detail::open_ffmpeg(path, stream_index);
#else
    throw InputError("cannot decode '" + path + "': not a format libsndfile reads (" + sndfile_why +
                     "), and this build has no FFmpeg for other formats");
#endif
  }
  impl_->sr = sr;
  const int src_rate = impl_->dec->info().sample_rate;
  if (src_rate < kMinSourceRate) {
    throw InputError("cannot decode '" + path + "': source sample rate " +
                     std::to_string(src_rate) + " Hz: below " + std::to_string(kMinSourceRate) +
                     " Hz (the lowest rate hptrain reads or writes; a broken header)");
  }
  if (src_rate != sr) {
    soxr_error_t err = nullptr;
    const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    impl_->soxr = soxr_create(impl_->dec->info().sample_rate, sr, 1, &err, &io, &q, nullptr);
    if (err != nullptr) throw InputError("cannot resample '" + path + "': " + err);
  }
}

MonoReader::~MonoReader() = default;
MonoReader::MonoReader(MonoReader&&) noexcept = default;
MonoReader& MonoReader::operator=(MonoReader&&) noexcept = default;

const AudioInfo& MonoReader::info() const {
  return impl_->dec->info();
}

int MonoReader::sample_rate() const {
  return impl_->sr;
}

size_t MonoReader::buffer_capacity() const {
  return impl_->block.capacity() + impl_->resampled.capacity() + impl_->pending.capacity();
}

size_t MonoReader::read(float* out, size_t max_samples) {
  Impl& m = *impl_;
  size_t n = 0;
  while (n < max_samples) {
    if (m.pending_pos == m.pending.size()) {
      if (m.done) break;
      m.refill();
      continue;
    }
    const size_t k = std::min(max_samples - n, m.pending.size() - m.pending_pos);
    std::memcpy(out + n, m.pending.data() + m.pending_pos, k * sizeof(float));
    m.pending_pos += k;
    n += k;
  }
  return n;
}

std::vector<float> load_mono(const std::string& path, int sr, int stream_index) {
  MonoReader r(path, sr, stream_index);
  std::vector<float> all;
  if (r.info().frames > 0) {
    all.reserve(
        static_cast<size_t>(static_cast<double>(r.info().frames) * sr / r.info().sample_rate) + 16);
  }
  std::vector<float> buf(detail::kBlockFrames);
  for (size_t n; (n = r.read(buf.data(), buf.size())) > 0;) {
    all.insert(all.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return all;
}

void write_wav(const std::filesystem::path& path, const float* samples, size_t n, int sr) {
  fs::atomic_write(path, [&](const std::filesystem::path& tmp) {
    SF_INFO sfi{};
    sfi.samplerate = sr;
    sfi.channels = 1;
    sfi.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE* sf = sf_open(tmp.c_str(), SFM_WRITE, &sfi);
    if (sf == nullptr) {
      throw InputError("cannot write '" + path.string() + "': " + sf_strerror(nullptr));
    }
    // no PEAK chunk: it holds the time of writing, so the same samples would give other bytes
    sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, nullptr, SF_FALSE);
    const sf_count_t wrote = sf_writef_float(sf, samples, static_cast<sf_count_t>(n));
    const std::string err = sf_strerror(sf);
    if (sf_close(sf) != 0 || wrote != static_cast<sf_count_t>(n)) {
      throw InputError("cannot write '" + path.string() + "': " + err);
    }
  });
}

std::string input_file_problem(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? kNoSuchFile : std::generic_category().message(errno);
  }
  if (S_ISDIR(st.st_mode)) return "is a directory";
  if (!S_ISREG(st.st_mode)) {
    const char* what = S_ISFIFO(st.st_mode)   ? "a FIFO"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "of an unknown kind";
    return std::string("not a regular file (") + what + ")";
  }
  // the permission as the decoders will meet it (root passes any mode bits)
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::generic_category().message(errno);
  ::close(fd);
  return {};
}

bool is_media_file(const std::filesystem::path& path) {
  static const std::set<std::string> kSndfile = {"wav",  "wave", "flac", "ogg",  "oga",
                                                 "opus", "mp3",  "aif",  "aiff", "aifc",
                                                 "au",   "snd",  "w64",  "caf",  "rf64"};
#ifdef HP_WITH_FFMPEG
  static const std::set<std::string> kFfmpeg = {
      "mp4", "m4a", "m4v", "mov", "mkv",  "mka", "webm", "avi",  "aac", "ac3", "eac3", "dts", "mp2",
      "wma", "wmv", "flv", "ts",  "m2ts", "mts", "mpg",  "mpeg", "vob", "3gp", "ogv",  "amr"};
#endif
  std::string ext = path.extension().string();
  if (ext.empty()) return false;
  ext.erase(0, 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (kSndfile.count(ext) > 0) return true;
#ifdef HP_WITH_FFMPEG
  return kFfmpeg.count(ext) > 0;
#else
  return false;
#endif
}

}  // namespace hptrain::io
