// Noise mixed into chunks for robustness evaluation and noise-aware training (one code path for
// both): white, pink, babble, music, demo-music, effects or a folder of files, at an SNR measured
// on the chunk's active signal. Mono float32 samples at the dataset's rate (preprocess.sr).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "hptrain/data/dataset_config.h"

namespace hptrain::data {

// The SNRs evaluation and training accept, in dB.
inline constexpr double kMinSnrDb = -20;
inline constexpr double kMaxSnrDb = 60;

// ConfigError "<where> = <snr>: must be in [-20, 60] dB" outside the range (or not finite).
void check_snr(double snr_db, const std::string& where);

// What `--noise` and [train.augment.noise] kinds name: white | pink | babble | music |
// demo-music | effects | folder:PATH.
struct NoiseKind {
  std::string name;              // white | pink | babble | music | demo-music | effects | folder
  std::filesystem::path folder;  // name == "folder": the user's noise files
  std::string text() const;      // as written: "babble", "folder:/x/noise"
};
// ConfigError naming the text and the kinds for anything else (or "folder:" without a path).
NoiseKind parse_noise_kind(const std::string& text);

// How the signal's power is measured for the SNR: 25 ms frames (non-overlapping; the last,
// partial frame counts with its own length), a frame active when its mean square is within
// kActiveTopDb of the chunk's loudest frame and above kActiveFloorDb dBFS (so the zeros padding
// a last chunk and the pauses between words do not lower the power). The noise's power is its
// mean square over the whole chunk.
inline constexpr double kActiveFrameS = 0.025;
inline constexpr double kActiveTopDb = 40;
inline constexpr double kActiveFloorDb = -100;
// A chunk without an active frame is mixed as if its active power were -23 dBFS (the demo's
// loudness target), so a silent chunk still gets noise at a defined level.
inline constexpr double kSilentReferenceDb = -23;

// Mean square of the active frames of x (0 when none is active).
double active_power(const float* x, size_t n, int sr);
// Mean square of x (0 for n = 0).
double mean_power(const float* x, size_t n);

// signal += g * noise with g such that 10 log10(active_power(signal) / mean_power(g * noise)) =
// snr_db; returns g (0 when the noise is all zeros: nothing is added).
double mix_at_snr(float* signal, size_t n, const float* noise, double snr_db, int sr);

// mix_at_snr in two steps, for a chunk mixed at several SNRs (the powers measured once):
// mix_gain is its g from signal_power = active_power(signal) (0: taken as kSilentReferenceDb)
// and noise_power = mean_power(noise) (0 when noise_power <= 0), and add_scaled adds g * noise
// as it does, so mix_gain + add_scaled give mix_at_snr's samples bit for bit.
double mix_gain(double signal_power, double noise_power, double snr_db);
void add_scaled(float* signal, size_t n, const float* noise, double g);

// A noise recording of the pool: `label` is its speaker for babble (else free text).
struct NoiseClip {
  std::string label;
  std::string source;  // where it came from, for messages
  std::vector<float> samples;
};

// Noise of one kind, drawn deterministically per chunk: draw(n, key) depends only on the seed,
// the key and the pool, never on the order of the calls (so one chunk gets the same noise at
// every SNR, and evaluation can run its chunks in any order).
class NoiseSource {
 public:
  // white and pink need no clips; the others need at least one (babble: clips of at least two
  // labels). InputError otherwise.
  NoiseSource(NoiseKind kind, int sr, uint64_t seed, std::vector<NoiseClip> clips = {});

  const NoiseKind& kind() const { return kind_; }
  int sr() const { return sr_; }
  size_t clips() const { return clips_->size(); }

  // n samples of noise for the chunk `key`. white: Gaussian; pink: Gaussian with power
  // spectral density proportional to 1/f (shaped in the frequency domain); babble: the sum of
  // 3-6 voices (distinct labels while there are enough, never `speaker`), each a run of that
  // label's clips from random offsets, each scaled to the same active power; music: one clip from
  // a random offset, looped; effects and folder: random clips from random offsets, one after the
  // other. `voices` (babble) receives the labels summed.
  std::vector<float> draw(size_t n, uint64_t key, const std::string& speaker = {},
                          std::vector<std::string>* voices = nullptr) const;

 private:
  NoiseKind kind_;
  int sr_;
  uint64_t seed_;
  std::shared_ptr<const std::vector<NoiseClip>> clips_;
  std::vector<std::string> labels_;  // babble: the distinct labels, sorted
};

// The key of a chunk: its source (as the shards record it) and offset (ms).
uint64_t chunk_key(const std::string& source, double offset_s);

// The task that says who speaks: "speaker" or "character" when the dataset has one, else the
// first task with a background class; empty when none.
std::string speaker_task(const DatasetConfig& dataset);

// Limits on the clips read from a dataset.
struct NoisePoolOptions {
  size_t max_clips_per_label = 24;  // segments kept per speaker (babble) or in all (music)
  double max_clip_s = 8;            // seconds read from each segment
  double min_clip_s = 0.5;          // shorter segments are left out
};

// The noise of `kind` for `dataset`, from its training split only (never validation or test):
// babble: manifest segments of the speaker task's classes other than its background; music:
// segments whose task "music" has a class other than its background while the speaker task is
// at its background (music without dialogue); effects: the demo corpus's effect sources
// (DemoConfig::wesnoth) when the dataset has [demo], else an error pointing at folder:PATH;
// demo-music: the wesnoth tracks the demo corpus trains on (under [demo]'s wesnoth, or Debian's
// path), for a dataset with no music of its own (make-conversations' beds use the other tracks);
// folder: every file under PATH (recursively, sorted) that preprocess can decode, resampled to
// preprocess.sr. InputError for an empty folder or undecodable files (named), and for a dataset
// that has no such segments.
NoiseSource load_noise(const NoiseKind& kind, const DatasetConfig& dataset, uint64_t seed,
                       const NoisePoolOptions& opts = {});

}  // namespace hptrain::data
