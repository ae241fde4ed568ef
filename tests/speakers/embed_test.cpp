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
#include <tuple>
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
  // (bit for bit: the same windows in the same batches; `hptrain embed` reads the file this way)
  EXPECT_TRUE(test::all_close("film streamed vs whole", film.data, whole.data, 0.0, 0.0));
  EXPECT_EQ(film.start_s, whole.start_s);
  EXPECT_EQ(film.duration_s, whole.duration_s);

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

// Stream mode (the CNN's frames once over the audio, pooled per window) against window mode on
// a tone gliding 200 -> 1800 Hz over 7 s under a 3 Hz envelope: the same windows, rows close
// to window mode's (kStreamCosine); segments of one window = segments of a minute (the
// segments' frame grid and context); the file streamed in blocks = the buffer; bf16 close to
// fp32. Then the frames each window pools, exactly: in silence, between two clicks placed so
// that each touches only the body frame just outside the window, a window's row is the row of
// a window in silence far from both; pooling one frame off either way takes in a click.
TEST(Embed, StreamModeIsCloseToWindowModeAndAligned) {
  // Cosine of a stream row to its window-mode row for this 2-block CNN (4-frame grid) trained
  // on two steady tones, on a glide it never heard: edge frames see their neighbours instead of
  // zero padding, and the window's frames lie on the stream's grid (measured min 0.83, mean
  // 0.91; the bench's 4-block CNN: min 0.98)
  constexpr double kStreamCosine = 0.8;
  test::TempDir dir;
  test::write_tone_corpus(dir.path());
  const auto run = test::train_tone_run(dir.path(), "cnn", test::kToneCnn);
  constexpr int kSr = 16000;
  std::vector<float> glide(7 * kSr);
  double phase = 0;
  for (size_t n = 0; n < glide.size(); ++n) {
    const double t = static_cast<double>(n) / kSr;
    phase += 2 * M_PI * (200 + 1600 * t / 7) / kSr;
    // the noise keeps every mel band within features.db.top_db (80 dB) of the loudest, so that
    // the floor (per item: per window, or per segment in stream mode) never bites
    glide[n] = static_cast<float>(0.2 * (0.6 + 0.4 * std::sin(2 * M_PI * 3 * t)) * std::sin(phase) +
                                  0.01 * std::sin(12345.678 * static_cast<double>(n * n % 7919)));
  }
  EmbedOptions wo;
  wo.precision = "fp32";
  Embedder win(run, wo);
  EmbedOptions so = wo;
  so.mode = "stream";
  Embedder stream(run, so);
  EXPECT_TRUE(stream.streaming());
  EXPECT_FALSE(win.streaming());
  const auto w = win.embed(glide.data(), glide.size(), 10.0);
  const auto st = stream.embed(glide.data(), glide.size(), 10.0);
  ASSERT_EQ(w.size(), 9);  // full windows at 0, 0.75, ..., 5.25 s; [6, 7) holds 1 s: kept
  ASSERT_EQ(st.size(), w.size());
  const int64_t dim = w.dim;
  for (int64_t k = 0; k < w.size(); ++k) {
    EXPECT_DOUBLE_EQ(st.start_s[k], w.start_s[k]) << k;
    EXPECT_DOUBLE_EQ(st.duration_s[k], w.duration_s[k]) << k;
    EXPECT_GE(cosine(st.row(k), w.row(k), dim), kStreamCosine) << "window " << k;
  }
  // segments of one window (grid-aligned, with context) = one segment of a minute, but for
  // the last window, whose zero padding is under the top_db floor of its segment (the loudest
  // frame of the segment in stream mode)
  const auto but_last = [](Embeddings e) {
    const int64_t n = e.size() - 1;
    e.data.resize(static_cast<size_t>(n * e.dim));
    e.start_s.resize(static_cast<size_t>(n));
    e.duration_s.resize(static_cast<size_t>(n));
    return e;
  };
  EmbedOptions one = so;
  one.segment_s = 0.75;
  EXPECT_TRUE(
      test::all_close("one-window segments vs one segment",
                      but_last(Embedder(run, one).embed(glide.data(), glide.size(), 10.0)).data,
                      but_last(st).data, 1e-5, 0.0));
  // the file streamed in blocks, segments of one window = the whole buffer
  io::write_wav(dir / "glide.wav", glide.data(), glide.size(), kSr);
  const auto dataset = data::load_dataset_config(dir / "dataset.toml");
  const auto samples = preprocess::process_whole((dir / "glide.wav").string(), dataset.preprocess);
  const auto whole = stream.embed(samples.data(), samples.size());
  const auto file = Embedder(run, one).embed_file(dir / "glide.wav");
  ASSERT_EQ(file.size(), whole.size());
  EXPECT_TRUE(test::all_close("file in blocks vs whole", but_last(file).data, but_last(whole).data,
                              1e-5, 0.0));
  for (int64_t k = 0; k < file.size(); ++k) EXPECT_NEAR(file.start_s[k], 0.75 * k, 1e-9);
  // with the same segments (the default minute), the file = the buffer bit for bit, every row
  const auto file_minute = stream.embed_file(dir / "glide.wav");
  EXPECT_TRUE(
      test::all_close("file vs whole, same segments", file_minute.data, whole.data, 0.0, 0.0));
  EXPECT_EQ(file_minute.start_s, whole.start_s);
  EXPECT_EQ(file_minute.duration_s, whole.duration_s);
  // bf16 autocast: close to fp32
  EmbedOptions bo = so;
  bo.precision = "bf16";
  Embedder b16(run, bo);
  EXPECT_TRUE(b16.bf16());
  const auto half = b16.embed(glide.data(), glide.size(), 10.0);
  ASSERT_EQ(half.size(), st.size());
  for (int64_t k = 0; k < st.size(); ++k) {
    EXPECT_GE(cosine(half.row(k), st.row(k), dim), 0.999) << k;
  }
  // the rows a cast's threshold is calibrated on are embedded in the precision of the lines it
  // then scores: bf16 here too, on the CPU as on CUDA
  const auto split32 = stream.embed_split("validation");
  const auto split16 = b16.embed_split("validation");
  ASSERT_EQ(split16.n, split32.n);
  ASSERT_GT(split32.n, 0);
  EXPECT_NE(split16.data, split32.data);
  for (int64_t k = 0; k < split32.n; ++k) {
    EXPECT_GE(cosine(split16.data.data() + k * dim, split32.data.data() + k * dim, dim), 0.999)
        << k;
  }
}

// The training split as the run trained on it (what diarize --whiten fits on): a run trained with
// a white-noise copy of every training chunk embeds twice the chunks, the clean ones first as
// embed_split("train") gives them; with the run's noisy shards gone, they are made again, the same.
TEST(Embed, TrainingSplitAsTheRunTrainedOnIt) {
  test::TempDir dir;
  test::write_tone_corpus(dir.path());
  const auto clean_run = test::train_tone_run(dir.path(), "cnn", test::kToneCnn);
  EmbedOptions o;
  o.precision = "fp32";
  Embedder clean(clean_run, o);
  const auto train = clean.embed_split("train");
  ASSERT_GT(train.n, 0);
  const auto same = clean.embed_training_split();
  EXPECT_EQ(same.data, train.data);
  EXPECT_EQ(same.labels, train.labels);

  const auto noisy_run = test::train_tone_run(
      dir.path(), "noisy",
      test::kToneCnn +
          "\n[train.augment.noise]\nkinds = [\"white\"]\nsnr_db = [0.0, 0.0]\nprobability = 1.0\n");
  Embedder noisy(noisy_run, o);
  const auto plain = noisy.embed_split("train");
  const auto both = noisy.embed_training_split();
  ASSERT_EQ(both.n, 2 * plain.n);
  const auto head = [&](const Embedder::SplitRows& r) {
    return std::vector<float>(r.data.begin(), r.data.begin() + plain.n * plain.dim);
  };
  EXPECT_TRUE(test::all_close("clean rows first", head(both), plain.data, 1e-5, 0.0));
  std::vector<int64_t> labels = plain.labels;
  labels.insert(labels.end(), plain.labels.begin(), plain.labels.end());
  EXPECT_EQ(both.labels, labels);
  // the noisy copies are other rows (white noise at 0 dB moves every embedding)
  const std::vector<float> tail(both.data.begin() + plain.n * plain.dim, both.data.end());
  EXPECT_FALSE(test::all_close("noisy rows", tail, plain.data, 1e-3, 0.0));
  std::filesystem::remove_all(noisy_run / "noisy-shards");
  const auto again = noisy.embed_training_split();
  ASSERT_EQ(again.n, both.n);
  EXPECT_TRUE(test::all_close("made again", again.data, both.data, 1e-5, 0.0));
}

// The frames stream mode pools for a window, exactly. The 2-block CNN's body frame j pools
// feature frames 4j..4j+3 and sees frames 4j-3..4j+6; a feature frame (160-sample hop, centred
// 512-sample STFT) sees the samples within 256 of 160 f. Windows of 1.27 s (20320 samples: 128
// frames, 32 body frames) every 0.64 s start on the body grid: window 3 (frame 192) pools body
// frames 48..79, which see frames 189..322. In silence, a 32-sample click centred on frame 186
// reaches frames 185..187 (seen by body frame 47, not 48), one on frame 324 reaches 323..325
// (seen by body frame 80, not 79): window 3's row is the row of a window deep in silence
// (window 7), while pooling one body frame off either way would take in a click.
TEST(Embed, StreamModePoolsExactlyTheWindowsFrames) {
  test::TempDir dir;
  test::write_tone_corpus(dir.path());
  const auto run = test::train_tone_run(dir.path(), "cnn", test::kToneCnn);
  EmbedOptions o;
  o.mode = "stream";
  o.precision = "fp32";
  o.dither = 0;  // silence as exact zeros: a window's row is its frames' alone
  o.window_s = 1.27;
  o.hop_s = 0.64;
  Embedder emb(run, o);
  std::vector<float> x(8 * 16000, 0.0f);
  const auto click = [&](int64_t frame) {
    for (int64_t i = -16; i < 16; ++i) {
      x[static_cast<size_t>(frame * 160 + i)] = i % 2 != 0 ? 0.8f : -0.8f;
    }
  };
  click(186);
  click(324);
  const auto e = emb.embed(x.data(), x.size());
  ASSERT_EQ(e.size(), 12);  // 11 full windows, then [7.04, 8) s: 0.96 s >= half a window
  EXPECT_NEAR(e.start_s[3], 1.92, 1e-9);
  auto diff = [&](int64_t a, int64_t b) {
    double m = 0;
    for (int64_t d = 0; d < e.dim; ++d) {
      m = std::max(m, static_cast<double>(std::fabs(e.row(a)[d] - e.row(b)[d])));
    }
    return m;
  };
  EXPECT_LT(diff(3, 7), 1e-5);
  EXPECT_GT(diff(2, 7), 1e-3);  // windows 2 and 4 see a click
  EXPECT_GT(diff(4, 7), 1e-3);
}

// The dither (EmbedOptions::dither, Kaldi's): its noise has the standard deviation asked (2^-15
// per unit) and mean 0; a window of exact zeros embeds as that noise would without dither, and
// any two such windows alike (the sequence starts with each window); on a tone at -17 dBFS it
// changes nothing that matters (cosine > 0.9999), while in digital silence it is what the model
// sees (a row far from the undithered one).
TEST(Embed, DitherFillsDigitalSilenceAndSparesTheRest) {
  const auto noise = dither_noise(200000, 2.0);
  double m = 0, v = 0;
  for (float x : noise) m += x;
  m /= static_cast<double>(noise.size());
  for (float x : noise) v += (x - m) * (x - m);
  const double sd = std::sqrt(v / static_cast<double>(noise.size()));
  EXPECT_NEAR(sd, 2.0 / 32768, 0.01 * 2.0 / 32768);
  EXPECT_NEAR(m, 0.0, 0.01 * 2.0 / 32768);
  EXPECT_TRUE(dither_noise(100, 0.0).empty());
  EXPECT_EQ(dither_noise(100, 1.0), dither_noise(100, 1.0));

  test::TempDir dir;
  test::write_tone_corpus(dir.path());
  const auto run = test::train_tone_run(dir.path(), "cnn", test::kToneCnn);
  EmbedOptions on, off;
  on.precision = off.precision = "fp32";
  on.hop_s = off.hop_s = 1.5;
  off.dither = 0;
  Embedder with(run, on), without(run, off);
  // 1.5 s of a 300 Hz tone (amplitude 0.2: -17 dBFS), then two windows of exact zeros
  std::vector<float> x = test::tone(300, 1.5);
  x.resize(3 * x.size(), 0.0f);
  const auto a = with.embed(x.data(), x.size());
  const auto b = without.embed(x.data(), x.size());
  ASSERT_EQ(a.size(), 3);
  EXPECT_GT(cosine(a.row(0), b.row(0), a.dim), 0.9999);
  EXPECT_NEAR(cosine(a.row(1), a.row(2), a.dim), 1.0, 1e-6);
  EXPECT_LT(cosine(a.row(1), b.row(1), a.dim), 0.99);
  const auto n = dither_noise(24000, 1.0);
  const auto c = without.embed(n.data(), n.size());
  ASSERT_EQ(c.size(), 1);
  EXPECT_NEAR(cosine(a.row(1), c.row(0), a.dim), 1.0, 1e-6);
  EmbedOptions bad;
  bad.dither = -1;
  EXPECT_THROW(bad.validate(), ConfigError);
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
  for (const auto& [mode, precision, segment_s] :
       {std::tuple{"frames", "auto", 60.0}, {"stream", "fp16", 60.0}, {"stream", "auto", 0.0}}) {
    EmbedOptions o;
    o.mode = mode;
    o.precision = precision;
    o.segment_s = segment_s;
    EXPECT_THROW(o.validate(), ConfigError) << mode << " " << precision << " " << segment_s;
  }
  EXPECT_THROW(Embedder(dir / "nothing"), InputError);
}

}  // namespace
}  // namespace hptrain::speakers
