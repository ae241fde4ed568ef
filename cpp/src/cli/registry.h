// Self-registering CLI subcommands: each cpp/src/cli/<name>.cpp defines a static
// CommandRegistrar whose setup adds its subcommand (and callback) to the root CLI11 app.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace hptrain::cli {

using CommandSetup = std::function<void(CLI::App& root)>;

struct CommandRegistrar {
  CommandRegistrar(std::string name, CommandSetup setup);
};

// Registered setups, in name order.
std::vector<std::pair<std::string, CommandSetup>>& registered_commands();

// The exit codes of hptrain (README, "Exit codes").
constexpr int kExitOk = 0;
constexpr int kExitInput = 1;          // input, configuration or OS error (hptrain::Error, ...)
constexpr int kExitUsage = 2;          // command line: unknown option, missing or bad argument
constexpr int kExitInternal = 70;      // a bug: an unexpected exception (sysexits' EX_SOFTWARE)
constexpr int kExitInterrupted = 130;  // Ctrl-C during training (128 + SIGINT), checkpoint saved

// A command's callback sets the process exit code with this (default 0).
void set_exit_code(int code);
int exit_code();

}  // namespace hptrain::cli
