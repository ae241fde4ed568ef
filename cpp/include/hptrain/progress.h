// Progress reporting for long work: a redrawn bar with rate and ETA on a terminal, plain
// log lines (at most every 10 s, and at the end) when stderr is not a terminal.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace hptrain {

class Progress {
 public:
  // `label` names the work ("decode", "epoch 3/20"); `total` is in `unit`s (0 when unknown).
  Progress(std::string label, std::size_t total, std::string unit = "items");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Adds `n` done units; `status` is shown after the bar (e.g. "loss 0.41").
  void advance(std::size_t n = 1, const std::string& status = {});
  // Replaces the total, when it was an estimate that the work has since settled (a recording's
  // chunks: fewer than its stated duration gives when silence is trimmed).
  void set_total(std::size_t total) { total_ = total; }
  // Ends the bar (prints the final line); called by the destructor if not called before.
  void finish(const std::string& status = {});

  std::size_t done() const { return done_; }
  double elapsed_s() const;

 private:
  void draw(bool final_line);

  std::string label_;
  std::size_t total_;
  std::string unit_;
  std::size_t done_ = 0;
  std::string status_;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace hptrain
