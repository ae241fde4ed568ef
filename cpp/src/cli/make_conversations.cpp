// `hptrain make-conversations`: development conversations (WAV + reference RTTM) for
// diarization (diarization/conversations.h).
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/registry.h"
#include "hptrain/diarization/conversations.h"

namespace hptrain::cli {
namespace {

struct MakeConversationsCli {
  diarization::ConversationConfig cfg;
  std::string out;
  std::string speakers = "2-6";
  std::string voices;
};

void run(MakeConversationsCli& st) {
  int a = 0, b = 0;
  char tail = 0;
  const int n = std::sscanf(st.speakers.c_str(), "%d-%d%c", &a, &b, &tail);
  if (n == 1) {
    b = a;
  } else if (n != 2) {
    throw CLI::ValidationError("--speakers", "'" + st.speakers + "': give N or MIN-MAX, e.g. 2-6");
  }
  if (a < 1 || b < a) {
    throw CLI::ValidationError("--speakers", "'" + st.speakers + "': must be 1 <= MIN <= MAX");
  }
  st.cfg.min_speakers = a;
  st.cfg.max_speakers = b;
  st.cfg.voices = st.voices;
  const auto convs = diarization::make_conversations(st.cfg, st.out);
  double total = 0;
  for (const auto& c : convs) total += c.duration_s;
  std::cout << "wrote " << convs.size() << " conversations (" << static_cast<int>(total)
            << " s) with their reference RTTMs to " << st.out << " (index: conversations.csv)\n";
}

void setup(CLI::App& root) {
  auto* sub = root.add_subcommand(
      "make-conversations",
      "Write development conversations for diarization: WAVs of dialogue between voices, "
      "with reference RTTMs (README, 'Diarization')");
  auto st = std::make_shared<MakeConversationsCli>();
  MakeConversationsCli* p = st.get();
  sub->add_option("--out", p->out, "Output folder")->required();
  sub->add_option("--count", p->cfg.count, "Conversations to write")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--speakers", p->speakers, "Speakers per conversation: N or MIN-MAX")
      ->capture_default_str();
  sub->add_option("--overlap", p->cfg.overlap,
                  "Fraction of turns that start before the previous one ends")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--bed", p->cfg.bed, "What plays under the voices: music, effects or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"music", "effects", "none"}));
  sub->add_option("--snr-db", p->cfg.snr_db,
                  "Speech-to-bed power ratio over the reference speech (dB)")
      ->capture_default_str();
  sub->add_option("--seed", p->cfg.seed, "Random seed (same seed, same files)")
      ->capture_default_str();
  sub->add_option("--voices", p->voices,
                  "Voice lines: one sub-folder per speaker, or a flat folder of "
                  "<speaker>-*.flac/wav (LibriSpeech naming). Default: the hedgewars voice packs "
                  "the demo corpus does not train on")
      ->check(CLI::ExistingDirectory);
  sub->callback([st] { run(*st); });
}

const CommandRegistrar kRegistrar("make-conversations", setup);

}  // namespace
}  // namespace hptrain::cli
