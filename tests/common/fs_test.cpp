// fs::remove_tree: a whole folder tree goes, links go without their targets, absent paths are
// no error; fs::atomic_write leaves the old file when the writer throws.
#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "hptrain/fs.h"
#include "support/support.h"

namespace hptrain {
namespace {

namespace stdfs = std::filesystem;

TEST(RemoveTree, RemovesNestedFoldersButNotWhatLinksPointTo) {
  test::TempDir dir;
  const stdfs::path root = dir / "tree";
  stdfs::create_directories(root / "a" / "b" / "c");
  fs::write_text(root / "top.txt", "1");
  fs::write_text(root / "a" / "b" / "c" / "deep.txt", "2");
  fs::write_text(dir / "outside.txt", "keep");
  stdfs::create_symlink(dir / "outside.txt", root / "a" / "link.txt");
  stdfs::create_directory_symlink(dir.path(), root / "a" / "b" / "loop");
  std::error_code ec;
  fs::remove_tree(root, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(stdfs::exists(root));
  EXPECT_EQ(fs::read_text(dir / "outside.txt"), "keep");
}

TEST(RemoveTree, AbsentPathAndSingleFile) {
  test::TempDir dir;
  std::error_code ec;
  fs::remove_tree(dir / "missing", ec);
  EXPECT_FALSE(ec);
  fs::write_text(dir / "one.txt", "x");
  fs::remove_tree(dir / "one.txt", ec);
  EXPECT_FALSE(ec);
  EXPECT_FALSE(stdfs::exists(dir / "one.txt"));
}

TEST(AtomicWrite, ThrowingWriterLeavesTheOldFile) {
  test::TempDir dir;
  fs::write_text(dir / "f.txt", "old");
  EXPECT_THROW(fs::atomic_write(dir / "f.txt",
                                [](const stdfs::path& tmp) {
                                  fs::write_text(tmp, "half");
                                  throw std::runtime_error("disk full");
                                }),
               std::runtime_error);
  EXPECT_EQ(fs::read_text(dir / "f.txt"), "old");
  EXPECT_EQ(std::distance(stdfs::directory_iterator(dir.path()), stdfs::directory_iterator()), 1);
}

}  // namespace
}  // namespace hptrain
