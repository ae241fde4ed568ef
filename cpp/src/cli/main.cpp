// hptrain: the command-line entry point. Maps errors to exit codes (README, "Exit codes");
// subcommands live in their own files and register themselves (registry.h).
#include <algorithm>
#include <iostream>
#include <new>
#include <system_error>

#include "cli/registry.h"
#include "hptrain/error.h"
#include "hptrain/log.h"

namespace hptrain::cli {

namespace {
int g_exit_code = 0;
}

std::vector<std::pair<std::string, CommandSetup>>& registered_commands() {
  static std::vector<std::pair<std::string, CommandSetup>> commands;
  return commands;
}

CommandRegistrar::CommandRegistrar(std::string name, CommandSetup setup) {
  auto& c = registered_commands();
  c.emplace_back(std::move(name), std::move(setup));
  std::sort(c.begin(), c.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

void set_exit_code(int code) {
  g_exit_code = code;
}
int exit_code() {
  return g_exit_code;
}

}  // namespace hptrain::cli

int main(int argc, char** argv) {
  CLI::App app{"hptrain: GPU-accelerated training engine for film-audio classification"};
  app.set_version_flag("--version", std::string("hptrain ") + HP_VERSION);
  std::string log_level = "info";
  const auto log_option = [&log_level](CLI::App& a) {
    a.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
        ->capture_default_str();
  };
  log_option(app);
  app.parse_complete_callback([&] { hptrain::log::init(log_level); });
  for (auto& [name, setup] : hptrain::cli::registered_commands()) setup(app);
  // before or after the subcommand alike: `hptrain evaluate --run r --log-level warn`
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) log_option(*sub);
  using namespace hptrain::cli;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" of CLI11 with code 0; the rest are usage errors, whose
    // CLI11 numbers (105-109, ...) are no one's convention
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  } catch (const hptrain::Error& e) {
    HP_LOG_ERROR("{}", e.what());
    return kExitInput;
  } catch (const std::system_error& e) {  // std::filesystem and iostreams: the OS's reason
    HP_LOG_ERROR("{}", e.what());
    return kExitInput;
  } catch (const std::bad_alloc&) {
    HP_LOG_ERROR("out of memory (std::bad_alloc)");
    return kExitInput;
  } catch (const std::exception& e) {
    HP_LOG_ERROR("internal error: {}", e.what());
    return kExitInternal;
  }
  return exit_code();
}
