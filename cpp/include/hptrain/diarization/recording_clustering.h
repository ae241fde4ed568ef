// Clustering of one recording's window embeddings [n, D] (raw, in time order): rows whitened
// (when a whitening is given), z-scored per recording (when `standardise`) and L2-normalised (block
// by block when a row holds several embeddings), then clustering.h's `cluster` in one stage, or in
// two on long recordings (cluster_in_pieces). Labels numbered 0.. by first appearance.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "hptrain/diarization/clustering.h"
#include "hptrain/diarization/whitening.h"

namespace hptrain::diarization {

// One embedding within a row that holds several side by side (a run's and the train-free MFCC
// statistics): `dim` columns, and the weight of its cosine in the row's.
struct EmbeddingBlock {
  int64_t dim = 0;
  double weight = 1;
};

// How a whole recording is clustered (TOML keys and `diarize` options of the same names:
// `whiten`, `whiten_weight`, `standardise`, `piece_s` / --piece, `link_threshold`).
struct RecordingClusterConfig {
  // The run's within-speaker whitening (whitening.h) of the first block (the run's embedding):
  // `diarize --whiten` fits it on the run's training chunks. Null: none. With it, that block's
  // cosine is whiten_weight times the whitened embeddings' raw cosine plus the rest times the
  // cosine without the whitening (standardised when `standardise`): whitening alone serves clean
  // dialogue best, the standardised part holds voices apart under a music bed; 0.5 calibrated on
  // development conversations with and without music
  // (bench/results/2026-12-07-cpu-diarization-whitening.md).
  std::shared_ptr<const Whitening> whitening;
  double whiten_weight = 0.5;
  // z-score the embeddings per dimension over the recording (clipped at +-3), then L2, before
  // the cosine; false: raw cosines (a trained embedder's own space)
  bool standardise = true;
  // Long recordings (over 2 piece_s) are clustered in two stages (cluster_in_pieces); 0: never
  double piece_s = 90;
  // stage 2's stopping similarity (train-free embedder): pyannote's AgglomerativeClustering
  // `threshold`, as a cosine similarity rather than a distance
  double link_threshold = 0.7;
  // Rows made of several embeddings (dims summing to D, weights to 1): each block is prepared on
  // its own (z-scored when `standardise`, L2-normalised) and scaled by the square root of its
  // weight, so that the cosine of two rows is the weighted sum of their blocks' cosines (score
  // fusion, which average linkage keeps). Empty: one block of all D columns.
  std::vector<EmbeddingBlock> blocks;
  void validate() const;
};

// Two-stage clustering of a long recording's window embeddings x [n, D] (raw, in time order,
// windows starting at start_s): stage 1 clusters each piece of rc.piece_s seconds on its own,
// with its own standardisation and `cc` (the threshold calibrated on short conversations, whose
// meaning depends on how many speakers the standardised set holds); stage 2 joins the pieces'
// clusters by average linkage of their unit centroids (rows standardised over the whole
// recording) until the most similar pair is under rc.link_threshold, within cc's speaker bounds
// (cc.num_speakers > 0: exactly that many). Labels numbered by first appearance.
std::vector<int> cluster_in_pieces(const std::vector<float>& x, const std::vector<double>& start_s,
                                   int64_t D, const RecordingClusterConfig& rc,
                                   const ClusterConfig& cc);

// A recording of duration_s seconds: cluster_in_pieces when rc.piece_s > 0 and duration_s >
// 2 rc.piece_s, else `cluster` on all rows prepared at once.
std::vector<int> cluster_recording(const std::vector<float>& x, const std::vector<double>& start_s,
                                   int64_t D, double duration_s, const RecordingClusterConfig& rc,
                                   const ClusterConfig& cc);

}  // namespace hptrain::diarization
