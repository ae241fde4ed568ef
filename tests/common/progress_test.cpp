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
  {
    Progress bar("predict film.wav", 29, "chunks");
    bar.advance(25, "classifying");
    bar.set_total(bar.done());
    bar.finish("done");
    bar.finish("twice");  // a second finish (and the destructor's) writes nothing
  }
  const std::vector<std::string> lines = log.lines();
  ASSERT_EQ(lines.size(), 1u);  // the advance came within 10 s of the start: no line of its own
  EXPECT_EQ(lines[0].rfind("predict film.wav: 25/25 chunks", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("done"), std::string::npos) << lines[0];
}

// An interrupted job's bar keeps its total: the final line says how far it got.
TEST(Progress, UnfinishedWorkKeepsItsTotal) {
  if (isatty(2)) GTEST_SKIP() << "stderr is a terminal: the bar is drawn, not logged";
  const CapturedLog log;
  { Progress("decode", 10, "files").advance(4); }
  const std::vector<std::string> lines = log.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("decode: 4/10 files", 0), 0u) << lines[0];
}

}  // namespace
}  // namespace hptrain
