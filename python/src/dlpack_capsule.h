// A float32 buffer as a DLPack capsule ("dltensor", the protocol torch.utils.dlpack.from_dlpack
// reads): the consumer shares the memory, which stays alive through `owner` until its deleter
// runs. The structs are DLPack 0.x's ABI (dmlc/dlpack include/dlpack/dlpack.h), declared here so
// that the module needs neither LibTorch nor the header package.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace hptrain::python::dlpack {

enum DeviceType : int32_t { kDLCPU = 1, kDLCUDA = 2 };

struct DLDevice {
  int32_t device_type;
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;  // 2: float
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // null: compact row-major
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};

// What a capsule keeps alive: its shape and the buffer's owner.
struct Context {
  std::vector<int64_t> shape;
  std::shared_ptr<void> owner;
};

inline void delete_managed(DLManagedTensor* t) {
  delete static_cast<Context*>(t->manager_ctx);
  delete t;
}

// A capsule of `data` (float32, row-major `shape`) on `device`; `owner` frees it when the
// consumer (or the capsule, if never consumed) is done.
inline pybind11::capsule capsule(float* data, std::vector<int64_t> shape, DeviceType device,
                                 int device_id, std::shared_ptr<void> owner) {
  auto* ctx = new Context{std::move(shape), std::move(owner)};
  auto* t = new DLManagedTensor{};
  t->dl_tensor.data = data;
  t->dl_tensor.device = {device, device_id};
  t->dl_tensor.ndim = static_cast<int32_t>(ctx->shape.size());
  t->dl_tensor.dtype = {2, 32, 1};
  t->dl_tensor.shape = ctx->shape.data();
  t->dl_tensor.strides = nullptr;
  t->dl_tensor.byte_offset = 0;
  t->manager_ctx = ctx;
  t->deleter = delete_managed;
  // a consumer renames the capsule "used_dltensor" and calls the deleter itself; an unconsumed
  // capsule frees the tensor when it is collected
  PyObject* cap = PyCapsule_New(t, "dltensor", [](PyObject* self) {
    if (PyCapsule_IsValid(self, "dltensor")) {
      auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(self, "dltensor"));
      if (m != nullptr && m->deleter != nullptr) m->deleter(m);
    }
  });
  if (cap == nullptr) {
    delete_managed(t);
    throw pybind11::error_already_set();
  }
  return pybind11::reinterpret_steal<pybind11::capsule>(cap);
}

}  // namespace hptrain::python::dlpack
