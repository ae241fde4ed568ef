// speakers::Embedder and `run_embed` on a CNN trained on the tone corpus: where the windows fall
// (preprocess's chunk rule), unit rows, batched = one by one, a window cut from a long buffer =
// the same window alone, the streamed file = the buffer preprocess::process_whole gives, low
// tones closer to low tones than to high ones; the HDF5 file; files with no usable audio; a
// forest run refused.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "hptrain/data/dataset_config.h"
#include "hptrain/error.h"
#include "hptrain/h5.h"
#include "hptrain/io/audio.h"
#include "hptrain/preprocess/preprocess.h"
#include "hptrain/speakers/embed.h"
#include "hptrain/train/run.h"
#include "speakers/speaker_runs.h"
#include "support/support.h"

namespace hptrain::speakers {
namespace {

TEST(Embed, WindowsOfACnnRun) {
  test::TempDir dir;
  test::write_tone_corpus(dir.path());
  const auto run = test::train_tone_run(dir.path(), "cnn", test::kToneCnn);
  // the training's final evaluation and evaluate add the speaker task's verification: every
  // pair of the 9 test chunks (3 low, 6 high: 3 + 15 same, 18 different)
  const auto m = nlohmann::json::parse(fs::read_text(run / "metrics.json"));
  const auto& v = m.at("tasks").at("pitch").at("verification");
  EXPECT_EQ(v.at("targets").get<int64_t>(), 18);
  EXPECT_EQ(v.at("nontargets").get<int64_t>(), 18);
  for (const char* key : {"eer", "min_dcf", "threshold"}) ASSERT_TRUE(v.at(key).is_number()) << key;
  EXPECT_GE(v.at("eer").get<double>(), 0.0);
  EXPECT_LE(v.at("eer").get<double>(), 0.5);
  train::EvaluateOptions eval;
  eval.run = run;
  eval.split = "validation";
  const auto ev = train::run_evaluate(eval);
  EXPECT_EQ(ev.at("tasks").at("pitch").at("verification").at("targets").get<int64_t>(), 18);
  const auto saved = nlohmann::json::parse(fs::read_text(run / "eval-validation" / "metrics.json"));
  EXPECT_EQ(saved.at("tasks").at("pitch").at("verification"),
            ev.at("tasks").at("pitch").at("verification"));

  // report: the EER column, in percent, and the fraction in the CSV
  const std::string table = train::run_report({dir / "runs", dir / "report.md"});
  char eer[32];
  std::snprintf(eer, sizeof eer, "| %.2f %% |", 100 * v.at("eer").get<double>());
  EXPECT_NE(table.find(eer), std::string::npos) << table;
  EXPECT_NE(table.find("| ROC-AUC | EER |"), std::string::npos) << table;
  EXPECT_NE(fs::read_text(dir / "report.csv").find(",roc_auc,eer,"), std::string::npos);

  Embedder emb(run);
  EXPECT_EQ(emb.dim(), 32);  // mean_std pooling of 16 channels
  EXPECT_EQ(emb.sample_rate(), 16000);
  EXPECT_EQ(emb.fingerprint().size(), 16u);

  // film.wav: 2 s of a low tone, then 2 s of a high one. Windows of 1.5 s every 0.75 s start at
  // 0, 0.75, 1.5, 2.25; then [3, 4) holds 1 s >= half a window: kept, padded.
  const auto film = emb.embed_file(dir / "film.wav");
  ASSERT_EQ(film.size(), 5);
  ASSERT_EQ(film.data.size(), static_cast<size_t>(5 * 32));
  for (int64_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(film.start_s[i], 0.75 * i, 1e-9) << i;
    EXPECT_NEAR(film.duration_s[i], i < 4 ? 1.5 : 1.0, 1e-9) << i;
    double norm = 0;
    for (int64_t d = 0; d < 32; ++d) norm += film.row(i)[d] * film.row(i)[d];
    EXPECT_NEAR(norm, 1.0, 1e-5) << i;
  }

  // the streamed file = the whole preprocessed buffer cut here (same gain, same windows)
  const auto dataset = data::load_dataset_config(dir / "dataset.toml");
  const auto samples = preprocess::process_whole((dir / "film.wav").string(), dataset.preprocess);
  const auto whole = emb.embed(samples.data(), samples.size());
  EXPECT_TRUE(test::all_close("film streamed vs whole", film.data, whole.data, 1e-5, 0.0));

  // one window per batch gives the same rows
  EmbedOptions one;
  one.batch_size = 1;
  Embedder single(run, one);
  EXPECT_TRUE(test::all_close("one thread vs several", single.embed_file(dir / "film.wav").data,
                              film.data, 1e-5, 0.0));

  // the window at 2.25 s cut alone, with an offset, is the same row (then the half window
  // [3, 3.75) s, padded, as the chunk rule keeps it)
  const auto third = emb.embed(samples.data() + 36000, 24000, 2.25);
  ASSERT_EQ(third.size(), 2);
  EXPECT_NEAR(third.start_s[0], 2.25, 1e-9);
  EXPECT_NEAR(third.start_s[1], 3.0, 1e-9);
  EXPECT_NEAR(third.duration_s[1], 0.75, 1e-9);
  EXPECT_NEAR(cosine(third.row(0), film.row(3), 32), 1.0, 1e-5);

  // fewer samples than half a window: nothing
  EXPECT_EQ(emb.embed(samples.data(), 11999).size(), 0);
  EXPECT_EQ(emb.embed(samples.data(), 12000).size(), 1);

  // the model separates pitch: the two low windows (0 and 0.75 s) are closer to each other
  // than to the high ones (2.25 s, 3 s)
  const double low_low = cosine(film.row(0), film.row(1), 32);
  EXPECT_GT(low_low, cosine(film.row(0), film.row(3), 32));
  EXPECT_GT(low_low, cosine(film.row(1), film.row(4), 32));

  // run_embed: one HDF5 file; a file with no window (0.5 s), a corrupt one and a missing one
  // give a warning each and no row, the others go on
  const auto short_tone = test::tone(300, 0.5);
  io::write_wav(dir / "short.wav", short_tone.data(), short_tone.size(), 16000);
  fs::write_text(dir / "corrupt.wav", "RIFF, but not a WAV file");
  EmbedCommandOptions cmd;
  cmd.run = run;
  cmd.out = dir / "out" / "emb.h5";
  cmd.files = {dir / "short.wav", dir / "film.wav", dir / "corrupt.wav", dir / "audio/f1.wav"};
  const auto results = run_embed(cmd);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].windows, 0);
  EXPECT_NE(results[0].warning.find("short.wav"), std::string::npos) << results[0].warning;
  EXPECT_EQ(results[1].windows, 5);
  EXPECT_TRUE(results[1].warning.empty());
  EXPECT_EQ(results[2].windows, 0);
  EXPECT_NE(results[2].warning.find("corrupt.wav"), std::string::npos) << results[2].warning;
  EXPECT_EQ(results[3].windows, 4);  // 3 s: 0, 0.75, 1.5; [2.25, 3) is exactly half: kept
  const auto file = read_embeddings(cmd.out);
  ASSERT_EQ(file.emb.size(), 9);
  EXPECT_EQ(file.emb.dim, 32);
  EXPECT_EQ(file.fingerprint, emb.fingerprint());
  EXPECT_EQ(file.run, run.string());
  EXPECT_EQ(file.source[0], (dir / "film.wav").string());
  EXPECT_EQ(file.source[8], (dir / "audio/f1.wav").string());
  EXPECT_NEAR(file.emb.start_s[8], 2.25, 1e-9);
  EXPECT_NEAR(file.emb.duration_s[8], 0.75, 1e-9);
  for (size_t i = 0; i < film.data.size(); ++i) ASSERT_EQ(file.emb.data[i], film.data[i]) << i;
  const h5::File raw = h5::File::open_read(cmd.out);
  EXPECT_EQ(raw.shape("embeddings"), (std::vector<int64_t>{9, 32}));
  EXPECT_DOUBLE_EQ(raw.attr_double("/", "window_s"), 1.5);
  EXPECT_DOUBLE_EQ(raw.attr_double("/", "hop_s"), 0.75);
  for (const auto& e : std::filesystem::directory_iterator(dir / "out")) {
    EXPECT_EQ(e.path().filename(), "emb.h5") << "a temporary left behind";
  }

  // every file without usable audio: an empty file of [0, D], still written
  cmd.files = {dir / "short.wav"};
  cmd.out = dir / "empty.h5";
  run_embed(cmd);
  const auto empty = read_embeddings(cmd.out);
  EXPECT_EQ(empty.emb.size(), 0);
  EXPECT_EQ(empty.emb.dim, 32);
}

TEST(Embed, ForestRunAndBadOptionsAreRefused) {
  test::TempDir dir;
  test::write_tone_corpus(dir.path());
  const auto rf = test::train_tone_run(dir.path(), "rf", test::kToneForest);
  try {
    Embedder emb(rf);
    FAIL() << "a forest run has no embedding";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(rf.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no embedding"), std::string::npos) << e.what();
  }
  EmbedOptions bad;
  bad.hop_s = 0;
  EXPECT_THROW(Embedder(rf, bad), ConfigError);
  EXPECT_THROW(Embedder(dir / "nothing"), InputError);
}

}  // namespace
}  // namespace hptrain::speakers
