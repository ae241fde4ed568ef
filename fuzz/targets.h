// Fuzz entry points: each takes arbitrary bytes and returns 0. Input the product must reject
// ends in an hptrain::Error; anything else (a crash, a sanitizer report, another exception, a
// broken invariant) is a finding. libFuzzer calls them through fuzz/driver.cpp, and
// tests/fuzz/replay_test.cpp replays tests/data/fuzz/<target>/ (seeds and crashes) through them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace hptrain::io::detail {
class Decoder;
}

namespace hptrain::fuzz {

// The manifest CSV reader: parse_csv, read_manifest (tasks named by the header), label_chunk,
// describe and write_bad_rows (whose CSV must read back as written).
int fuzz_manifest(const uint8_t* data, size_t size);
// The TOML layer: config::parse_file, `#set a.b=v` lines as --set overrides, the dataset
// config (preprocess, features, split, tasks), the baselines' [model] keys, and (when built with
// LibTorch) train::load_experiment.
int fuzz_toml(const uint8_t* data, size_t size);
// libsndfile decoding (io::detail::open_sndfile, every block), then MonoReader at another rate.
int fuzz_sndfile(const uint8_t* data, size_t size);
// FFmpeg decoding (io::detail::open_ffmpeg, every block); returns 0 at once without FFmpeg.
int fuzz_ffmpeg(const uint8_t* data, size_t size);
// RTTM reading (diarization::read_rttm), writing read back, and DER/JER scoring of the turns
// against themselves (no error) and against a second RTTM after the first blank line.
int fuzz_rttm(const uint8_t* data, size_t size);

// Reads every block of a decoder, checking what decoders promise (rate, channels, finite
// non-empty blocks); used by the audio targets.
void drain(io::detail::Decoder& dec);

struct Target {
  const char* name;  // the folder under tests/data/fuzz/ and the fuzzer's name (fuzz_<name>)
  int (*entry)(const uint8_t*, size_t);
  bool available;  // false: not in this build (FFmpeg off)
};
const std::vector<Target>& targets();

// `name` in this process's scratch folder (created on first use, removed at exit).
std::filesystem::path scratch_path(const std::string& name);
// Writes the bytes to `name` in this process's scratch folder (removed at exit); its path.
std::filesystem::path scratch_file(const std::string& name, const uint8_t* data, size_t size);

// Silences the library's logging (once): warnings about odd input are expected here.
void quiet();

// Reports a broken invariant on stderr and aborts (a finding for libFuzzer and the replay test).
[[noreturn]] void finding(const std::string& what);
#define HP_FUZZ_CHECK(cond, what)                                              \
  do {                                                                         \
    if (!(cond)) ::hptrain::fuzz::finding(std::string(#cond) + ": " + (what)); \
  } while (0)

}  // namespace hptrain::fuzz
