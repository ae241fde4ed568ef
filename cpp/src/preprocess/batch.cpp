// run_preprocess: a file or a folder of media files to chunk WAVs plus chunks.csv.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "hptrain/csv.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "hptrain/log.h"
#include "hptrain/preprocess/preprocess.h"
#include "hptrain/progress.h"

namespace hptrain::preprocess {
namespace {

namespace stdfs = std::filesystem;

std::string fixed(double v) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(6);
  s << v;
  return s.str();
}

// Media files under `input` (itself when a file), sorted; skips `out` when it lies inside.
std::vector<stdfs::path> find_inputs(const stdfs::path& input, const stdfs::path& out) {
  std::error_code ec;
  if (!stdfs::exists(input, ec)) {
    throw InputError("--input '" + input.string() + "': no such file or folder");
  }
  if (!stdfs::is_directory(input, ec)) {
    // a FIFO or device is refused here, not opened (it could block forever)
    const std::string problem = io::input_file_problem(input);
    if (!problem.empty()) throw InputError("--input '" + input.string() + "': " + problem);
    return {input};
  }
  const stdfs::path out_abs = stdfs::weakly_canonical(out, ec);
  std::vector<stdfs::path> files;
  int64_t ignored = 0;
  stdfs::recursive_directory_iterator it(input, stdfs::directory_options::skip_permission_denied,
                                         ec);
  if (ec) throw InputError("cannot list '" + input.string() + "': " + ec.message());
  for (; it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw InputError("cannot list '" + input.string() + "': " + ec.message());
    if (it->is_directory(ec) && stdfs::weakly_canonical(it->path(), ec) == out_abs) {
      it.disable_recursion_pending();
    } else if (it->is_regular_file(ec)) {
      if (io::is_media_file(it->path())) {
        files.push_back(it->path());
      } else {
        ++ignored;
      }
    }
  }
  if (ignored > 0) HP_LOG_INFO("ignored {} files whose extension is not a media format", ignored);
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    throw InputError("--input '" + input.string() + "': no audio or video file found");
  }
  return files;
}

}  // namespace

PreprocessSummary run_preprocess(const PreprocessOptions& opts) {
  const PreprocessConfig& cfg = opts.config;
  cfg.validate();
  const std::vector<stdfs::path> files = find_inputs(opts.input, opts.out);
  const bool from_dir = stdfs::is_directory(opts.input);
  HP_LOG_INFO("preprocess: {} files from '{}' to '{}'\n{}", files.size(), opts.input.string(),
              opts.out.string(), to_string(cfg));
  PreprocessSummary sum;
  sum.files = static_cast<int64_t>(files.size());
  std::string csv = "chunk,source,offset_s,duration_s\n";
  Progress progress("preprocess", files.size(), "files");
  for (const auto& file : files) {
    // chunk i of IN/a/b.mkv is OUT/a/b.mkv.00000i.wav
    const stdfs::path rel = from_dir ? file.lexically_relative(opts.input) : file.filename();
    std::vector<stdfs::path> written;
    std::string rows;
    try {
      const FileReport rep = process_file(file.string(), cfg, [&](Chunk&& c) {
        char num[32];
        std::snprintf(num, sizeof num, ".%06lld.wav", static_cast<long long>(c.index));
        stdfs::path name = rel;
        name += num;
        io::write_wav(opts.out / name, c.samples.data(), c.samples.size(), cfg.sr);
        written.push_back(opts.out / name);
        rows += csv_field(name.generic_string()) + "," + csv_field(file.generic_string()) + "," +
                fixed(c.offset_s) + "," + fixed(c.duration_s) + "\n";
      });
      if (rep.chunks == 0) {
        std::ostringstream why;
        why << "too short for a chunk: " << rep.trim_end_s - rep.trim_start_s
            << " s kept after trimming";
        sum.skipped.push_back({file.string(), why.str()});
      } else {
        ++sum.converted;
        sum.chunks += rep.chunks;
        if (rep.ungated) ++sum.ungated;
        csv += rows;
      }
    } catch (const Error& e) {
      // no partial output: the chunks this file already wrote go
      for (const auto& p : written) {
        std::error_code ignore;
        stdfs::remove(p, ignore);
      }
      HP_LOG_WARN("skipped: {}", e.what());
      sum.skipped.push_back({file.string(), e.what()});
    }
    progress.advance(1, file.filename().string());
  }
  progress.finish();
  if (sum.ungated > 0) {
    HP_LOG_WARN(
        "{} of {} files were shorter than EBU R128's 0.4 s gating block: normalised by "
        "their ungated K-weighted loudness instead (README, \"Ingest and preprocessing\")",
        sum.ungated, sum.converted);
  }
  if (sum.converted > 0) fs::write_text(opts.out / "chunks.csv", csv);
  return sum;
}

}  // namespace hptrain::preprocess
