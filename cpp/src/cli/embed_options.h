// The options every command that embeds windows with a neural run shares (embed, enroll,
// evaluate-cast): the run folder and the window grid.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>

#include "hptrain/speakers/embed.h"

namespace hptrain::cli {

inline void add_run_and_windows(CLI::App* sub, std::filesystem::path& run,
                                speakers::EmbedOptions& embed) {
  sub->add_option("--run", run, "Run folder of a neural run (e.g. runs/ecapa)")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub->add_option("--window-s", embed.window_s, "Window length (s)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--hop-s", embed.hop_s, "Distance between window starts (s)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

}  // namespace hptrain::cli
