// Ctrl-C during training (stop_signal.h).
#include "train/stop_signal.h"

namespace hptrain::train::detail {

std::atomic<bool> g_stop{false};

namespace {
void on_sigint(int) {
  g_stop.store(true);
}
}  // namespace

SigintHandler::SigintHandler() {
  g_stop.store(false);
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process at once
  sigaction(SIGINT, &sa, &old_);
}

SigintHandler::~SigintHandler() {
  sigaction(SIGINT, &old_, nullptr);
}

}  // namespace hptrain::train::detail
