// hptrain._hptrain: the LibTorch-free areas for Python (pybind11); the package python/hptrain
// wraps it. This file defines the module and hptrain's errors; each section binds in its own file.
#include "bindings.h"
#include "hptrain/error.h"

PYBIND11_MODULE(_hptrain, m) {
  using namespace hptrain;
  using namespace hptrain::python;
  m.doc() = "hptrain's C++ core (decoding, features, shards, tabular classifiers)";
  m.attr("__version__") = HP_VERSION;

  // hptrain's errors: what was wrong with the caller's input or configuration -> ValueError;
  // the device -> RuntimeError (MemoryError when it ran out of memory).
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ConfigError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const DeviceOutOfMemory& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  bind_feature_config(m);  // first: extract's signature names FeatureConfig
  bind_audio(m);
  bind_features(m);
  bind_shards(m);
  bind_runs(m);
}
