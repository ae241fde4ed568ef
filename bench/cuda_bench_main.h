// main() of the GPU benchmark programs: without a CUDA device they say so and exit 0, so that
// a CPU-only machine can run every bench program.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>

#include "hptrain/cuda/device.h"

#define HP_CUDA_BENCHMARK_MAIN(program)                               \
  int main(int argc, char** argv) {                                   \
    if (hptrain::cuda::device_count() == 0) {                         \
      std::puts(program ": no CUDA device; nothing to time");         \
      return 0;                                                       \
    }                                                                 \
    benchmark::Initialize(&argc, argv);                               \
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1; \
    benchmark::RunSpecifiedBenchmarks();                              \
    benchmark::Shutdown();                                            \
    return 0;                                                         \
  }
