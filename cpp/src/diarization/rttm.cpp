// RTTM reading and writing (rttm.h).
#include "hptrain/diarization/rttm.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include "hptrain/error.h"
#include "hptrain/fs.h"

namespace hptrain::diarization {

namespace stdfs = std::filesystem;

namespace {

// A time in seconds: a finite number (one too small for a double reads as 0), not negative.
double parse_time(const std::string& s, const std::string& where, const char* what) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v)) {
    throw InputError(where + ": " + what + " '" + s + "' is not a number");
  }
  if (v < 0) throw InputError(where + ": " + what + " " + s + " is negative");
  return v;
}

}  // namespace

std::vector<Turn> read_rttm(const stdfs::path& path) {
  std::istringstream in(fs::read_text(path));
  std::vector<Turn> turns;
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream ls(line);
    std::vector<std::string> f;
    for (std::string w; ls >> w;) f.push_back(w);
    if (f.empty() || f[0].rfind(";;", 0) == 0 || f[0][0] == '#') continue;
    const std::string where = path.string() + ":" + std::to_string(no);
    if (f[0] != "SPEAKER") {
      if (f.size() < 9)
        throw InputError(where + ": " + std::to_string(f.size()) +
                         " fields, an RTTM line has 9 or 10");
      continue;  // other RTTM types (SPKR-INFO, LEXEME, ...): not turns
    }
    if (f.size() < 9) {
      throw InputError(where + ": " + std::to_string(f.size()) +
                       " fields, a SPEAKER line has 9 or 10 (SPEAKER uri channel onset duration "
                       "<NA> <NA> speaker <NA> <NA>)");
    }
    Turn t;
    t.uri = f[1];
    t.onset = parse_time(f[3], where, "onset");
    t.duration = parse_time(f[4], where, "duration");
    if (t.onset + t.duration > kMaxRttmSeconds) {
      throw InputError(where + ": the turn ends at " + f[3] + " + " + f[4] +
                       " s, beyond the latest time an RTTM turn may reach (" +
                       fmt::format("{:g}", kMaxRttmSeconds) + " s, about 32 years)");
    }
    t.speaker = f[7];
    turns.push_back(std::move(t));
  }
  return turns;
}

std::map<std::string, std::vector<Turn>> read_rttm_inputs(const stdfs::path& path) {
  std::map<std::string, std::vector<Turn>> by_uri;
  std::vector<stdfs::path> files;
  std::error_code ec;
  if (stdfs::is_directory(path, ec)) {
    for (const auto& e : stdfs::directory_iterator(path)) {
      if (e.path().extension() == ".rttm") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) throw InputError("'" + path.string() + "': no .rttm file in the folder");
  } else {
    files.push_back(path);
  }
  for (const auto& f : files) {
    const auto turns = read_rttm(f);
    if (turns.empty()) by_uri[f.stem().string()];  // an empty file: a uri without speech
    for (const auto& t : turns) by_uri[t.uri].push_back(t);
  }
  return by_uri;
}

std::string format_rttm(const std::vector<Turn>& turns) {
  std::string out;
  for (const auto& t : turns) {
    out += fmt::format("SPEAKER {} 1 {:.3f} {:.3f} <NA> <NA> {} <NA> <NA>\n", t.uri, t.onset,
                       t.duration, t.speaker);
  }
  return out;
}

void write_rttm(const stdfs::path& path, const std::vector<Turn>& turns) {
  fs::write_text(path, format_rttm(turns));
}

}  // namespace hptrain::diarization
