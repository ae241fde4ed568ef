// Exception types of hptrain. Messages say what failed, where (file, row, key) and why.
#pragma once

#include <stdexcept>
#include <string>

namespace hptrain {

// Base of every error the library throws; main() maps it to a non-zero exit code.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A configuration value (TOML key, CLI option, struct field) is missing, mistyped or out of range.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// Input data is missing, unreadable, corrupt or unusable (audio files, CSV rows, HDF5 shards).
class InputError : public Error {
 public:
  using Error::Error;
};

// A CUDA runtime, cuFFT or cuBLAS call failed.
class CudaError : public Error {
 public:
  using Error::Error;
};

// The device ran out of memory; the message says how much was asked and how much was free.
class DeviceOutOfMemory : public CudaError {
 public:
  using CudaError::CudaError;
};

}  // namespace hptrain
