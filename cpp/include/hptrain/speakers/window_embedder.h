// A trained run's speaker embeddings as the diarization pipeline's WindowEmbedder
// (diarization/embedder.h): windows on window_grid, [n, D] unit rows, 16 kHz mono in; and a
// cast (cast.h) turned into the pipeline's Enrolment after checking it belongs to the run.
// Torch-free header; the code links LibTorch (hp_train), so hp_diarization never does.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "hptrain/diarization/diarize.h"
#include "hptrain/diarization/embedder.h"
#include "hptrain/diarization/whitening.h"
#include "hptrain/speakers/embed.h"

namespace hptrain::speakers {

class RunWindowEmbedder : public diarization::WindowEmbedder {
 public:
  // InputError naming the run for a run without an embedding (SVM, forest), and for a run whose
  // dataset's preprocess.sr is not 16000 Hz (the pipeline's rate: its frames, VAD and
  // resegmentation are fixed at 16 kHz). Each window is brought to the level the run trained on
  // (Embedder::level_gain: the dataset's loudness or peak normalisation, per window), since the
  // pipeline feeds raw audio; `opts`' window, hop and min_last_fraction are set here.
  RunWindowEmbedder(const std::filesystem::path& run, double window_s, double hop_s,
                    EmbedOptions opts = {});
  ~RunWindowEmbedder() override;

  std::string name() const override;  // "run <path> (dither <d>)"
  int sample_rate() const override;
  int64_t dim() const override;
  // Windows are independent of each other (window-local gain, eval-mode model), so a window has
  // the same embedding whatever block it arrives in (up to the float order of a batched matmul).
  diarization::WindowEmbeddings embed(const float* samples, size_t n, double window_s,
                                      double hop_s) const override;
  Embedder& embedder() const { return *emb_; }

 private:
  std::unique_ptr<Embedder> emb_;  // embed() is not const: the model keeps batch buffers
  double window_s_, hop_s_;
};

// The run's within-speaker whitening (diarization/whitening.h) fitted on its training chunks as
// it trained on them (Embedder::embed_training_split; the speaker task's background class left
// out): what `diarize --whiten` applies to the run's window embeddings. Kept in
// <run>/whitening.h5 (mean, matrix; the model's fingerprint) and read back from there while the
// fingerprint matches; a run folder that cannot be written only costs the fit next time.
inline constexpr const char* kWhiteningFile = "whitening.h5";
diarization::Whitening fit_run_whitening(Embedder& emb);

// Reads `cast_file`, checks it was made with `emb`'s run (check_cast: InputError naming the
// file and both runs otherwise) and gives the pipeline's view of it.
diarization::Enrolment read_enrolment(const std::filesystem::path& cast_file, const Embedder& emb);

}  // namespace hptrain::speakers
