// Ctrl-C during training: the handler only raises a flag, which the training loop polls to
// checkpoint and return; a second Ctrl-C ends the process at once.
#pragma once

#include <atomic>
#include <csignal>

namespace hptrain::train::detail {

// Raised by SIGINT while a SigintHandler lives; cleared when one is installed.
extern std::atomic<bool> g_stop;

// Installs the handler for its lifetime and restores the previous one after.
class SigintHandler {
 public:
  SigintHandler();
  ~SigintHandler();
  SigintHandler(const SigintHandler&) = delete;
  SigintHandler& operator=(const SigintHandler&) = delete;

 private:
  struct sigaction old_ {};
};

}  // namespace hptrain::train::detail
