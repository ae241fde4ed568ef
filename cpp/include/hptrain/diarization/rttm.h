// NIST RTTM speaker turns (`SPEAKER <uri> <channel> <onset> <duration> <NA> <NA> <speaker> <NA>
// <NA>`): reading with errors that name the file and line, writing with times in seconds to 3
// decimals, as md-eval and dscore read them.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace hptrain::diarization {

// One speaker turn: [onset, onset + duration) seconds of recording `uri`.
struct Turn {
  std::string uri;
  double onset = 0;
  double duration = 0;
  std::string speaker;
};

// The latest time (s) a turn may end at: far beyond any recording, and small enough that sums
// of durations stay finite and a millisecond stays distinct.
inline constexpr double kMaxRttmSeconds = 1e9;

// The SPEAKER lines of one RTTM file (other types, blank lines and lines starting with `;;` or
// `#` are skipped). InputError "<file>:<line>: <why>" on fewer than 9 fields, a time that is not
// a number, a negative onset or duration, a turn ending after kMaxRttmSeconds.
std::vector<Turn> read_rttm(const std::filesystem::path& path);

// An RTTM file, or every *.rttm directly in a folder; turns grouped by uri. `uris_seen` (when
// not null) also gets the uris of files without any turn: a folder's empty `<uri>.rttm` names
// its uri by the file's stem (an empty hypothesis is a file of its own, not a missing one).
std::map<std::string, std::vector<Turn>> read_rttm_inputs(const std::filesystem::path& path);

// The RTTM lines of `turns` (uri and speaker as given, channel 1, 3 decimals).
std::string format_rttm(const std::vector<Turn>& turns);

// Writes format_rttm(turns) atomically (an empty file when there is no turn).
void write_rttm(const std::filesystem::path& path, const std::vector<Turn>& turns);

}  // namespace hptrain::diarization
