// fs::remove_tree: a whole folder tree goes, links go without their targets, absent paths are
// no error; fs::atomic_write leaves the old file when the writer throws.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "hptrain/error.h"

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

TEST(WriteBytes, AFullDiskSaysSoAndNamesTheFile) {
  // /dev/full answers every write with ENOSPC
  const std::string data(100000, 'x');
  try {
    fs::write_bytes("/dev/full", data.data(), data.size(), "shown.bin");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write 'shown.bin': No space left on device");
  }
}

TEST(Checksum, Fnv1aOfKnownInputsAndAnyFlippedBit) {
  // the FNV-1a 64 test vectors
  EXPECT_EQ(fs::hex64(fs::fnv1a64("", 0)), "cbf29ce484222325");
  EXPECT_EQ(fs::hex64(fs::fnv1a64("a", 1)), "af63dc4c8601ec8c");
  EXPECT_EQ(fs::hex64(fs::fnv1a64("foobar", 6)), "85944171f73967e8");
  std::string s(4096, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 7);
  const uint64_t h = fs::fnv1a64(s.data(), s.size());
  for (size_t i = 0; i < s.size(); i += 97) {
    for (int bit = 0; bit < 8; ++bit) {
      s[i] = static_cast<char>(s[i] ^ (1 << bit));
      EXPECT_NE(fs::fnv1a64(s.data(), s.size()), h) << i << " " << bit;
      s[i] = static_cast<char>(s[i] ^ (1 << bit));
    }
  }
}

TEST(RemoveTemporaries, RemovesAtomicWritesLeftoversOnly) {
  test::TempDir dir;
  fs::write_text(dir / "keep.json", "{}");
  fs::write_text(dir / "checkpoint_last.pt.tmp-123-4", "half");
  fs::write_text(dir / "log.csv.tmp-9-0", "half");
  EXPECT_EQ(fs::remove_temporaries(dir.path()), 2);
  EXPECT_TRUE(stdfs::exists(dir / "keep.json"));
  EXPECT_EQ(std::distance(stdfs::directory_iterator(dir.path()), stdfs::directory_iterator()), 1);
  EXPECT_EQ(fs::remove_temporaries(dir / "absent"), 0);
}

// Two processes on one lock file: the second stops at once naming the first (pid, host,
// command); the first's kill -9 frees the lock.
TEST(Lock, ASecondProcessStopsAtOnceAndKillFreesIt) {
  test::TempDir dir;
  const auto file = dir / "out" / fs::kLockName;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      const fs::Lock held(file, "out");
      const char ok = 1;
      if (::write(ready[1], &ok, 1) != 1) ::_exit(2);
      ::pause();  // until killed
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  ::close(ready[0]);
  try {
    const fs::Lock second(file, "folder 'out'");
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    EXPECT_EQ(m.rfind("folder 'out' is in use by another hptrain process (pid " +
                          std::to_string(child) + " on host " + host + ", command '",
                      0),
              0u)
        << m;
    EXPECT_NE(m.find("test_common"), std::string::npos) << m;  // the holder's command line
    EXPECT_NE(m.find(", since 20"), std::string::npos) << m;
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_NO_THROW(fs::Lock(file, "out"));
  // and within one process: released at scope exit
  { const fs::Lock a(file, "out"); }
  EXPECT_NO_THROW(fs::Lock(file, "out"));
}

}  // namespace
}  // namespace hptrain
