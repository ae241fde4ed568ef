// Stream mode's arithmetic (EmbedOptions::mode = "stream"): which samples a segment of windows
// reads, which body frames each window pools with which weights, when a streamed file holds a
// whole segment and what it may drop. No model here: speakers::Embedder runs the features and
// the body on the spans this computes.
#pragma once

#include <cstdint>
#include <vector>

namespace hptrain::speakers::detail {

struct StreamGrid {
  int64_t len = 0;              // window length (samples)
  int64_t hop = 0;              // window hop (samples); window k starts at k hop
  int64_t stride = 0;           // input frames per body frame (models::Net::frame_stride)
  int64_t frame_hop = 0;        // the features' hop (samples per input frame)
  int64_t window_frames = 0;    // input frames of one window (features::n_frames of len)
  int64_t segment_windows = 0;  // windows per model call
  double min_last_fraction = 0.5;

  // ref: preprocess's Chunker (process.cpp): full windows every hop, then the partial window
  // zero-padded when it holds at least min_last_fraction of a window.
  int64_t window_count(int64_t total) const;

  // Samples [a, b) that windows k0 <= k < k1 read: from the body's frame grid (multiples of
  // stride frames) below window k0, to the one at or above window k1 - 1's last frame, with 2
  // stride frames of context each side (more than the receptive field of a frame beyond its
  // own stride frames: stride - 1 each side, 2 frames of STFT window), clipped to [0, end).
  struct Span {
    int64_t a = 0, b = 0;
  };
  Span segment(int64_t k0, int64_t k1, int64_t end) const;

  // The pooling of windows k0 <= k < k1 over body frames j >= base (frames of them): for each
  // window, `width()` slots of (frame index - base, weight = the fraction of the frame's
  // stride input frames inside the window); slots outside the frames keep index 0, weight 0.
  int64_t width() const { return window_frames / stride + 2; }
  int64_t frame_samples() const { return stride * frame_hop; }  // samples per body frame
  void pooling(int64_t k0, int64_t k1, int64_t base, int64_t frames, std::vector<int64_t>& index,
               std::vector<float>& weight) const;

  // A stream of `have` samples so far holds all that segment [k, k + segment_windows) reads.
  bool ready(int64_t k, int64_t have) const;
  // The first sample segment k0 onwards still reads: a stream may drop what lies before it.
  int64_t keep_from(int64_t k0) const;

 private:
  double first_frame(int64_t k) const { return static_cast<double>(k * hop) / frame_hop; }
  int64_t frame_above(int64_t k_last) const;  // body frame at or after its last
};

}  // namespace hptrain::speakers::detail
