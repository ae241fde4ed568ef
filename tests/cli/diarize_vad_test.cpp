// `hptrain diarize --vad MODEL`: the LibTorch-free hptrain hands the command to hptrain-torch,
// which runs the TorchScript model with Silero VAD's interface. Models written here (TorchScript
// source compiled by LibTorch) answer "never speech" and "always speech", which the energy
// detector would not, so the output shows whose decision was taken.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/script.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "hptrain/diarization/rttm.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "support/support.h"

namespace hptrain::cli {
namespace {

test::CommandResult hptrain(const std::string& args) {
  return test::run_command(std::string(HP_HPTRAIN_BINARY) + " " + args);
}

// A TorchScript model forward(x, sr) -> [1, 1] `value`, with Silero's reset_states().
void write_model(const std::filesystem::path& path, double value) {
  torch::jit::Module m("FakeVad");
  m.define(R"(
def reset_states(self, batch_size: int = 1):
    pass
def forward(self, x: Tensor, sr: int) -> Tensor:
    return torch.full([1, 1], )" +
           std::to_string(value) + R"() + 0.0 * x.sum()
)");
  m.save(path.string());
}

TEST(DiarizeVad, TheModelDecidesWhatIsSpeech) {
  test::TempDir dir;
  // two tones taking turns: the energy detector finds speech in both
  std::vector<float> x(16000 * 8, 0.0f);
  for (size_t i = 0; i < x.size(); ++i) {
    const double t = static_cast<double>(i) / 16000;
    const double f = (static_cast<int>(t) / 2) % 2 == 0 ? 330 : 550;  // in 300-3400 Hz
    const bool on = std::fmod(t, 2.0) > 0.3 && std::fmod(t, 2.0) < 1.7;
    x[i] = on ? static_cast<float>(0.1 * std::sin(2 * M_PI * f * t) +
                                   0.05 * std::sin(6 * M_PI * f * t))
              : 0.0f;
  }
  io::write_wav(dir / "talk.wav", x.data(), x.size(), 16000);
  write_model(dir / "never.pt", 0.0);
  write_model(dir / "always.pt", 1.0);
  const std::string wav = (dir / "talk.wav").string();

  // without --vad, hptrain runs it without loading LibTorch (LD_DEBUG lists every library)
  const auto energy =
      hptrain("diarize " + wav + " --out " + (dir / "e").string() + " --log-level warn");
  ASSERT_EQ(energy.code, 0) << energy.out;
  const std::string libs = test::run_command("LD_DEBUG=files " + std::string(HP_HPTRAIN_BINARY) +
                                             " diarize " + wav + " --out " + (dir / "e2").string())
                               .out;
  EXPECT_EQ(libs.find("libtorch"), std::string::npos);
  const auto e_turns = diarization::read_rttm(dir / "e" / "talk.rttm");
  ASSERT_FALSE(e_turns.empty());
  EXPECT_GT(e_turns.front().onset, 0.25);  // the first 0.3 s are silent

  const auto never = hptrain("diarize " + wav + " --out " + (dir / "n").string() + " --vad " +
                             (dir / "never.pt").string());
  EXPECT_EQ(never.code, 0) << never.out;
  EXPECT_NE(never.out.find("no speech found"), std::string::npos) << never.out;
  EXPECT_EQ(fs::read_text(dir / "n" / "talk.rttm"), "");

  const auto always = hptrain("diarize " + wav + " --out " + (dir / "a").string() + " --vad " +
                              (dir / "always.pt").string());
  EXPECT_EQ(always.code, 0) << always.out;
  const auto a_turns = diarization::read_rttm(dir / "a" / "talk.rttm");
  ASSERT_FALSE(a_turns.empty());
  EXPECT_LT(a_turns.front().onset, 0.05);  // speech from the start, silence included
  double covered = 0;
  for (const auto& t : a_turns) covered += t.duration;
  EXPECT_GT(covered, 7.9);

  // not a model: an error naming the file, exit code 1
  fs::write_text(dir / "bad.pt", "not a model");
  const auto bad = hptrain("diarize " + wav + " --out " + (dir / "b").string() + " --vad " +
                           (dir / "bad.pt").string());
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("bad.pt': cannot load a TorchScript model"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace hptrain::cli
