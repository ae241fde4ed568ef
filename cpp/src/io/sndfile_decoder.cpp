#include <sndfile.h>

#include <cstring>

#include "hptrain/error.h"
#include "io/decoder.h"

namespace hptrain::io::detail {
namespace {

// Bytes per sample of the uncompressed WAV encodings; 0 for the others.
int pcm_bytes(int subformat) {
  switch (subformat) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
      return 1;
    case SF_FORMAT_PCM_16:
      return 2;
    case SF_FORMAT_PCM_24:
      return 3;
    case SF_FORMAT_PCM_32:
    case SF_FORMAT_FLOAT:
      return 4;
    case SF_FORMAT_DOUBLE:
      return 8;
    default:
      return 0;
  }
}

// The frames a file should hold, -1 when unknown. libsndfile shortens a WAV whose data chunk
// runs past the end of the file instead of failing, so for WAV the data chunk's size in the
// header is asked for; MPEG lengths are estimates, and so are OGG's (the last page's granule
// position: Debian's wesnoth northerners.ogg decodes 5806 frames short of it); the other
// formats state it in sfi.frames.
int64_t expected_frames(SNDFILE* sf, const SF_INFO& sfi) {
  const int major = sfi.format & SF_FORMAT_TYPEMASK;
  if (major == SF_FORMAT_MPEG || major == SF_FORMAT_OGG) return -1;
  if (major != SF_FORMAT_WAV) return sfi.frames;
  const int bytes = pcm_bytes(sfi.format & SF_FORMAT_SUBMASK);
  SF_CHUNK_INFO want{};
  std::strcpy(want.id, "data");
  want.id_size = 4;
  SF_CHUNK_ITERATOR* it = bytes > 0 ? sf_get_chunk_iterator(sf, &want) : nullptr;
  SF_CHUNK_INFO got{};
  // 0 and 0xFFFFFFFF: a size never filled in (streamed WAV)
  if (it == nullptr || sf_get_chunk_size(it, &got) != SF_ERR_NO_ERROR || got.datalen == 0 ||
      got.datalen == 0xFFFFFFFFu) {
    return sfi.frames;
  }
  return static_cast<int64_t>(got.datalen) / (bytes * sfi.channels);
}

class SndfileDecoder : public Decoder {
 public:
  SndfileDecoder(SNDFILE* sf, const SF_INFO& sfi, const std::string& path)
      : sf_(sf), expected_(expected_frames(sf, sfi)) {
    info_.path = path;
    info_.sample_rate = sfi.samplerate;
    info_.channels = sfi.channels;
    info_.frames = sfi.frames;
    info_.decoder = "sndfile";
    buf_.resize(kBlockFrames * static_cast<size_t>(sfi.channels));
  }
  ~SndfileDecoder() override { sf_close(sf_); }

  bool read_mono(std::vector<float>& out) override {
    out.clear();
    const sf_count_t got = sf_readf_float(sf_, buf_.data(), kBlockFrames);
    if (got > 0) {
      downmix(buf_.data(), static_cast<size_t>(got), info_.channels, out);
      return true;
    }
    if (sf_error(sf_) != SF_ERR_NO_ERROR) fail(sf_strerror(sf_));
    if (frames_done_ < expected_) {
      fail("truncated: the header says " + std::to_string(expected_) + " frames, only " +
           std::to_string(frames_done_) + " could be read");
    }
    return false;
  }

 private:
  SNDFILE* sf_;
  int64_t expected_;
  std::vector<float> buf_;
};

}  // namespace

std::unique_ptr<Decoder> open_sndfile(const std::string& path, int stream_index, std::string* why) {
  SF_INFO sfi{};
  SNDFILE* sf = sf_open(path.c_str(), SFM_READ, &sfi);
  if (sf == nullptr) {
    *why = sf_strerror(nullptr);
    return nullptr;
  }
  if (sfi.channels <= 0 || sfi.samplerate <= 0) {
    sf_close(sf);
    throw InputError("cannot decode '" + path + "': invalid header (" +
                     std::to_string(sfi.channels) + " channels at " +
                     std::to_string(sfi.samplerate) + " Hz)");
  }
  auto dec = std::make_unique<SndfileDecoder>(sf, sfi, path);
  if (stream_index > 0) {
    throw InputError("cannot decode '" + path + "': no stream " + std::to_string(stream_index) +
                     " (the file holds a single audio stream, 0)");
  }
  return dec;
}

}  // namespace hptrain::io::detail
