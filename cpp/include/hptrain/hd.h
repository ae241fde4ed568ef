// Code shared by host and device: HP_HD (__host__ __device__ under nvcc, nothing otherwise) and
// products and sums rounded on their own, so that host and device twins give the same bits.
#pragma once

#if defined(__CUDACC__)
#define HP_HD __host__ __device__
#else
#define HP_HD
#endif

namespace hptrain {

// a * b and a + b, each rounded once. nvcc contracts a product followed by a sum into one FMA
// (one rounding) unless told not to; the host build (x86-64 without -mfma) never does, so these
// keep the GPU's arithmetic equal to the CPU's.
HP_HD inline float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
HP_HD inline double mul_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
HP_HD inline float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
HP_HD inline double add_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}

// *p from global memory: the GPU's compiler then emits a global load where it could not tell
// the address space of a pointer read from memory (a generic load otherwise); a plain load on
// the host.
template <class T>
HP_HD inline T load_global(const T* p) {
#if defined(__CUDA_ARCH__)
  __builtin_assume(__isGlobal(p));
#endif
  return *p;
}

}  // namespace hptrain
