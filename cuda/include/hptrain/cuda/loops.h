// Loop forms of the memory-bound kernels, the groups of outputs a warp holds in registers and
// the key of their atomic maxima, written once for host and device (HP_HD) so that their
// arithmetic is tested on the host.
#pragma once

#include <cstdint>
#include <cstring>

#include "hptrain/hd.h"

// #pragma unroll in device code; host compilers do not know it.
#if defined(__CUDA_ARCH__)
#define HP_UNROLL _Pragma("unroll")
#else
#define HP_UNROLL
#endif

namespace hptrain::cuda {

// Loads a thread keeps in flight in the memory-bound kernels' loops: with one at a time the mel
// kernel reached 43 % and power_to_db 68 % of DRAM bandwidth on an H100.
constexpr int kLoadsInFlight = 4;

// store(i, load(i)) for i = first, first + stride, ... below n, kInFlight loads at a time issued
// before their stores: a thread of a grid-stride loop then keeps kInFlight independent loads in
// flight instead of waiting on each. A store may write where its own load read (in place).
template <int kInFlight = kLoadsInFlight, class Load, class Store>
HP_HD void grouped_loads(int64_t first, int64_t n, int64_t stride, Load&& load, Store&& store) {
  for (int64_t i0 = first; i0 < n; i0 += kInFlight * stride) {
    decltype(load(i0)) v[kInFlight] = {};
    HP_UNROLL
    for (int u = 0; u < kInFlight; ++u) {
      if (i0 + u * stride < n) v[u] = load(i0 + u * stride);
    }
    HP_UNROLL
    for (int u = 0; u < kInFlight; ++u) {
      if (i0 + u * stride < n) store(i0 + u * stride, v[u]);
    }
  }
}

// Outputs 0..n-1 dealt to `warps` warps round-robin (warp g: g, g + warps, ...), each warp's in
// groups of up to `regs` held in registers at once: the size of the group that starts at c0
// (c0, c0 + warps, ... all below n), 0 when c0 >= n. The next group starts at c0 + warps regs.
HP_HD inline int register_group(int n, int c0, int warps, int regs) {
  if (c0 >= n) return 0;
  const int left = (n - c0 + warps - 1) / warps;
  return left < regs ? left : regs;
}

#if defined(__CUDACC__)
// The largest of the warp's keys into *target (atomicMax, one per warp; key 0, none, is never
// stored). Every lane of the warp must call it.
__device__ inline void warp_max_into(uint32_t key, uint32_t* target) {
  for (int o = 16; o > 0; o /= 2) key = max(key, __shfl_xor_sync(0xffffffffu, key, o));
  if (threadIdx.x % 32 == 0 && key != 0) atomicMax(target, key);
}
#endif

// An unsigned key of a float in the float's order (-inf < ... < -0 < +0 < ... < +inf; NaN is
// never keyed), so that atomicMax on keys takes the maximum of floats of any sign; key 0 is
// below every float's key, the maximum of none.
HP_HD inline uint32_t order_key(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return (u & 0x80000000u) != 0 ? ~u : u | 0x80000000u;
}
// The key of a power value for power_to_db's floor: NaN and values below zero as +0, which
// neither raises the floor (power_to_db takes max(amin, x), amin > 0, as the CPU does) nor is
// key 0 (none).
HP_HD inline uint32_t power_key(float p) {
  return order_key(p > 0.0f ? p : 0.0f);
}
// The float of a key of order_key; `none` for key 0.
HP_HD inline float from_order_key(uint32_t k, float none) {
  if (k == 0) return none;
  const uint32_t u = (k & 0x80000000u) != 0 ? k & 0x7fffffffu : ~k;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace hptrain::cuda
