// Writing and listing HDF5 shards.
#include "hptrain/data/shard.h"

#include <algorithm>
#include <regex>

#include "hptrain/error.h"
#include "hptrain/fs.h"

namespace hptrain::data {

namespace stdfs = std::filesystem;

std::string shard_name(const std::string& split, int64_t index) {
  return split + "-" + std::to_string(index) + ".h5";
}

std::vector<std::pair<int64_t, stdfs::path>> list_shards(const stdfs::path& dir,
                                                         const std::string& split) {
  std::vector<std::pair<int64_t, stdfs::path>> out;
  if (!stdfs::is_directory(dir)) return out;
  const std::regex re(split + "-([0-9]+)\\.h5");
  std::smatch m;
  for (const auto& e : stdfs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && std::regex_match(name, m, re)) {
      out.emplace_back(std::stoll(m[1].str()), e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void write_shard(const stdfs::path& path, const ShardContents& c, const ShardInfo& info,
                 const std::function<void(h5::File&)>& attrs, const h5::Compression& compression) {
  const int64_t n = c.size();
  auto check = [&](const char* what, int64_t got) {
    if (got != n) {
      throw InputError("shard '" + path.string() + "': " + what + " has " + std::to_string(got) +
                       " rows, expected " + std::to_string(n));
    }
  };
  check("log_mel", c.log_mel.batch);
  check("mfcc", c.mfcc.batch);
  check("stats", c.stats.batch);
  if (c.audio.batch > 0) check("audio", c.audio.batch);
  check("offset", static_cast<int64_t>(c.offset.size()));
  for (const auto& task : info.tasks)
    check(("labels/" + task).c_str(), static_cast<int64_t>(c.labels.at(task).size()));
  fs::atomic_write(path, [&](const stdfs::path& tmp) {
    h5::File f = h5::File::create_in_memory(tmp);  // a full disk: the OS's reason, no crash
    auto write3 = [&](const std::string& name, const Tensor3& t) {
      f.write(name, t.data.data(), {t.batch, t.rows, t.frames},
              h5::Storage{{1, t.rows, t.frames}, compression});
    };
    write3("log_mel", c.log_mel);
    write3("mfcc", c.mfcc);
    const int64_t d = c.stats.rows * c.stats.frames;
    f.write("stats", c.stats.data.data(), {n, d}, h5::Storage{{1, d}, compression});
    f.set_attr("stats", "columns", c.stats_columns);
    f.set_attr("mfcc", "rows", std::string("mfcc, delta, delta2 (n_mfcc rows each)"));
    if (c.audio.batch > 0) {
      const int64_t s = c.audio.rows * c.audio.frames;
      f.write("audio", c.audio.data.data(), {n, s}, h5::Storage{{1, s}, compression});
      f.set_attr("audio", "units", std::string("float32 samples at sample_rate, as preprocessed"));
    }
    for (const auto& task : info.tasks) {
      const auto& l = c.labels.at(task);
      const std::string name = "labels/" + task;
      f.write(name, l.data(), {n});
      f.set_attr(name, "classes", info.classes.at(task));
    }
    f.write_strings("source", c.source);
    f.write("offset", c.offset.data(), {n});
    f.set_attr("offset", "units", std::string("seconds"));
    f.set_attr("/", "split", info.split);
    f.set_attr("/", "index", info.index);
    f.set_attr("/", "fingerprint", info.fingerprint);
    f.set_attr("/", "tasks", info.tasks);
    f.set_attr("/", "resume_file", info.resume_file);
    f.set_attr("/", "resume_chunk", info.resume_chunk);
    f.set_attr("/", "creator", std::string("hptrain ") + HP_VERSION);
    attrs(f);
    f.close();
  });
}

ShardInfo read_shard_info(const h5::File& f) {
  ShardInfo info;
  info.split = f.attr_string("/", "split");
  info.index = f.attr_int("/", "index");
  info.fingerprint = f.attr_string("/", "fingerprint");
  info.tasks = f.attr_strings("/", "tasks");
  for (const auto& task : info.tasks)
    info.classes[task] = f.attr_strings("labels/" + task, "classes");
  info.resume_file = f.attr_int("/", "resume_file");
  info.resume_chunk = f.attr_int("/", "resume_chunk");
  return info;
}

ShardContents read_shard(const h5::File& f) {
  ShardContents c;
  auto read3 = [&](const std::string& name, Tensor3& t) {
    std::vector<int64_t> shape;
    t.data = f.read_floats(name, &shape);
    if (shape.size() != 3)
      throw InputError("HDF5 '" + f.path().string() + "': " + name + " is not 3-D");
    t.batch = shape[0];
    t.rows = shape[1];
    t.frames = shape[2];
  };
  read3("log_mel", c.log_mel);
  read3("mfcc", c.mfcc);
  std::vector<int64_t> shape;
  c.stats.data = f.read_floats("stats", &shape);
  c.stats.batch = shape.at(0);
  c.stats.rows = 1;
  c.stats.frames = shape.at(1);
  c.stats_columns = f.attr_strings("stats", "columns");
  if (f.has("audio")) {
    c.audio.data = f.read_floats("audio", &shape);
    c.audio.batch = shape.at(0);
    c.audio.rows = 1;
    c.audio.frames = shape.at(1);
  }
  for (const auto& task : f.attr_strings("/", "tasks"))
    c.labels[task] = f.read_int64s("labels/" + task);
  c.source = f.read_strings("source");
  c.offset = f.read_doubles("offset");
  return c;
}

}  // namespace hptrain::data
