// Progress's log lines where stderr is not a terminal (as under ctest): the counts against the
// total, the total replaced once the work has settled it, the final line written once.
#include "hptrain/progress.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

namespace hptrain {
namespace {

// The default logger's messages while alive, then the logger as it was.
class CapturedLog {
 public:
  CapturedLog() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64)) {
    previous_ = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>("captured", sink_);
    logger->set_level(spdlog::level::info);
    logger->set_pattern("%v");
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::vector<std::string> lines() const { return sink_->last_formatted(); }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(Progress, FinalLineCountsAgainstTheSettledTotal) {
  if (isatty(2)) GTEST_SKIP() << "stderr is a terminal: the bar is drawn, not logged";
  const CapturedLog log;
  double before = 0, after = 0;  // the bar's age around the advance
  {
    Progress bar("predict film.wav", 29, "chunks");
    before = bar.elapsed_s();
    bar.advance(25, "classifying");
    after = bar.elapsed_s();
    bar.set_total(bar.done());
    bar.finish("done");
    bar.finish("twice");  // a second finish (and the destructor's) writes nothing
  }
  const std::vector<std::string> lines = log.lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("predict film.wav: 25/25 chunks", 0), 0u) << lines.back();
  EXPECT_NE(lines.back().find("done"), std::string::npos) << lines.back();
  // The advance has a line of its own only when it came 10 s or more after the start: decided
  // by the bar's own clock, not by assuming the machine is fast.
  if (after < 10.0) {
    EXPECT_EQ(lines.size(), 1u);
  } else if (before >= 10.0) {
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].rfind("predict film.wav: 25/29 chunks", 0), 0u) << lines[0];
  } else {
    EXPECT_LE(lines.size(), 2u);  // the 10 s mark fell inside the advance
  }
}

// An interrupted job's bar keeps its total: the final line says how far it got.
TEST(Progress, UnfinishedWorkKeepsItsTotal) {
  if (isatty(2)) GTEST_SKIP() << "stderr is a terminal: the bar is drawn, not logged";
  const CapturedLog log;
  double after = 0;
  {
    Progress bar("decode", 10, "files");
    bar.advance(4);
    after = bar.elapsed_s();
  }
  const std::vector<std::string> lines = log.lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("decode: 4/10 files", 0), 0u) << lines.back();
  if (after < 10.0) {
    EXPECT_EQ(lines.size(), 1u);  // see above: an interim line only after 10 s
  }
}

}  // namespace
}  // namespace hptrain
