// Development conversations for diarization: WAVs of dialogue-like turns between 2-6 voices
// (pauses, some overlap, an optional music or effects bed at a given SNR) and their reference
// RTTMs. Deterministic for a seed. Mono float32 at 16 kHz.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "hptrain/diarization/rttm.h"

namespace hptrain::diarization {

struct ConversationConfig {
  int count = 10;        // conversations to write
  int min_speakers = 2;  // speakers per conversation, drawn in [min, max]
  int max_speakers = 6;
  double overlap = 0.05;     // fraction of turns that start before the previous one ends
  std::string bed = "none";  // music | effects | none: what plays under the voices
  double snr_db = 10;        // speech-to-bed power ratio over the speech (dB)
  uint64_t seed = 1;
  double min_duration_s = 60;  // each conversation's length, drawn in [min, max]
  double max_duration_s = 90;
  int sr = 16000;
  // Voice lines: one sub-folder per speaker, or a flat folder whose file names start with the
  // speaker ("<speaker>-...", as LibriSpeech names them). Empty: the hedgewars voice packs the
  // demo corpus does not train on (data::demo_cast() lists those it does).
  std::filesystem::path voices;
  std::filesystem::path hedgewars_voices = "/usr/share/games/hedgewars/Data/Sounds/voices";
  std::filesystem::path wesnoth = "/usr/share/games/wesnoth/1.16/data/core";  // beds
  void validate() const;  // ConfigError naming the field
};

struct Conversation {
  std::string name;  // the uri: the WAV's stem ("conv-000")
  double duration_s = 0;
  std::vector<std::string> speakers;
  std::vector<Turn> turns;  // the reference, by onset
};

// The speakers of a voices folder, each with its audio files, sorted (see `voices`).
std::vector<std::pair<std::string, std::vector<std::filesystem::path>>> find_voices(
    const ConversationConfig& cfg);

// Writes <out>/<name>.wav and <out>/<name>.rttm for each conversation, then
// <out>/conversations.csv (name, duration, speakers, turns, overlap seconds). Returns them.
std::vector<Conversation> make_conversations(const ConversationConfig& cfg,
                                             const std::filesystem::path& out);

}  // namespace hptrain::diarization
