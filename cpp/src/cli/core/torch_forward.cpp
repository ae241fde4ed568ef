// The LibTorch-free `hptrain`'s stand-ins for the commands that need LibTorch (train, evaluate,
// predict, report, embed, enroll, evaluate-cast, and the root `--experiment`): each runs
// `hptrain-torch`, built beside this program from every src/cli/*.cpp, with this process's own
// arguments (execv: same pid, same exit code, signals go to it). `hptrain` itself then starts
// without loading LibTorch (bench/results/2026-12-06-cpu-storage.md, "Process start").
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli/core/torch_forward.h"
#include "cli/registry.h"
#include "hptrain/error.h"

namespace hptrain::cli {

// Replaces this process by hptrain-torch with the same arguments; throws when it cannot.
// (Also `diarize --vad`, whose TorchScript model needs LibTorch: cli/diarize.cpp.)
[[noreturn]] void run_torch_binary() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const auto torch_bin = (ec ? std::filesystem::path(".") : self.parent_path()) / "hptrain-torch";
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  for (size_t b = 0; b < raw.size();) {
    const size_t e = raw.find('\0', b);
    args.push_back(raw.substr(b, e == std::string::npos ? std::string::npos : e - b));
    if (e == std::string::npos) break;
    b = e + 1;
  }
  if (args.empty()) args.push_back("hptrain");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(torch_bin.c_str(), argv.data());
  throw Error("this command needs LibTorch: cannot run '" + torch_bin.string() +
              "': " + std::strerror(errno) + " (build the hptrain-torch target beside hptrain)");
}

namespace {

void setup(CLI::App& root) {
  // the root's `--experiment FILE [--set K=V]... [--resume]` (hptrain-torch checks them)
  auto experiment = std::make_shared<std::string>();
  root.add_option("--experiment", *experiment,
                  "Experiment TOML (e.g. experiments/cnn.toml): train, evaluate, report");
  auto overrides = std::make_shared<std::vector<std::string>>();  // repeatable, as hptrain-torch's
  root.add_option("--set", *overrides,
                  "Override a key of the experiment, e.g. --set train.epochs=5")
      ->allow_extra_args(false);
  root.add_flag("--resume", "Continue from the run folder's checkpoint_last.pt");
  root.callback([&root, experiment, overrides] {
    if (!experiment->empty()) run_torch_binary();
    if (root.get_subcommands().empty()) throw CLI::CallForHelp();
  });
  const std::pair<const char*, const char*> commands[] = {
      {"train", "Train and evaluate an experiment (as --experiment)"},
      {"evaluate", "Evaluate a trained run on a split or another dataset"},
      {"predict", "Classify whole recordings with a trained run (per-chunk CSV, segments)"},
      {"report", "One table (Markdown, CSV, PNG) of every run's metrics.json"},
      {"embed", "Speaker embeddings of sliding windows of whole files (HDF5)"},
      {"enroll", "A film's cast: one centroid per character and a calibrated threshold"},
      {"evaluate-cast", "Open-set accuracy and EER of a run on a cast and test lines of your own"}};
  for (const auto& [name, help] : commands) {
    auto* sub = root.add_subcommand(name, std::string(help) + " [hptrain-torch]");
    sub->prefix_command();  // every argument after the name goes to hptrain-torch as it is
    sub->set_help_flag();   // --help too
    sub->callback([] { run_torch_binary(); });
  }
}

const CommandRegistrar kRegistrar("torch-commands", setup);

}  // namespace
}  // namespace hptrain::cli
