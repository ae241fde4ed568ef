// What the module's files share: NumPy arrays that own C++ memory, Python values checked as C++
// fields (ValueError naming the keyword), and each section's bind_* function (module.cpp calls
// them).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace hptrain::python {

namespace py = pybind11;

// ---- NumPy arrays that own C++ memory (no copy) ---------------------------------------------

template <class T>
py::array_t<T> owned_array(std::vector<T>&& v, std::vector<py::ssize_t> shape) {
  auto* owner = new std::vector<T>(std::move(v));
  py::capsule free_when_done(owner, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(shape, owner->data(), free_when_done);
}

// ---- keyword arguments -> configs ------------------------------------------------------------

// A Python value as the C++ field's type; ValueError naming the keyword.
template <class T>
T as(const std::string& key, py::handle v) {
  const auto fail = [&](const char* want) {
    return py::value_error(key + " = " + py::repr(v).cast<std::string>() + ": expected " + want);
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!py::isinstance<py::bool_>(v)) throw fail("True or False");
    return v.cast<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (py::isinstance<py::bool_>(v) || !py::isinstance<py::int_>(v)) throw fail("an int");
    try {
      return v.cast<T>();
    } catch (const py::cast_error&) {
      throw fail("an int in the range of a C++ int");
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    if (py::isinstance<py::bool_>(v) ||
        !(py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v))) {
      throw fail("a number");
    }
    return v.cast<T>();
  } else {
    if (!py::isinstance<py::str>(v)) throw fail("a str");
    return v.cast<std::string>();
  }
}

template <class T>
std::optional<T> as_optional(const std::string& key, py::handle v) {
  if (v.is_none()) return std::nullopt;
  return as<T>(key, v);
}

// ---- the sections (one file each), in the order module.cpp calls them ------------------------

void bind_feature_config(py::module_& m);  // feature_config.cpp
void bind_audio(py::module_& m);           // audio.cpp
void bind_features(py::module_& m);        // features.cpp
void bind_shards(py::module_& m);          // shards.cpp
void bind_runs(py::module_& m);            // runs.cpp

}  // namespace hptrain::python
