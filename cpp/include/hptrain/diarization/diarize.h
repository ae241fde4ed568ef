// Who speaks when in a recording: speech activity, window embeddings (any WindowEmbedder),
// clustering, then a frame-level Viterbi resegmentation with a minimum turn length. One
// streaming decode per file; memory grows with the number of 10 ms frames (23 floats each),
// never with the samples.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hptrain/diarization/clustering.h"
#include "hptrain/diarization/embedder.h"
#include "hptrain/diarization/recording_clustering.h"
#include "hptrain/diarization/rttm.h"
#include "hptrain/diarization/vad.h"
#include "hptrain/metrics/score_norm.h"

namespace hptrain::diarization {

struct DiarizeConfig {
  double window_s = 1.5;           // embedding window
  double hop_s = 0.25;             // between window starts
  double min_window_speech = 0.5;  // a window is clustered when this share of its frames is speech
  ClusterConfig clustering;
  // standardise, piece_s, link_threshold: how the recording's windows are prepared and whether
  // a long one is clustered in two stages
  RecordingClusterConfig recording;
  // With a run's embedder (--run): fit the run's within-speaker whitening on its training chunks
  // (Embedder::embed_training_split) into recording.whitening before the first file
  bool whiten = false;
  // With a run's embedder (--run): the weight of the train-free MFCC statistics fused beside
  // its embedding, in [0, 1) (run_diarize sets recording.blocks to {run, 1 - w}, {mfcc, w}:
  // each window pair's cosine is the weighted sum of the two embeddings'); 0: the run's alone
  double mfcc_weight = 0;
  VadConfig vad;
  // a speaker needs at least this much of clustered windows (min_cluster_size of the
  // clustering, in windows, is this over hop_s)
  double min_cluster_s = 2.0;
  bool resegment = true;    // frame-level Viterbi after the clustering
  double min_turn_s = 0.5;  // Viterbi: a turn lasts at least this long (a region's last may not)
  double acoustic_weight = 0.1;  // Viterbi: weight of the per-speaker Gaussian log-likelihood
  double switch_penalty = 4.0;   // Viterbi: log-score cost of a change of speaker
  double block_s = 60;           // decode and feature block
  int stream = -1;               // the container's audio stream (-1: first)
  void validate() const;
};

struct DiarizeResult {
  std::string uri;  // the file's stem
  double duration_s = 0;
  double speech_s = 0;  // detected speech
  int speakers = 0;
  std::vector<Turn> turns;  // speakers "spk_1".. by first appearance; by onset
  // The speakers in the order of their names (spk_1, spk_2, ...), each with the L2-normalised
  // mean of the raw (not standardised) embeddings (their first block's columns: a fused run's
  // own embedding) of the clustered windows whose speech lies within its final turns (or, when
  // none does, of the windows clustered to it): [speakers, dim] (a row of zeros for a speaker
  // no clustered window voted for).
  std::vector<std::string> names;
  int64_t dim = 0;
  std::vector<float> centroids;
};

// A film's cast as the pipeline sees it (speakers::Cast without the run's side): one unit
// centroid per character, in the embedder's space, how a cluster is scored against them
// (metrics/score_norm.h: cosine, centred or as-norm against the cohort) and the score below which
// a cluster is nobody of the cast.
struct Enrolment {
  std::vector<std::string> characters;
  int64_t dim = 0;
  std::vector<float> centroids;  // [characters, dim], unit rows
  metrics::ScoreNormConfig scoring{metrics::kScoreCosine, 300};
  std::vector<float> cohort;  // [cohort_n, dim] impostor embeddings (centred, as-norm)
  int64_t cohort_n = 0;
  double threshold = 0;  // in the scoring's scale
};

// Names the speakers of `r` after the cast: a one-to-one assignment of clusters to characters
// maximising the summed score of their centroids (e.scoring; linear_sum_assignment on -score);
// an assigned pair whose score is below e.threshold is left unassigned. The rest become unknown_1,
// unknown_2,
// ... in the order of their first turn. Rewrites r.names and every turn's speaker.
// ConfigError when the dimensions differ.
void name_speakers(DiarizeResult& r, const Enrolment& e);

// Diarizes one audio or video file (anything io::MonoReader decodes). `progress`: show a bar.
// `vad`: a trained speech detector instead of the energy and spectral one (fed this file
// only; a new one per file).
DiarizeResult diarize_file(const std::string& path, const WindowEmbedder& embedder,
                           const DiarizeConfig& cfg, bool progress = true,
                           SpeechModel* vad = nullptr);

// The same on samples already at 16 kHz (tests, the development benchmark).
DiarizeResult diarize_samples(const std::string& uri, const float* samples, size_t n,
                              const WindowEmbedder& embedder, const DiarizeConfig& cfg,
                              SpeechModel* vad = nullptr);

struct DiarizeOptions {
  std::vector<std::string> files;
  std::filesystem::path out;
  DiarizeConfig config;
  // makes the trained speech detector for each file (`--vad PATH`); empty: energy + spectral
  std::function<std::unique_ptr<SpeechModel>()> vad;
  // the window embedder (`--run`: a trained run's, speakers/window_embedder.h, fused with the
  // MFCC statistics when config.mfcc_weight > 0); null: the train-free MfccStatsEmbedder
  std::shared_ptr<const WindowEmbedder> embedder;
  // `--cast`: clusters take the characters' names (name_speakers)
  std::optional<Enrolment> cast;
  // `--embedding-cache DIR`: the embedder's windows kept there (CachedWindowEmbedder)
  std::filesystem::path embedding_cache;
};
// Every file in turn; a file that fails is reported and the others go on. Returns the number
// of files that failed.
int run_diarize(const DiarizeOptions& opts);

}  // namespace hptrain::diarization
