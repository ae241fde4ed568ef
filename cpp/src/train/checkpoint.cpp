// Checkpoints of a LibTorch run (checkpoint.h).
#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

#include "hptrain/error.h"
#include "hptrain/fs.h"

namespace hptrain::train::detail {
namespace {

torch::Tensor cpu_rng_state() {
  auto g = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(g.mutex());
  return g.get_state();
}

void set_cpu_rng_state(const torch::Tensor& state) {
  auto g = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(state);
}

// A checkpoint file: LibTorch's archive, then kChecksumTag and 16 hex digits of the FNV-1a
// checksum of the archive's bytes, so that damage anywhere is an error, not other weights.
constexpr char kChecksumTag[] = "\nhptrain-fnv1a64 ";
constexpr size_t kTagSize = sizeof kChecksumTag - 1, kTrailerSize = kTagSize + 16;

}  // namespace

void save_checkpoint(const std::filesystem::path& path, models::Net& net,
                     const std::string& fingerprint, torch::optim::Optimizer* optimizer,
                     const State* state) {
  torch::serialize::OutputArchive archive, model;
  net->save(model);
  archive.write("model", model);
  archive.write("fingerprint", c10::IValue(fingerprint));
  if (optimizer != nullptr) {
    torch::serialize::OutputArchive optim;
    optimizer->save(optim);
    archive.write("optimizer", optim);
    archive.write("state", c10::IValue(state->to_json().dump()));
    archive.write("rng_cpu", cpu_rng_state());
  }
  std::string bytes;
  archive.save_to([&bytes](const void* p, size_t n) {
    bytes.append(static_cast<const char*>(p), n);
    return n;
  });
  bytes += kChecksumTag + fs::hex64(fs::fnv1a64(bytes.data(), bytes.size()));
  fs::atomic_write(path, [&](const std::filesystem::path& tmp) {
    fs::write_bytes(tmp, bytes.data(), bytes.size(), path);
  });
}

void load_checkpoint(const std::filesystem::path& path, models::Net& net, torch::Device device,
                     const std::string& fingerprint, torch::optim::Optimizer* optimizer,
                     State* state) {
  if (!std::filesystem::exists(path)) {
    throw InputError("cannot read checkpoint '" + path.string() + "': no such file");
  }
  const std::string bytes = fs::read_bytes(path);
  const std::string where = "checkpoint '" + path.string() + "'";
  if (bytes.size() < kTrailerSize ||
      bytes.compare(bytes.size() - kTrailerSize, kTagSize, kChecksumTag) != 0) {
    throw InputError(where +
                     " has no checksum at its end: truncated, damaged, or not written by this "
                     "version of hptrain");
  }
  const size_t n = bytes.size() - kTrailerSize;
  if (fs::hex64(fs::fnv1a64(bytes.data(), n)) != bytes.substr(n + kTagSize)) {
    throw InputError(where + " is damaged: its checksum does not match its contents");
  }
  torch::serialize::InputArchive archive, model;
  try {
    archive.load_from(bytes.data(), n, device);
  } catch (const c10::Error& e) {
    throw InputError(where + " cannot be read: " + e.what_without_backtrace());
  }
  c10::IValue fp;
  if (!archive.try_read("fingerprint", fp) || !fp.isString()) {
    throw InputError(where + " has no fingerprint: written by an older hptrain; train again");
  }
  if (fp.toStringRef() != fingerprint) {
    throw InputError(where + " is of another model or classes (fingerprint " + fp.toStringRef() +
                     ", the run's " + fingerprint +
                     "): [model], data.input or the classes changed since it was written");
  }
  try {
    if (!archive.try_read("model", model)) throw InputError("no model in it");
    models::load_strict(*net, model);
  } catch (const c10::Error& e) {
    throw InputError(where + " does not fit the experiment's model: " + e.what_without_backtrace());
  } catch (const InputError& e) {
    throw InputError(where + " does not fit the experiment's model: " + e.what());
  }
  if (optimizer != nullptr) {
    try {
      torch::serialize::InputArchive optim;
      archive.read("optimizer", optim);
      optimizer->load(optim);
      c10::IValue s;
      archive.read("state", s);
      *state = State::from_json(nlohmann::json::parse(s.toStringRef()));
      torch::Tensor rng;
      archive.read("rng_cpu", rng);
      set_cpu_rng_state(rng.cpu());
    } catch (const c10::Error& e) {
      throw InputError(where + ": its optimiser or training state cannot be read: " +
                       e.what_without_backtrace());
    } catch (const nlohmann::json::exception& e) {
      throw InputError(where + ": its training state cannot be read: " + e.what());
    }
  }
}

}  // namespace hptrain::train::detail
