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

// A command's callback sets the process exit code with this (default 0).
void set_exit_code(int code);
int exit_code();

}  // namespace hptrain::cli
