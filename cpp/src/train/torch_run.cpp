// The LibTorch set-up that training, evaluation and prediction share (torch_run.h).
#include "train/torch_run.h"

#include <algorithm>
#include <thread>

#include "hptrain/device.h"
#include "train/checkpoint.h"
#include "train/cpu_blas.h"

namespace hptrain::train::detail {

void configure_torch(const TrainConfig& t, torch::Device device) {
  const int threads = t.threads > 0
                          ? t.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  cpu_blas();  // resolved before the first product: a pthreads OpenBLAS set to one thread
  if (device.is_cuda()) {
    at::globalContext().setBenchmarkCuDNN(true);
  } else if (t.deterministic) {
    at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/true);
  }
}

std::string describe(torch::Device device) {
  if (device.is_cuda()) {
    return gpu_available() ? device_description(device.has_index() ? device.index() : 0)
                           : device.str();
  }
  return cpu_description(torch::get_num_threads()) + ", " + cpu_blas().name;
}

std::string out_of_memory_advice(const std::filesystem::path& where, const std::string& doing,
                                 int64_t batch_size) {
  const std::string b = std::to_string(batch_size);
  const std::string half = std::to_string(std::max<int64_t>(1, batch_size / 2));
  const std::string head = where.string() + ": the device ran out of memory " + doing;
  if (doing == "training") {
    return head + " with train.batch_size = " + b +
           ": lower it, for example --set train.batch_size=" + half;
  }
  return head + " in batches of " + b + ": lower them, for example --batch-size " + half;
}

models::Net load_best(const std::filesystem::path& run, const ExperimentConfig& cfg, int64_t rows,
                      const std::vector<std::string>& tasks, const std::vector<int64_t>& classes,
                      torch::Device device, const std::string& fingerprint) {
  models::Net net(cfg.model, rows, classes, tasks);
  net->to(device);
  load_checkpoint(run / "model_best.pt", net, device, fingerprint, nullptr, nullptr);
  net->eval();
  return net;
}

}  // namespace hptrain::train::detail
