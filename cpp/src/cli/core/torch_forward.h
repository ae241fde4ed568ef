// The LibTorch-free `hptrain` hands a command to `hptrain-torch` beside it (torch_forward.cpp).
#pragma once

namespace hptrain::cli {

// Replaces this process by hptrain-torch with the same arguments; throws hptrain::Error when it
// cannot.
[[noreturn]] void run_torch_binary();

}  // namespace hptrain::cli
