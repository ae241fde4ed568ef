#include "hptrain/progress.h"

#include <unistd.h>

#include <cstdio>

#include "hptrain/log.h"

namespace hptrain {
namespace {

std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e7) return "--:--";
  const long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", t / 60, t % 60);
  }
  return buf;
}

}  // namespace

Progress::Progress(std::string label, std::size_t total, std::string unit)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      tty_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  try {
    finish();
  } catch (...) {  // a destructor never throws; a failed progress line is not worth an abort
  }
}

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(std::size_t n, const std::string& status) {
  done_ += n;
  if (!status.empty()) status_ = status;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if ((tty_ && since >= 0.1) || (!tty_ && since >= 10.0)) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish(const std::string& status) {
  if (finished_) return;
  finished_ = true;
  if (!status.empty()) status_ = status;
  draw(true);
}

void Progress::draw(bool final_line) {
  const double el = elapsed_s();
  const double rate = el > 0 ? static_cast<double>(done_) / el : 0.0;
  std::string eta = "--:--";
  if (total_ > 0 && rate > 0 && done_ <= total_) {
    eta = format_duration(static_cast<double>(total_ - done_) / rate);
  }
  char counts[96];
  if (total_ > 0) {
    std::snprintf(counts, sizeof counts, "%zu/%zu %s", done_, total_, unit_.c_str());
  } else {
    std::snprintf(counts, sizeof counts, "%zu %s", done_, unit_.c_str());
  }
  char rates[64];
  std::snprintf(rates, sizeof rates, "%.1f %s/s", rate, unit_.c_str());
  if (tty_) {
    std::string bar;
    if (total_ > 0) {
      const int width = 24;
      const int filled = static_cast<int>(width * std::min(1.0, double(done_) / double(total_)));
      bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
    }
    std::fprintf(stderr, "\r\033[K%s %s%s  %s  %s %s  %s", label_.c_str(), bar.c_str(), counts,
                 rates, final_line ? "took" : "eta",
                 final_line ? format_duration(el).c_str() : eta.c_str(), status_.c_str());
    if (final_line) std::fputc('\n', stderr);
    std::fflush(stderr);
  } else {
    HP_LOG_INFO("{}: {}  {}  {} {}  {}", label_, counts, rates, final_line ? "took" : "eta",
                final_line ? format_duration(el) : eta, status_);
  }
}

}  // namespace hptrain
