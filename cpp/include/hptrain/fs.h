// File-system helpers: atomic writes (temporary file, then rename) so that a crash never
// leaves a half-written file under a name that is taken for complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>

namespace hptrain::fs {

// Calls write(tmp) with a temporary path beside `path` (same folder, so rename is atomic),
// then renames it to `path`. If write throws, the temporary file is removed, `path` is left
// as it was, and the exception propagates. Creates the parent folder if needed.
void atomic_write(const std::filesystem::path& path,
                  const std::function<void(const std::filesystem::path& tmp)>& write);

// Writes `text` to `path` atomically.
void write_text(const std::filesystem::path& path, const std::string& text);

// Writes `n` bytes to `path` (not atomically: the writer given to atomic_write). InputError
// naming `shown` (the file the user knows, default `path`) and the OS reason ("No space left on
// device") when a write or the close fails.
void write_bytes(const std::filesystem::path& path, const void* data, size_t n,
                 const std::filesystem::path& shown = {});

// Reads a whole file as bytes; InputError naming the file and the OS reason.
std::string read_bytes(const std::filesystem::path& path);

// Removes the temporaries that atomic_write leaves when its process is killed
// ("<name>.tmp-<pid>-<n>" directly in `dir`); returns how many. Call it only while holding the
// folder's Lock, so that no other process is writing them.
int remove_temporaries(const std::filesystem::path& dir);

// 64-bit FNV-1a of bytes (any one changed run of bytes changes it), and as 16 hex digits.
uint64_t fnv1a64(const void* data, size_t n, uint64_t h = 14695981039346656037ull);
std::string hex64(uint64_t v);

// An exclusive lock on `file` (flock(2), created if absent; the OS releases it when the process
// ends, kill -9 included). The file holds who has it: pid, host, command, since when (UTC).
// A second Lock on the same file, from any process, throws InputError at once naming `what`
// (the folder it guards) and that holder; with Lock::kWait it logs that holder once and waits
// for the lock instead. Released (and the file emptied) on destruction.
// The lock file of a folder that one process at a time writes (run folders, prepared datasets).
inline constexpr const char* kLockName = ".hptrain.lock";

class Lock {
 public:
  enum Wait { kFail, kWait };  // when another process holds it: stop at once, or wait
  Lock(const std::filesystem::path& file, const std::string& what, Wait wait = kFail);
  ~Lock();
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

 private:
  int fd_ = -1;
};

// Reads a whole text file; throws InputError naming the file when it cannot be read.
std::string read_text(const std::filesystem::path& path);

// Removes `path` and everything under it (nothing to do when it does not exist; links are
// removed, never followed); ec holds the first error. std::filesystem::remove_all without it:
// PyTorch's libtorch.so (2.x wheels) exports its own copy, which programs linking it bind to
// and which crashes on a non-empty folder.
void remove_tree(const std::filesystem::path& path, std::error_code& ec) noexcept;

}  // namespace hptrain::fs
