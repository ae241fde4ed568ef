// FFmpeg decoding (libavformat/libavcodec, libswresample for the sample format only) for the
// containers and codecs libsndfile does not read.
#ifdef HP_WITH_FFMPEG

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswresample/swresample.h>
}

#include <cstdarg>
#include <mutex>

#include "hptrain/error.h"
#include "hptrain/log.h"
#include "io/decoder.h"

namespace hptrain::io::detail {
namespace {

std::string av_error(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

// FFmpeg's own messages (warnings and worse) go to the debug log instead of stderr.
void log_callback(void* avcl, int level, const char* fmt, va_list vl) {
  if (level > AV_LOG_WARNING || !spdlog::should_log(spdlog::level::debug)) return;
  char line[1024];
  int print_prefix = 1;
  av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &print_prefix);
  std::string s(line);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  HP_LOG_DEBUG("ffmpeg: {}", s);
}

class FfmpegDecoder : public Decoder {
 public:
  FfmpegDecoder(const std::string& path, int stream_index) {
    static std::once_flag once;
    std::call_once(once, [] { av_log_set_callback(log_callback); });
    info_.path = path;
    info_.decoder = "ffmpeg";
    int rc = avformat_open_input(&av_.fmt, path.c_str(), nullptr, nullptr);
    if (rc < 0) {
      fail("unrecognised or corrupt audio/video file (FFmpeg: " + av_error(rc) + ")");
    }
    rc = avformat_find_stream_info(av_.fmt, nullptr);
    if (rc < 0) fail("cannot read the stream information: " + av_error(rc));
    const int n = static_cast<int>(av_.fmt->nb_streams);
    if (stream_index >= 0) {
      if (stream_index >= n) {
        fail("no stream " + std::to_string(stream_index) + " (the file has " + std::to_string(n) +
             " streams)");
      }
      const AVMediaType t = av_.fmt->streams[stream_index]->codecpar->codec_type;
      if (t != AVMEDIA_TYPE_AUDIO) {
        const char* name = av_get_media_type_string(t);
        fail("stream " + std::to_string(stream_index) + " is not audio (it is " +
             (name != nullptr ? name : "unknown") + ")");
      }
      stream_ = stream_index;
    } else {
      for (int i = 0; i < n && stream_ < 0; ++i) {
        if (av_.fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) stream_ = i;
      }
      if (stream_ < 0) fail("no audio stream");
    }
    for (int i = 0; i < n; ++i) {
      if (i != stream_) av_.fmt->streams[i]->discard = AVDISCARD_ALL;
    }
    const AVStream* st = av_.fmt->streams[stream_];
    const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (codec == nullptr) {
      fail(std::string("unsupported audio codec '") + avcodec_get_name(st->codecpar->codec_id) +
           "' in stream " + std::to_string(stream_));
    }
    av_.ctx = avcodec_alloc_context3(codec);
    if (av_.ctx == nullptr) fail("out of memory");
    rc = avcodec_parameters_to_context(av_.ctx, st->codecpar);
    if (rc < 0) fail(av_error(rc));
    rc = avcodec_open2(av_.ctx, codec, nullptr);
    if (rc < 0) fail("cannot open the " + std::string(codec->name) + " decoder: " + av_error(rc));
    if (av_.ctx->sample_rate <= 0 || av_.ctx->ch_layout.nb_channels <= 0) {
      fail("stream " + std::to_string(stream_) + " has no sample rate or channel count");
    }
    info_.sample_rate = av_.ctx->sample_rate;
    info_.channels = av_.ctx->ch_layout.nb_channels;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0) {
      info_.frames = av_rescale_q(st->duration, st->time_base, AVRational{1, info_.sample_rate});
    } else if (av_.fmt->duration != AV_NOPTS_VALUE && av_.fmt->duration > 0) {
      info_.frames = av_rescale(av_.fmt->duration, info_.sample_rate, AV_TIME_BASE);
    }
    av_.pkt = av_packet_alloc();
    av_.frame = av_frame_alloc();
    if (av_.pkt == nullptr || av_.frame == nullptr) fail("out of memory");
  }

  bool read_mono(std::vector<float>& out) override {
    out.clear();
    while (out.size() < kBlockFrames && !done_) {
      const int rc = avcodec_receive_frame(av_.ctx, av_.frame);
      if (rc == 0) {
        convert(out);
        av_frame_unref(av_.frame);
      } else if (rc == AVERROR(EAGAIN)) {
        feed();
      } else if (rc == AVERROR_EOF) {
        done_ = true;
      } else {
        fail("decoding failed: " + av_error(rc));
      }
    }
    if (done_ && frames_done_ == 0 && bad_packets_ > 0) {
      fail("corrupt audio stream: none of its " + std::to_string(bad_packets_) +
           " packets could be decoded (" + first_error_ + ")");
    }
    return !out.empty();
  }

 private:
  // Sends the next packet of our stream (or the end-of-stream flush) to the decoder.
  void feed() {
    if (flushed_) {  // the decoder has had everything and asks for more: nothing left
      done_ = true;
      return;
    }
    for (;;) {
      const int rc = av_read_frame(av_.fmt, av_.pkt);
      if (rc == AVERROR_EOF) break;
      if (rc < 0) fail("reading failed: " + av_error(rc));
      if (av_.pkt->stream_index != stream_) {
        av_packet_unref(av_.pkt);
        continue;
      }
      const int sent = avcodec_send_packet(av_.ctx, av_.pkt);
      av_packet_unref(av_.pkt);
      if (sent < 0) {
        // one damaged packet is skipped, as the ffmpeg tool does; an undecodable stream fails
        if (bad_packets_++ == 0) first_error_ = av_error(sent);
        HP_LOG_DEBUG("'{}': skipped an undecodable packet: {}", info_.path, av_error(sent));
        continue;
      }
      return;
    }
    flushed_ = true;
    const int rc = avcodec_send_packet(av_.ctx, nullptr);
    if (rc < 0 && rc != AVERROR_EOF) fail("decoding failed at the end: " + av_error(rc));
  }

  // Converts the current frame to interleaved float32 and appends its mono downmix.
  void convert(std::vector<float>& out) {
    if (av_.frame->sample_rate != info_.sample_rate) {
      fail("the sample rate changes mid-stream (" + std::to_string(info_.sample_rate) + " -> " +
           std::to_string(av_.frame->sample_rate) + " Hz)");
    }
    const int channels = av_.frame->ch_layout.nb_channels;
    if (av_.swr == nullptr || av_.frame->format != swr_format_ || channels != swr_channels_) {
      swr_free(&av_.swr);
      int rc = swr_alloc_set_opts2(&av_.swr, &av_.frame->ch_layout, AV_SAMPLE_FMT_FLT,
                                   av_.frame->sample_rate, &av_.frame->ch_layout,
                                   static_cast<AVSampleFormat>(av_.frame->format),
                                   av_.frame->sample_rate, 0, nullptr);
      if (rc >= 0) rc = swr_init(av_.swr);
      if (rc < 0) {
        const char* name = av_get_sample_fmt_name(static_cast<AVSampleFormat>(av_.frame->format));
        fail(std::string("unsupported sample format '") + (name != nullptr ? name : "?") +
             "': " + av_error(rc));
      }
      swr_format_ = av_.frame->format;
      swr_channels_ = channels;
    }
    inter_.resize(static_cast<size_t>(av_.frame->nb_samples) * static_cast<size_t>(channels));
    auto* dst = reinterpret_cast<uint8_t*>(inter_.data());
    const int got =
        swr_convert(av_.swr, &dst, av_.frame->nb_samples,
                    const_cast<const uint8_t**>(av_.frame->extended_data), av_.frame->nb_samples);
    if (got < 0) fail("sample conversion failed: " + av_error(got));
    downmix(inter_.data(), static_cast<size_t>(got), channels, out);
  }

  // Released by a member's destructor, so that a constructor that throws frees them too.
  struct Handles {
    AVFormatContext* fmt = nullptr;
    AVCodecContext* ctx = nullptr;
    AVPacket* pkt = nullptr;
    AVFrame* frame = nullptr;
    SwrContext* swr = nullptr;
    ~Handles() {
      swr_free(&swr);
      av_frame_free(&frame);
      av_packet_free(&pkt);
      avcodec_free_context(&ctx);
      avformat_close_input(&fmt);
    }
  };
  Handles av_;
  int swr_format_ = -1;
  int swr_channels_ = 0;
  int stream_ = -1;
  bool flushed_ = false;
  bool done_ = false;
  int64_t bad_packets_ = 0;
  std::string first_error_;
  std::vector<float> inter_;
};

}  // namespace

std::unique_ptr<Decoder> open_ffmpeg(const std::string& path, int stream_index) {
  return std::make_unique<FfmpegDecoder>(path, stream_index);
}

}  // namespace hptrain::io::detail

#endif  // HP_WITH_FFMPEG
