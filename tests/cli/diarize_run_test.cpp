// `hptrain diarize --run RUN [--cast cast.h5]`: a trained run's embeddings in the diarization
// pipeline (speakers/window_embedder.h) and clusters named by a cast. The run is the tone
// corpus's pitch CNN (speakers/speaker_runs.h), the recording low, high, then another low tone:
// the run hears two "speakers" (low, high) where the answer is known. A TorchScript "always
// speech" model stands in for the VAD, which pure tones would not pass reliably.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/script.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "hptrain/diarization/diarize.h"
#include "hptrain/diarization/rttm.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"
#include "hptrain/io/audio.h"
#include "hptrain/speakers/cast.h"
#include "hptrain/speakers/window_embedder.h"
#include "speakers/speaker_runs.h"
#include "support/support.h"

namespace hptrain::cli {
namespace {

test::CommandResult hptrain(const std::string& args) {
  return test::run_command(std::string(HP_HPTRAIN_BINARY) + " " + args);
}

const auto has = test::contains;

void write_always_speech(const std::filesystem::path& path) {
  torch::jit::Module m("AlwaysSpeech");
  m.define(R"(
def forward(self, x: Tensor, sr: int) -> Tensor:
    return torch.full([1, 1], 1.0) + 0.0 * x.sum()
)");
  m.save(path.string());
}

// 3 s of 242 Hz, 3 s of 1936 Hz, 3 s of 220 Hz: tones of the corpus's f2, f3 and f0 (low, high,
// low). The cast's threshold is calibrated on a validation split the run separates perfectly, so
// it is tight (about 0.99): the voices must be the enrolled ones.
std::vector<float> talk() {
  std::vector<float> x;
  for (const double f : {242.0, 1936.0, 220.0}) {
    const auto t = test::tone(f, 3.0);
    x.insert(x.end(), t.begin(), t.end());
  }
  return x;
}

// The speaker of the turn covering time t ("" when none does).
std::string speaker_at(const std::vector<diarization::Turn>& turns, double t) {
  for (const auto& u : turns) {
    if (u.onset <= t && t < u.onset + u.duration) return u.speaker;
  }
  return "";
}

class AlwaysSpeech : public diarization::SpeechModel {
 public:
  std::string name() const override { return "always"; }
  void feed(const float*, size_t) override {}
  std::vector<float> frame_probabilities(int64_t frames) override {
    return std::vector<float>(static_cast<size_t>(frames), 1.0f);
  }
};

TEST(DiarizeRun, WindowsOnTheGridWhateverTheBlock) {
  test::TempDir dir;
  test::write_tone_corpus(dir.path());
  const auto run = test::train_tone_run(dir.path(), "cnn", test::kToneCnn);
  const speakers::RunWindowEmbedder emb(run, 1.5, 0.25);
  EXPECT_EQ(emb.dim(), 32);
  EXPECT_EQ(emb.sample_rate(), 16000);
  const auto x = talk();
  const auto all = emb.embed(x.data(), x.size(), 1.5, 0.25);
  ASSERT_EQ(all.n, 31);  // starts 0, 0.25, ..., 7.5 s: (9 - 1.5) / 0.25 + 1
  EXPECT_EQ(all.start_s.back(), 7.5);
  // the same windows from a block starting one hop later, and from one ending early
  const auto late = emb.embed(x.data() + 4000, x.size() - 4000, 1.5, 0.25);
  ASSERT_EQ(late.n, 30);
  const auto early = emb.embed(x.data(), 16000 * 2 + 100, 1.5, 0.25);
  ASSERT_EQ(early.n, 3);  // 0, 0.25, 0.5: the rest is not a full window
  for (int64_t k = 0; k < all.dim; ++k) {
    EXPECT_NEAR(late.data[static_cast<size_t>(k)], all.data[static_cast<size_t>(all.dim + k)],
                1e-5);
    EXPECT_NEAR(early.data[static_cast<size_t>(2 * all.dim + k)],
                all.data[static_cast<size_t>(2 * all.dim + k)], 1e-5);
  }
  double n0 = 0;
  for (int64_t k = 0; k < all.dim; ++k) n0 += all.data[k] * all.data[k];
  EXPECT_NEAR(n0, 1.0, 1e-5);
  // shorter than a window: one window over all of it
  const auto short_ = emb.embed(x.data(), 8000, 1.5, 0.25);
  ASSERT_EQ(short_.n, 1);
  EXPECT_DOUBLE_EQ(short_.duration_s[0], 0.5);
  // the pipeline with it: low, high, low; centroids in the run's space; deterministic
  diarization::DiarizeConfig cfg;
  AlwaysSpeech v1, v2;
  const auto r1 = diarization::diarize_samples("talk", x.data(), x.size(), emb, cfg, &v1);
  const auto r2 = diarization::diarize_samples("talk", x.data(), x.size(), emb, cfg, &v2);
  ASSERT_EQ(r1.speakers, 2);
  EXPECT_EQ(r1.dim, 32);
  EXPECT_EQ(r1.names, (std::vector<std::string>{"spk_1", "spk_2"}));
  EXPECT_EQ(speaker_at(r1.turns, 1.5), "spk_1");
  EXPECT_EQ(speaker_at(r1.turns, 4.5), "spk_2");
  EXPECT_EQ(speaker_at(r1.turns, 7.5), "spk_1");
  EXPECT_EQ(r1.centroids, r2.centroids);
  ASSERT_EQ(r1.turns.size(), r2.turns.size());
  for (size_t i = 0; i < r1.turns.size(); ++i) {
    EXPECT_EQ(r1.turns[i].onset, r2.turns[i].onset);
    EXPECT_EQ(r1.turns[i].speaker, r2.turns[i].speaker);
  }
  // a forest run has no embedding: an error naming the run
  const auto rf = test::train_tone_run(dir.path(), "rf", test::kToneForest);
  try {
    speakers::RunWindowEmbedder bad(rf, 1.5, 0.25);
    ADD_FAILURE() << "a forest run was accepted";
  } catch (const InputError& e) {
    EXPECT_TRUE(has(e.what(), rf.string()) && has(e.what(), "no embedding")) << e.what();
  }
  // a run of a 22.05 kHz dataset: refused, naming the run and both rates
  test::TempDir d22;
  test::write_tone_corpus(d22.path());
  std::string toml = fs::read_text(d22 / "dataset.toml");
  toml.replace(toml.find("sr = 16000"), 10, "sr = 22050");
  fs::write_text(d22 / "dataset.toml", toml);
  const auto run22 = test::train_tone_run(d22.path(), "cnn22", test::kToneCnn);
  try {
    speakers::RunWindowEmbedder bad(run22, 1.5, 0.25);
    ADD_FAILURE() << "a 22.05 kHz run was accepted";
  } catch (const InputError& e) {
    EXPECT_TRUE(has(e.what(), run22.string()) && has(e.what(), "22050 Hz") &&
                has(e.what(), "16000 Hz"))
        << e.what();
  }
}

TEST(DiarizeRun, NamingByCentroidAssignment) {
  diarization::DiarizeResult r;
  r.dim = 2;
  r.names = {"spk_1", "spk_2", "spk_3"};
  r.centroids = {1, 0, 0.8f, 0.6f, 0, 1};
  r.turns = {
      {"u", 0, 1, "spk_1"}, {"u", 1, 1, "spk_2"}, {"u", 2, 1, "spk_3"}, {"u", 3, 1, "spk_1"}};
  diarization::Enrolment e;
  e.dim = 2;
  e.characters = {"ann", "bob"};
  e.centroids = {0.8f, 0.6f, 1, 0};  // ann = spk_2 exactly, bob = spk_1 exactly
  e.threshold = 0.5;
  auto named = r;
  // one-to-one: spk_1 takes bob (1.0) though spk_1 is also close to ann (0.8); spk_3 is left
  diarization::name_speakers(named, e);
  EXPECT_EQ(named.names, (std::vector<std::string>{"bob", "ann", "unknown_1"}));
  std::vector<std::string> who;
  for (const auto& t : named.turns) who.push_back(t.speaker);
  EXPECT_EQ(who, (std::vector<std::string>{"bob", "ann", "unknown_1", "bob"}));
  // under the threshold: unknown, numbered by first turn
  e.threshold = 0.9;
  // ann: 0.8, 1.0, 0.6 to spk_1..3; bob: 0.6, 0.96, 0.8. Best pairs: ann-spk_2 (1.0) and
  // bob-spk_3 (0.8, under 0.9: unknown) beat ann-spk_1 and bob-spk_2 (1.76)
  e.centroids = {0.8f, 0.6f, 0.6f, 0.8f};
  named = r;
  diarization::name_speakers(named, e);
  EXPECT_EQ(named.names, (std::vector<std::string>{"unknown_1", "ann", "unknown_2"}));
  e.dim = 3;
  EXPECT_THROW(diarization::name_speakers(named, e), ConfigError);
}

TEST(DiarizeRun, CommandWithRunAndCast) {
  test::TempDir dir;
  test::write_tone_corpus(dir.path());
  const auto run = test::train_tone_run(dir.path(), "cnn", test::kToneCnn);
  const auto x = talk();
  io::write_wav(dir / "talk.wav", x.data(), x.size(), 16000);
  write_always_speech(dir / "always.pt");
  const std::string base =
      "diarize " + (dir / "talk.wav").string() + " --vad " + (dir / "always.pt").string();

  const auto free = hptrain(base + " --out " + (dir / "free").string());
  ASSERT_EQ(free.code, 0) << free.out;
  const auto r1 = hptrain(base + " --out " + (dir / "r1").string() + " --run " + run.string());
  ASSERT_EQ(r1.code, 0) << r1.out;
  EXPECT_TRUE(has(r1.out, "embeddings run " + run.string())) << r1.out;
  const auto r2 = hptrain(base + " --out " + (dir / "r2").string() + " --run " + run.string());
  ASSERT_EQ(r2.code, 0) << r2.out;
  const std::string rttm1 = fs::read_text(dir / "r1" / "talk.rttm");
  EXPECT_EQ(rttm1, fs::read_text(dir / "r2" / "talk.rttm"));  // deterministic
  // both modes find low, high, low on pure tones; which embeddings were used shows in the log
  EXPECT_TRUE(has(free.out, "embeddings mfcc-mean")) << free.out;
  const auto t1 = diarization::read_rttm(dir / "r1" / "talk.rttm");
  EXPECT_EQ(speaker_at(t1, 1.5), speaker_at(t1, 7.5));
  EXPECT_NE(speaker_at(t1, 1.5), speaker_at(t1, 4.5));

  // the cast: low from f0 and f2, high from f1 and f3 (tones the run trained on)
  fs::write_text(dir / "cast.csv",
                 "path,start,end,character\naudio/f0.wav,0,3,low\naudio/f2.wav,0,3,low\n"
                 "audio/f1.wav,0,3,high\naudio/f3.wav,0,3,high\n");
  speakers::EnrollOptions en;
  en.run = run;
  en.manifest = dir / "cast.csv";
  en.out = dir / "cast.h5";
  speakers::run_enroll(en);
  const auto named = hptrain(base + " --out " + (dir / "c").string() + " --run " + run.string() +
                             " --cast " + en.out.string());
  ASSERT_EQ(named.code, 0) << named.out;
  const auto tc = diarization::read_rttm(dir / "c" / "talk.rttm");
  EXPECT_EQ(speaker_at(tc, 1.5), "low");
  EXPECT_EQ(speaker_at(tc, 4.5), "high");
  EXPECT_EQ(speaker_at(tc, 7.5), "low");
  EXPECT_TRUE(has(fs::read_text(dir / "c" / "talk.segments.csv"), ",low,"));
  // a cast of "low" alone: the high voice is nobody of it
  fs::write_text(dir / "low.csv",
                 "path,start,end,character\naudio/f0.wav,0,3,low\naudio/f2.wav,0,3,low\n");
  en.manifest = dir / "low.csv";
  en.out = dir / "low.h5";
  speakers::run_enroll(en);
  const auto part = hptrain(base + " --out " + (dir / "l").string() + " --run " + run.string() +
                            " --cast " + en.out.string());
  ASSERT_EQ(part.code, 0) << part.out;
  const auto tl = diarization::read_rttm(dir / "l" / "talk.rttm");
  EXPECT_EQ(speaker_at(tl, 1.5), "low");
  EXPECT_EQ(speaker_at(tl, 4.5), "unknown_1");
  EXPECT_EQ(speaker_at(tl, 7.5), "low");

  // a cast of another run: an error naming the cast file and both runs
  const auto other = test::train_tone_run(
      dir.path(), "cnn2",
      "input = \"log_mel\"\n\n[model]\ntype = \"cnn\"\nloss_task = \"pitch\"\nchannels = [4, 8]\n"
      "\n[train]\ndevice = \"cpu\"\nepochs = 1\nbatch_size = 4\nthreads = 1\nwarmup_epochs = 0\n");
  const auto foreign = hptrain(base + " --out " + (dir / "f").string() + " --run " +
                               other.string() + " --cast " + (dir / "cast.h5").string());
  EXPECT_EQ(foreign.code, 1) << foreign.out;
  EXPECT_TRUE(has(foreign.out, "cast.h5") && has(foreign.out, other.string())) << foreign.out;
  // a forest run: no embedding
  const auto rf = test::train_tone_run(dir.path(), "rf", test::kToneForest);
  const auto svm = hptrain(base + " --out " + (dir / "s").string() + " --run " + rf.string());
  EXPECT_EQ(svm.code, 1) << svm.out;
  EXPECT_TRUE(has(svm.out, "no embedding")) << svm.out;
  // --whiten: the run's within-speaker whitening, fitted on its training chunks, then the same
  // three turns; without --run, a usage error
  const auto wh = hptrain(base + " --out " + (dir / "w").string() + " --run " + run.string() +
                          " --whiten true --whiten-weight 1");
  ASSERT_EQ(wh.code, 0) << wh.out;
  EXPECT_TRUE(has(wh.out, "within-speaker whitening fitted on")) << wh.out;
  const auto tw = diarization::read_rttm(dir / "w" / "talk.rttm");
  EXPECT_EQ(speaker_at(tw, 1.5), speaker_at(tw, 7.5));
  EXPECT_NE(speaker_at(tw, 1.5), speaker_at(tw, 4.5));
  // kept in the run folder and read back: the same answer without the fit; a whitening of
  // another model (its fingerprint) is fitted again
  const auto kept = run / speakers::kWhiteningFile;
  ASSERT_TRUE(std::filesystem::exists(kept));
  const auto again = hptrain(base + " --out " + (dir / "w2").string() + " --run " + run.string() +
                             " --whiten true --whiten-weight 1");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_TRUE(has(again.out, "whitening read from")) << again.out;
  EXPECT_EQ(fs::read_text(dir / "w2" / "talk.rttm"), fs::read_text(dir / "w" / "talk.rttm"));
  {
    h5::File f = h5::File::open_read(kept);
    const auto mean = f.read_doubles("mean");
    const auto matrix = f.read_doubles("matrix");
    f.close();
    h5::File g = h5::File::create(kept);
    g.write("mean", mean.data(), {static_cast<int64_t>(mean.size())});
    g.write("matrix", matrix.data(),
            {static_cast<int64_t>(mean.size()), static_cast<int64_t>(mean.size())});
    g.set_attr("/", "fingerprint", std::string("another model"));
    g.close();
  }
  const auto other_model = hptrain(base + " --out " + (dir / "w3").string() + " --run " +
                                   run.string() + " --whiten true --whiten-weight 1");
  ASSERT_EQ(other_model.code, 0) << other_model.out;
  EXPECT_TRUE(has(other_model.out, "whitening fitted on")) << other_model.out;
  const auto loose = hptrain(base + " --out " + (dir / "x").string() + " --whiten true");
  EXPECT_NE(loose.code, 0);
  EXPECT_TRUE(has(loose.out, "--run")) << loose.out;
  // --cast needs --run: a usage error
  const auto alone =
      hptrain(base + " --out " + (dir / "a").string() + " --cast " + (dir / "cast.h5").string());
  EXPECT_NE(alone.code, 0);
  EXPECT_TRUE(has(alone.out, "--run")) << alone.out;
}

}  // namespace
}  // namespace hptrain::cli
