// The cast file (HDF5): written by enroll, read and checked against a run by its consumers
// (speakers/cast.h).
#include <cmath>
#include <string>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"
#include "hptrain/speakers/cast.h"

namespace hptrain::speakers {

void write_cast(const std::filesystem::path& out, const Cast& cast,
                const std::vector<double>& trial_scores, const std::vector<int64_t>& trial_target) {
  const auto c = static_cast<int64_t>(cast.characters.size());
  const int64_t dim = cast.dim;
  fs::atomic_write(out, [&](const std::filesystem::path& tmp) {
    h5::File f = h5::File::create_in_memory(tmp);
    f.write("centroids", cast.centroids.data(), {c, dim});
    f.write_strings("characters", cast.characters);
    f.write("lines", cast.lines.data(), {c});
    f.write("windows", cast.windows.data(), {c});
    if (cast.cohort_n > 0) f.write("cohort", cast.cohort.data(), {cast.cohort_n, dim});
    if (!trial_scores.empty()) {
      const auto n = static_cast<int64_t>(trial_scores.size());
      f.write("calibration_scores", trial_scores.data(), {n});
      f.write("calibration_target", trial_target.data(), {n});
    }
    f.set_attr("/", "run", cast.run);
    f.set_attr("/", "fingerprint", cast.fingerprint);
    f.set_attr("/", "weights", cast.weights);
    f.set_attr("/", "scoring", cast.scoring.method);
    f.set_attr("/", "top_n", static_cast<double>(cast.scoring.top_n));
    f.set_attr("/", "threshold", cast.threshold);
    f.set_attr("/", "eer", cast.eer);
    f.set_attr("/", "min_dcf", cast.min_dcf);
    f.set_attr("/", "calibrate", cast.calibrate);
    f.set_attr("/", "calibration", cast.calibration);
    f.set_attr("/", "window_s", cast.window_s);
    f.set_attr("/", "hop_s", cast.hop_s);
    f.close();
  });
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
  // files from before the scoring was recorded hold raw cosines and a cosine threshold
  if (f.has_attr("/", "scoring")) c.scoring.method = f.attr_string("/", "scoring");
  if (f.has_attr("/", "top_n")) {
    c.scoring.top_n = static_cast<int64_t>(std::llround(f.attr_double("/", "top_n")));
  }
  try {
    c.scoring.validate();
  } catch (const ConfigError& e) {
    throw InputError("'" + path.string() + "': " + e.what() +
                     " (a cast file from a newer hptrain? enrol the cast again)");
  }
  if (c.scoring.method != metrics::kScoreCosine) {
    if (!f.has("cohort")) {
      throw InputError("'" + path.string() + "': scoring " + c.scoring.method +
                       " needs the cohort of impostor embeddings, and the file has none: enrol "
                       "the cast again");
    }
    std::vector<int64_t> cshape;
    c.cohort = f.read_floats("cohort", &cshape);
    if (cshape.size() != 2 || cshape[1] != c.dim) {
      throw InputError("'" + path.string() + "': its cohort is not [n, " + std::to_string(c.dim) +
                       "] embeddings");
    }
    c.cohort_n = cshape[0];
  }
  if (f.has_attr("/", "calibrate")) c.calibrate = f.attr_string("/", "calibrate");
  c.threshold = f.attr_double("/", "threshold");
  c.eer = f.attr_double("/", "eer");
  c.min_dcf = f.attr_double("/", "min_dcf");
  c.calibration = f.attr_string("/", "calibration");
  c.window_s = f.attr_double("/", "window_s");
  c.hop_s = f.attr_double("/", "hop_s");
  prepare_scorer(c);
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

}  // namespace hptrain::speakers
