// `hptrain prepare`: a dataset TOML to HDF5 shards (building the demo corpus first when the
// dataset asks for it); see README, "Datasets". Under a launcher (WORLD_SIZE or SLURM_NTASKS
// above 1) the ranks share the work through c10d's store: `hptrain` hands the command to
// hptrain-torch (HP_CLI_TORCH), which joins the job (README, "Scaling out").
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "cli/registry.h"
#include "hptrain/data/prepare.h"

#ifdef HP_CLI_TORCH
#ifdef HP_WITH_CUDA
#include "hptrain/cuda/check.h"
#include "hptrain/cuda/device.h"
#include "hptrain/device.h"
#endif
#include "hptrain/fs.h"
#include "hptrain/log.h"
#include "hptrain/train/distributed.h"
#include "train/distributed_store.h"
#else
#include "cli/core/torch_forward.h"
#endif

namespace hptrain::cli {
namespace {

#ifdef HP_CLI_TORCH
// Prepares as one rank of the job `env`; only rank 0 returns true (it prints the summary).
bool prepare_as_rank(const data::PrepareOptions& opts, const train::RankEnv& env,
                     data::PrepareSummary& s) {
  if (env.rank != 0) spdlog::set_level(spdlog::level::warn);  // rank 0 alone logs
#ifdef HP_WITH_CUDA
  // the features of each local rank on its own GPU, as training's NCCL ranks (set before any
  // other CUDA call: the extractor's pool and plans live on the current device)
  if (gpu_available()) {
    if (const int n = cuda::device_count(); n > 1) HP_CUDA_CHECK(cudaSetDevice(env.local_rank % n));
  }
#endif
  // every rank must prepare the same dataset file with the same options
  const std::string job = "prepare\n" + fs::read_text(opts.dataset) +
                          "\nforce=" + std::to_string(opts.force) +
                          " skip_bad_rows=" + std::to_string(opts.skip_bad_rows) +
                          " demo_only=" + std::to_string(opts.demo_only);
  train::detail::StoreRendezvous ranks(env, fs::hex64(fs::fnv1a64(job.data(), job.size())));
  HP_LOG_INFO("prepare as {}", env.describe());
  s = data::run_prepare(opts, &ranks);
  return env.rank == 0;
}
#else
// Whether the launcher's variables ask for more than one rank (checked in full by hptrain-torch).
bool launched_as_ranks() {
  for (const char* name : {"WORLD_SIZE", "SLURM_NTASKS"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0' && std::string(v) != "1") return true;
  }
  return false;
}
#endif

void setup(CLI::App& root) {
  auto* sub = root.add_subcommand(
      "prepare",
      "Decode, preprocess and extract features of a dataset's audio into HDF5 shards "
      "<split>-<i>.h5 (resumable; builds the demo corpus when the dataset has [demo])");
  auto opts = std::make_shared<data::PrepareOptions>();
  sub->add_option("--dataset", opts->dataset, "Dataset TOML (e.g. datasets/demo/dataset.toml)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_flag("--force", opts->force,
                "Delete the shards (and rebuild a demo corpus) and prepare everything again");
  sub->add_flag("--skip-bad-rows", opts->skip_bad_rows,
                "Leave out bad manifest rows and undecodable files (listed in skipped.csv) "
                "instead of stopping");
  sub->add_flag("--demo-only", opts->demo_only,
                "Only build the demo corpus (audio and manifest), not the shards");
  sub->callback([opts] {
    data::PrepareSummary s;
#ifdef HP_CLI_TORCH
    const auto env = train::read_rank_env();
    if (env.world_size > 1) {
      if (!prepare_as_rank(*opts, env, s)) return;
    } else {
      s = data::run_prepare(*opts);
    }
#else
    if (launched_as_ranks()) run_torch_binary();  // the ranks meet through c10d's store
    s = data::run_prepare(*opts);
#endif
    if (opts->demo_only) {
      std::cout << "demo corpus " << (s.demo_built ? "built" : "already present") << "\n";
      return;
    }
    std::cout << data::format_summary(s);
  });
}

const CommandRegistrar kRegistrar("prepare", setup);

}  // namespace
}  // namespace hptrain::cli
