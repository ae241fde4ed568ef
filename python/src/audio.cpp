// hptrain._hptrain: decoding and preprocessing, a whole file (load) or the chunks that
// `hptrain predict` classifies by a dataset's [preprocess] (chunks).
#include <cstdint>
#include <string>
#include <vector>

#include "bindings.h"
#include "hptrain/data/dataset_config.h"
#include "hptrain/io/audio.h"
#include "hptrain/preprocess/preprocess.h"

namespace hptrain::python {
namespace {

py::array_t<float> load(const std::string& path, int sr, int stream, const py::object& pre) {
  std::vector<float> y;
  if (pre.is_none()) {
    py::gil_scoped_release release;
    y = io::load_mono(path, sr, stream);
  } else {
    preprocess::PreprocessConfig pc;
    const auto d = pre.cast<py::dict>();
    for (const auto& [k, v] : d) {
      const auto key = k.cast<std::string>();
      if (key == "trim") {
        pc.trim = as<bool>("preprocess['trim']", v);
      } else if (key == "top_db") {
        pc.top_db = as<double>("preprocess['top_db']", v);
      } else if (key == "frame_length") {
        pc.frame_length = as<int>("preprocess['frame_length']", v);
      } else if (key == "hop_length") {
        pc.hop_length = as<int>("preprocess['hop_length']", v);
      } else if (key == "normalize") {
        pc.normalize = as<std::string>("preprocess['normalize']", v);
      } else if (key == "target_lufs") {
        pc.target_lufs = as<double>("preprocess['target_lufs']", v);
      } else if (key == "peak_db") {
        pc.peak_db = as<double>("preprocess['peak_db']", v);
      } else if (key == "true_peak_db") {
        pc.true_peak_db = as<double>("preprocess['true_peak_db']", v);
      } else {
        throw py::value_error("preprocess: unknown key '" + key +
                              "' (trim, top_db, frame_length, hop_length, normalize, "
                              "target_lufs, peak_db, true_peak_db)");
      }
    }
    pc.sr = sr;
    pc.stream = stream;
    pc.validate();
    py::gil_scoped_release release;
    y = preprocess::process_whole(path, pc);
  }
  const auto n = static_cast<py::ssize_t>(y.size());
  return owned_array(std::move(y), {n});
}

// ---- what `hptrain predict` does to a recording ----------------------------------------------

// The chunks of `path` by the dataset's [preprocess] (trim, normalisation, chunking), as predict
// classifies them: (start_s [n], duration_s [n], audio float32 [n, chunk samples]).
py::tuple chunks(const std::string& path, const std::filesystem::path& dataset_toml, int stream) {
  std::vector<double> starts, durations;
  std::vector<float> audio;
  int64_t n_samples = 0;
  {
    py::gil_scoped_release release;
    preprocess::PreprocessConfig pc = data::load_dataset_config(dataset_toml).preprocess;
    if (stream != -2) pc.stream = stream;  // -2: the dataset's
    preprocess::process_file(path, pc, [&](preprocess::Chunk&& c) {
      n_samples = static_cast<int64_t>(c.samples.size());
      audio.insert(audio.end(), c.samples.begin(), c.samples.end());
      starts.push_back(c.offset_s);
      durations.push_back(c.duration_s);
    });
  }
  const auto n = static_cast<py::ssize_t>(starts.size());
  return py::make_tuple(owned_array(std::move(starts), {n}), owned_array(std::move(durations), {n}),
                        owned_array(std::move(audio), {n, n_samples}));
}

}  // namespace

void bind_audio(py::module_& m) {
  m.def("load", &load, py::arg("path"), py::arg("sr"), py::arg("stream"), py::arg("preprocess"));
  m.def("chunks", &chunks, py::arg("path"), py::arg("dataset_toml"), py::arg("stream"));
}

}  // namespace hptrain::python
