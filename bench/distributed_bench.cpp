// Data-parallel scaling on the CPU (README, "Scaling out"): the LSTM of experiments/lstm.toml on
// synthetic shards of the demo's shapes, trained for 3 epochs by one process and by 2 Gloo ranks
// (`hptrain launch`), one thread each, with the same global batch; examples per second of the
// epochs after the first (log.csv, summed over the ranks) and the machine's load around each.
// Usage: bench_distributed [epochs] [ranks]  (default 3 2; prints a Markdown table and the ranks'
// all-reduce log lines). HP_BENCH_DEVICE=cuda runs on the GPU (threads as configured): with
// ranks = 1 the launched run is a NCCL group of one, whose log gives the all-reduce's cost.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "hptrain/fs.h"
#include "train/synthetic.h"

namespace {

using namespace hptrain;

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

int run(const std::vector<std::string>& args, const std::filesystem::path& log) {
  std::cout << std::flush;  // or the child repeats what is buffered
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = freopen(log.c_str(), "w", stdout);
    if (f == nullptr || dup2(fileno(stdout), 2) < 0) _exit(99);
    std::vector<char*> argv = {const_cast<char*>(HP_HPTRAIN_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(HP_HPTRAIN_BINARY, argv.data());
    _exit(98);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Mean of log.csv's examples_per_s over the epochs after the first (the first fills the cache).
double speed(const std::filesystem::path& csv) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(csv);
  for (std::string line; std::getline(in, line);) {
    rows.emplace_back();
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) rows.back().push_back(cell);
  }
  size_t col = 0;
  while (col < rows.at(0).size() && rows[0][col] != "examples_per_s") ++col;
  double sum = 0;
  for (size_t r = 2; r < rows.size(); ++r) sum += std::stod(rows[r].at(col));
  return rows.size() > 2 ? sum / static_cast<double>(rows.size() - 2) : 0.0;
}

}  // namespace

int main(int argc, char** argv) {
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 3;
  const int ranks = argc > 2 ? std::atoi(argv[2]) : 2;
  const char* env_device = std::getenv("HP_BENCH_DEVICE");
  const std::string device = env_device != nullptr ? env_device : "cpu";
  const auto base = std::filesystem::temp_directory_path() / "hptrain-bench-distributed";
  std::error_code ec;
  fs::remove_tree(base, ec);
  test::SyntheticSizes sizes;
  sizes.train = 1024;
  sizes.validation = 256;
  sizes.test = 256;
  sizes.frames = 301;
  sizes.log_mel_rows = 64;
  sizes.mfcc_rows = 60;
  test::write_synthetic_shards(base / "shards", 7, sizes);
  const std::string experiment = std::string(HP_SOURCE_DIR) + "/experiments/lstm.toml";
  auto args = [&](const std::string& run_name) {
    return std::vector<std::string>{
        "--experiment", experiment,
        "--set",        "data.dataset=\"\"",
        "--set",        "data.shards=\"" + (base / "shards").string() + "\"",
        "--set",        "experiment.tasks=[\"scene\", \"music\"]",
        "--set",        "train.epochs=" + std::to_string(epochs),
        "--set",        "train.patience=0",
        "--set",        "train.device=\"" + device + "\"",
        "--set",        std::string("train.threads=") + (device == "cpu" ? "1" : "4"),
        "--set",        "output.dir=\"" + (base / run_name).string() + "\""};
  };
  std::cout << "| processes | examples/s (epochs 2.." << epochs << ") | wall s | load before | "
            << "load after |\n|---|---|---|---|---|\n";
  double one = 0;
  for (const int n : {0, ranks}) {  // 0: one process without a process group
    const std::string name = "run" + std::to_string(n);
    auto a = args(name);
    if (n > 0) {
      a.insert(a.begin(),
               {"launch", "--nproc-per-node", std::to_string(n), "--master-port", "0", "--"});
    }
    const std::string before = loadavg();
    const auto t0 = std::chrono::steady_clock::now();
    const int code = run(a, base / (name + ".log"));
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (code != 0) {
      std::cerr << "run of " << n << " process(es) failed (" << code << "):\n"
                << fs::read_text(base / (name + ".log"));
      return 1;
    }
    const double s = speed(base / name / "log.csv");
    if (n == 0) one = s;
    std::cout << "| " << (n == 0 ? "1 (alone)" : std::to_string(n) + " (launch)") << " | " << s
              << (n > 0 ? " (" + std::to_string(s / one) + "x)" : "") << " | " << wall << " | "
              << before << " | " << loadavg() << " |\n";
  }
  std::ifstream log(base / ("run" + std::to_string(ranks) + ".log"));
  for (std::string line; std::getline(log, line);) {
    if (line.find("all-reduce") != std::string::npos) std::cout << line << "\n";
  }
  fs::remove_tree(base, ec);
  return 0;
}
