// Enrolment of a film's cast and naming windows by it (speakers/cast.h).
#include "hptrain/speakers/cast.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "hptrain/data/manifest.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"
#include "hptrain/log.h"

namespace hptrain::speakers {
namespace {

std::string where(const std::filesystem::path& manifest, int64_t row) {
  return manifest.string() + ":" + std::to_string(row);
}

}  // namespace

std::vector<CastLine> read_cast_lines(const std::filesystem::path& manifest, double window_s) {
  const auto rows = data::parse_csv(fs::read_text(manifest), manifest.string());
  if (rows.empty()) throw InputError("'" + manifest.string() + "' is empty");
  const auto& head = rows.front().fields;
  const auto column = [&](const std::string& name) {
    const auto it = std::find(head.begin(), head.end(), name);
    if (it == head.end()) {
      throw InputError("'" + manifest.string() + "': no column '" + name +
                       "' (a cast manifest has path,start,end,character)");
    }
    return static_cast<size_t>(it - head.begin());
  };
  const size_t c_path = column("path"), c_start = column("start"), c_end = column("end"),
               c_char = column("character");
  const auto voice_it = std::find(head.begin(), head.end(), "voice");
  std::vector<CastLine> lines;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const std::string at = where(manifest, row.line);
    if (!row.error.empty()) throw InputError(at + ": " + row.error);
    if (row.fields.size() != head.size()) {
      throw InputError(at + ": " + std::to_string(row.fields.size()) + " fields, the header has " +
                       std::to_string(head.size()));
    }
    CastLine l;
    l.row = row.line;
    l.character = row.fields[c_char];
    if (voice_it != head.end()) l.voice = row.fields[static_cast<size_t>(voice_it - head.begin())];
    if (l.character.empty()) throw InputError(at + ": no character");
    if (row.fields[c_path].empty()) throw InputError(at + ": no path");
    l.file = row.fields[c_path];
    if (l.file.is_relative()) l.file = manifest.parent_path() / l.file;
    const auto start = data::parse_time(row.fields[c_start]);
    const auto end = data::parse_time(row.fields[c_end]);
    if (!start || !end) {
      throw InputError(at + ": start '" + row.fields[c_start] + "' or end '" + row.fields[c_end] +
                       "' is not a time (seconds, mm:ss or hh:mm:ss)");
    }
    l.start = *start;
    l.end = *end;
    if (!(l.end > l.start)) {
      throw InputError(at + ": end " + row.fields[c_end] + " is not after start " +
                       row.fields[c_start]);
    }
    // the window holds window_s; a shorter line would be mostly padding
    if (l.end - l.start < window_s - 1e-9) {
      std::ostringstream os;
      os << at << ": the line of '" << l.character << "' (" << row.fields[c_path] << ", "
         << row.fields[c_start] << " to " << row.fields[c_end] << ") lasts " << l.end - l.start
         << " s, shorter than the window (" << window_s
         << " s): give a longer line or a smaller --window-s";
      throw InputError(os.str());
    }
    lines.push_back(std::move(l));
  }
  if (lines.empty()) throw InputError("'" + manifest.string() + "' has no line");
  return lines;
}

std::map<size_t, Embeddings> embed_cast_lines(Embedder& emb, const std::vector<CastLine>& lines,
                                              const std::filesystem::path& manifest) {
  std::map<std::filesystem::path, std::vector<size_t>> by_file;
  for (size_t i = 0; i < lines.size(); ++i) by_file[lines[i].file].push_back(i);
  const double len = std::lround(emb.options().window_s * emb.sample_rate());
  std::map<size_t, Embeddings> out;
  for (const auto& [file, idx] : by_file) {
    std::vector<std::pair<double, double>> spans;
    for (size_t i : idx) spans.emplace_back(lines[i].start, lines[i].end);
    std::vector<std::vector<float>> audio;
    try {
      audio = emb.read_spans(file, spans);
    } catch (const InputError& e) {
      HP_LOG_WARN("{}: {}: its lines are not used", manifest.string(), e.what());
      continue;
    }
    for (size_t k = 0; k < idx.size(); ++k) {
      const CastLine& l = lines[idx[k]];
      if (static_cast<double>(audio[k].size()) < len) {
        HP_LOG_WARN(
            "{}: '{}' has {:.2f} s of audio from {} to {} s, less than a window: line not "
            "used",
            where(manifest, l.row), file.string(),
            static_cast<double>(audio[k].size()) / emb.sample_rate(), l.start, l.end);
        continue;
      }
      out.emplace(idx[k], emb.embed(audio[k].data(), audio[k].size(), l.start));
    }
  }
  return out;
}

Cast run_enroll(const EnrollOptions& opts) {
  opts.embed.validate();
  const auto lines = read_cast_lines(opts.manifest, opts.embed.window_s);
  Embedder emb(opts.run, opts.embed);
  const int64_t dim = emb.dim();
  std::map<std::string, std::vector<double>> sum;  // character -> sum of window embeddings
  std::map<std::string, int64_t> n_lines, n_windows;
  std::map<std::string, std::string> rows;  // character -> its rows, for the error
  for (const auto& l : lines) {
    sum.emplace(l.character, std::vector<double>(static_cast<size_t>(dim), 0.0));
    rows[l.character] += (rows[l.character].empty() ? "" : ", ") + std::to_string(l.row);
  }
  for (const auto& [i, e] : embed_cast_lines(emb, lines, opts.manifest)) {
    const CastLine& l = lines[i];
    auto& s = sum[l.character];
    for (int64_t w = 0; w < e.size(); ++w) {
      for (int64_t d = 0; d < dim; ++d) s[d] += e.row(w)[d];
    }
    n_lines[l.character] += 1;
    n_windows[l.character] += e.size();
  }
  Cast cast;
  cast.run = opts.run.string();
  cast.fingerprint = emb.fingerprint();
  cast.weights = weights_checksum(opts.run);
  cast.dim = dim;
  cast.window_s = opts.embed.window_s;
  cast.hop_s = opts.embed.hop_s;
  for (const auto& [name, s] : sum) {
    if (n_windows[name] == 0) {
      throw InputError("'" + opts.manifest.string() + "': character '" + name +
                       "' has no usable line (rows " + rows[name] +
                       ": files that cannot be decoded, or no audio between start and end)");
    }
    double norm = 0;
    for (double v : s) norm += v * v;
    norm = std::sqrt(norm);
    cast.characters.push_back(name);
    for (double v : s) cast.centroids.push_back(static_cast<float>(norm > 0 ? v / norm : 0.0));
    cast.lines.push_back(n_lines[name]);
    cast.windows.push_back(n_windows[name]);
  }
  const auto v = emb.calibrate(opts.split);
  cast.threshold = v.threshold;
  cast.eer = v.eer;
  cast.min_dcf = v.min_dcf;
  cast.calibration = "the " + opts.split + " split of run '" + opts.run.string() + "', task " +
                     emb.speaker_task() + ": " + std::to_string(v.targets) + " same and " +
                     std::to_string(v.nontargets) + " different pairs of one-window cuts";
  const auto c = static_cast<int64_t>(cast.characters.size());
  fs::atomic_write(opts.out, [&](const std::filesystem::path& tmp) {
    h5::File f = h5::File::create_in_memory(tmp);
    f.write("centroids", cast.centroids.data(), {c, dim});
    f.write_strings("characters", cast.characters);
    f.write("lines", cast.lines.data(), {c});
    f.write("windows", cast.windows.data(), {c});
    f.set_attr("/", "run", cast.run);
    f.set_attr("/", "fingerprint", cast.fingerprint);
    f.set_attr("/", "weights", cast.weights);
    f.set_attr("/", "threshold", cast.threshold);
    f.set_attr("/", "eer", cast.eer);
    f.set_attr("/", "min_dcf", cast.min_dcf);
    f.set_attr("/", "calibration", cast.calibration);
    f.set_attr("/", "window_s", cast.window_s);
    f.set_attr("/", "hop_s", cast.hop_s);
    f.close();
  });
  HP_LOG_INFO("{}: {} characters, threshold {:.4f} (EER {:.2f} % on {})", opts.out.string(), c,
              cast.threshold, 100 * cast.eer, cast.calibration);
  return cast;
}

Cast read_cast(const std::filesystem::path& path) {
  const h5::File f = h5::File::open_read(path);
  if (!f.has("centroids") || !f.has("characters") || !f.has_attr("/", "fingerprint")) {
    throw InputError("'" + path.string() + "' is not a cast file (hptrain enroll writes them)");
  }
  Cast c;
  std::vector<int64_t> shape;
  c.centroids = f.read_floats("centroids", &shape);
  c.characters = f.read_strings("characters");
  if (shape.size() != 2 || shape[0] != static_cast<int64_t>(c.characters.size())) {
    throw InputError("'" + path.string() + "': centroids are not one row per character");
  }
  c.dim = shape[1];
  c.lines = f.read_int64s("lines");
  c.windows = f.read_int64s("windows");
  c.run = f.attr_string("/", "run");
  c.fingerprint = f.attr_string("/", "fingerprint");
  if (f.has_attr("/", "weights")) c.weights = f.attr_string("/", "weights");
  c.threshold = f.attr_double("/", "threshold");
  c.eer = f.attr_double("/", "eer");
  c.min_dcf = f.attr_double("/", "min_dcf");
  c.calibration = f.attr_string("/", "calibration");
  c.window_s = f.attr_double("/", "window_s");
  c.hop_s = f.attr_double("/", "hop_s");
  return c;
}

void check_cast(const Cast& cast, const std::filesystem::path& cast_file, const Embedder& emb) {
  check_cast(cast, cast_file, emb.run(), emb.fingerprint(), emb.dim());
}

void check_cast(const Cast& cast, const std::filesystem::path& cast_file,
                const std::filesystem::path& run, const std::string& fingerprint, int64_t dim) {
  if (cast.dim != dim) {
    throw InputError("'" + cast_file.string() + "' holds embeddings of " +
                     std::to_string(cast.dim) + " dimensions (run '" + cast.run + "'), run '" +
                     run.string() + "' makes " + std::to_string(dim) +
                     ": enrol the cast again with --run " + run.string());
  }
  if (cast.fingerprint != fingerprint) {
    throw InputError("'" + cast_file.string() + "' was enrolled with run '" + cast.run +
                     "' (model fingerprint " + cast.fingerprint + "), not with run '" +
                     run.string() + "' (" + fingerprint + "): enrol the cast again with --run " +
                     run.string());
  }
  if (!cast.weights.empty()) {
    const std::string now = weights_checksum(run);
    if (now != cast.weights) {
      throw InputError("'" + cast_file.string() + "' was enrolled with the weights of run '" +
                       cast.run + "' (checksum " + cast.weights + "); run '" + run.string() +
                       "' has other weights (" + now +
                       "): the same settings trained apart or again; enrol the cast again with "
                       "--run " +
                       run.string());
    }
  }
}

std::string weights_checksum(const std::filesystem::path& run) {
  const std::string bytes = fs::read_bytes(run / "model_best.pt");
  return fs::hex64(fs::fnv1a64(bytes.data(), bytes.size()));
}

int64_t name_window(const Cast& cast, const float* embedding, double* score) {
  int64_t best = -1;
  double best_score = -2;
  for (size_t c = 0; c < cast.characters.size(); ++c) {
    const double s = cosine(embedding, cast.centroid(c), cast.dim);
    if (s > best_score) {
      best_score = s;
      best = static_cast<int64_t>(c);
    }
  }
  if (score != nullptr) *score = best_score;
  return best_score >= cast.threshold ? best : -1;
}

}  // namespace hptrain::speakers
