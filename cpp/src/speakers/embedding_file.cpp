// `hptrain embed` (speakers/embed.h): every file's window embeddings into one HDF5 file
// (embeddings, start_s, duration_s, source; the run's fingerprint and the window grid as
// attributes), and that file read back.
#include <string>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"
#include "hptrain/log.h"
#include "hptrain/speakers/embed.h"

namespace hptrain::speakers {

std::vector<EmbedFileResult> run_embed(const EmbedCommandOptions& opts) {
  Embedder emb(opts.run, opts.embed);
  HP_LOG_INFO(
      "{}: embeddings of {} dimensions on {}, windows of {} s every {} s ({} mode, {}), {} "
      "file(s)",
      opts.run.string(), emb.dim(), emb.device(), opts.embed.window_s, opts.embed.hop_s,
      emb.streaming() ? "stream" : "window", emb.bf16() ? "bf16" : "fp32", opts.files.size());
  Embeddings all;
  all.dim = emb.dim();
  std::vector<std::string> source;
  std::vector<EmbedFileResult> results;
  for (const auto& f : opts.files) {
    EmbedFileResult r;
    r.file = f;
    try {
      const Embeddings e = emb.embed_file(f);
      r.windows = e.size();
      all.data.insert(all.data.end(), e.data.begin(), e.data.end());
      all.start_s.insert(all.start_s.end(), e.start_s.begin(), e.start_s.end());
      all.duration_s.insert(all.duration_s.end(), e.duration_s.begin(), e.duration_s.end());
      source.insert(source.end(), static_cast<size_t>(e.size()), f.string());
      if (r.windows == 0) {
        r.warning = "'" + f.string() + "': no usable audio (no window of " +
                    std::to_string(opts.embed.window_s) + " s after trimming): no embedding";
      }
    } catch (const InputError& e) {  // this file's audio; the run is fine
      r.warning = std::string(e.what()) + ": no embedding";
    }
    if (!r.warning.empty()) HP_LOG_WARN("{}", r.warning);
    results.push_back(std::move(r));
  }
  const int64_t n = all.size();
  fs::atomic_write(opts.out, [&](const std::filesystem::path& tmp) {
    h5::File f = h5::File::create_in_memory(tmp);
    f.write("embeddings", all.data.data(), {n, all.dim});
    f.write("start_s", all.start_s.data(), {n});
    f.write("duration_s", all.duration_s.data(), {n});
    f.write_strings("source", source);
    f.set_attr("/", "run", opts.run.string());
    f.set_attr("/", "fingerprint", emb.fingerprint());
    f.set_attr("/", "window_s", opts.embed.window_s);
    f.set_attr("/", "hop_s", opts.embed.hop_s);
    f.set_attr("/", "sample_rate", static_cast<int64_t>(emb.sample_rate()));
    f.set_attr("/", "mode", std::string(emb.streaming() ? "stream" : "window"));
    f.set_attr("/", "precision", std::string(emb.bf16() ? "bf16" : "fp32"));
    f.set_attr("/", "dither", opts.embed.dither);
    f.close();
  });
  return results;
}

EmbeddingFile read_embeddings(const std::filesystem::path& path) {
  const h5::File f = h5::File::open_read(path);
  EmbeddingFile out;
  std::vector<int64_t> shape;
  out.emb.data = f.read_floats("embeddings", &shape);
  if (shape.size() != 2) {
    throw InputError("'" + path.string() + "': embeddings is not a 2-D dataset");
  }
  out.emb.dim = shape[1];
  out.emb.start_s = f.read_doubles("start_s");
  out.emb.duration_s = f.read_doubles("duration_s");
  out.source = f.read_strings("source");
  if (static_cast<int64_t>(out.emb.start_s.size()) != shape[0] ||
      out.emb.duration_s.size() != out.emb.start_s.size() ||
      out.source.size() != out.emb.start_s.size()) {
    throw InputError("'" + path.string() + "': start_s, duration_s and source are not one per row");
  }
  out.run = f.attr_string("/", "run");
  out.fingerprint = f.attr_string("/", "fingerprint");
  return out;
}

}  // namespace hptrain::speakers
