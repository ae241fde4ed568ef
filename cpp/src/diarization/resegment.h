// The diarization's frame-level resegmentation (diarize.cpp's last stage): each speaker scored
// per 10 ms frame by a diagonal Gaussian of its MFCCs and by the votes of the clustered windows
// covering the frame, then a Viterbi pass over each speech region with a minimum turn length, so
// that boundaries are finer than the window hop.
#pragma once

#include <cstdint>
#include <vector>

#include "hptrain/diarization/diarize.h"

namespace hptrain::diarization {

// mfcc: [frames, n_mfcc] (c0 first, left out); speech: [frames]; votes: [frames, K], the
// clustered windows covering each frame per speaker; label: [frames], in the votes' choice per
// speech frame, out the Viterbi's (cfg.acoustic_weight, switch_penalty, min_turn_s); frame_s:
// the frame hop in seconds.
void resegment(const std::vector<float>& mfcc, int n_mfcc, const std::vector<uint8_t>& speech,
               const std::vector<float>& votes, int K, const DiarizeConfig& cfg, double frame_s,
               std::vector<int>& label);

}  // namespace hptrain::diarization
