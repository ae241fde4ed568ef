// File-system helpers: atomic writes (temporary file, then rename) so that a crash never
// leaves a half-written file under a name that is taken for complete.
#pragma once

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

// Reads a whole text file; throws InputError naming the file when it cannot be read.
std::string read_text(const std::filesystem::path& path);

// Removes `path` and everything under it (nothing to do when it does not exist; links are
// removed, never followed); ec holds the first error. std::filesystem::remove_all without it:
// PyTorch's libtorch.so (2.x wheels) exports its own copy, which programs linking it bind to
// and which crashes on a non-empty folder.
void remove_tree(const std::filesystem::path& path, std::error_code& ec) noexcept;

}  // namespace hptrain::fs
