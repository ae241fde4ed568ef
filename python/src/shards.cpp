// hptrain._hptrain: the HDF5 shards of a prepared dataset (data::ShardDataset as Shards) and
// where a dataset's shards are (shards_dir).
#include <cstdint>
#include <string>
#include <vector>

#include "bindings.h"
#include "hptrain/data/dataset.h"
#include "hptrain/data/dataset_config.h"

namespace hptrain::python {
namespace {

class PyShards {
 public:
  PyShards(const std::filesystem::path& dir, const std::string& split) : ds_(dir, split) {}
  int64_t size() const { return ds_.size(); }
  std::vector<std::string> tasks() const { return ds_.tasks(); }
  std::vector<std::string> classes(const std::string& task) const { return ds_.classes(task); }
  std::vector<int64_t> example_shape(const std::string& input) const {
    return ds_.example_shape(data::parse_input(input));
  }
  py::array_t<int64_t> labels(const std::string& task) const {
    std::vector<int64_t> v = ds_.labels(task);
    const auto n = static_cast<py::ssize_t>(v.size());
    return owned_array(std::move(v), {n});
  }
  std::vector<std::string> stats_columns() const { return ds_.stats_columns(); }
  void set_cache_budget(int64_t bytes) { ds_.set_cache_budget(bytes); }
  // (x [len(indices), *example_shape], {task: int64 [len(indices)]})
  py::tuple get(const std::vector<int64_t>& indices, const std::string& input) const {
    const data::Input in = data::parse_input(input);
    for (const int64_t i : indices) {
      if (i < 0 || i >= ds_.size()) {
        throw py::index_error("index " + std::to_string(i) + " out of range for " +
                              std::to_string(ds_.size()) + " examples");
      }
    }
    data::Batch b;
    {
      py::gil_scoped_release release;
      b = ds_.get(indices, in);
    }
    std::vector<py::ssize_t> shape(b.shape.begin(), b.shape.end());
    py::dict labels;
    for (auto& [task, v] : b.labels) {
      const auto n = static_cast<py::ssize_t>(v.size());
      labels[py::str(task)] = owned_array(std::move(v), {n});
    }
    return py::make_tuple(owned_array(std::move(b.x), shape), labels);
  }

 private:
  data::ShardDataset ds_;
};

}  // namespace

void bind_shards(py::module_& m) {
  m.def("shards_dir", [](const std::filesystem::path& toml) {
    return data::load_dataset_config(toml).shards_dir();
  });

  py::class_<PyShards>(m, "Shards")
      .def(py::init<const std::filesystem::path&, const std::string&>())
      .def("__len__", &PyShards::size)
      .def("tasks", &PyShards::tasks)
      .def("classes", &PyShards::classes)
      .def("example_shape", &PyShards::example_shape)
      .def("labels", &PyShards::labels)
      .def("stats_columns", &PyShards::stats_columns)
      .def("set_cache_budget", &PyShards::set_cache_budget)
      .def("get", &PyShards::get);
}

}  // namespace hptrain::python
