// TorchScript modules inside hptrain's models (model.type = "pretrained", "torchscript"): loading
// a file so that fine-tuning through it gets correct gradients on LibTorch < 2.1's CPU, and its
// tensors registered as a torch::nn::Module's.
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace hptrain::models {

// Whether this LibTorch's CPU GELU backward needs reroute_gelu_backward: LibTorch before 2.1
// computes aten::gelu_backward (approximate = "none") through oneDNN whenever the input is a
// contiguous float tensor, and when the incoming gradient has another layout (a transposed
// view, as wav2vec 2.0's feature extractor gives its last GELU) oneDNN writes its result into a
// buffer of its own: the gradient LibTorch returns is never written, uninitialised memory
// (0, 1e-3 or 1e+30, NaN from one call to the next). pytorch/pytorch#107876, fixed in 2.1 by
// pytorch/pytorch#108038 (ideep's eltwise backward).
bool gelu_backward_needs_reroute();

// Points every aten::gelu call in `module`'s code (each function of its compilation unit: its
// methods, its submodules', the free functions they call) at hptrain::gelu: the same forward
// (aten::gelu), and a backward that hands aten::gelu_backward the gradient in the input's
// layout (contiguous when the input is), off the path above. Call it before the module first
// runs: the graph executor keeps the graph it first ran. Returns how many calls it rerouted.
int64_t reroute_gelu_backward(torch::jit::Module& module);

// torch::jit::load(path) on the CPU, with reroute_gelu_backward where this LibTorch needs it.
// InputError naming `what` (the file and its setting) when it cannot be loaded, and for a file
// whose code calls an operator this LibTorch lacks (saved by a newer PyTorch) "<what> calls
// aten::x, which this build's LibTorch (1.13.0) does not have: ..." saying how to match them.
torch::jit::Module load_script_module(const std::string& path, const std::string& what);

// Registers every parameter and buffer of `script` (recursively) on `holder` under its name
// with '.' as '_' ("model.encoder.layers.0.weight" -> "model_encoder_layers_0_weight"), sharing
// the tensor, not a copy: the optimiser, Module::to, save and load reach what the TorchScript
// module computes with. Parameters keep their requires_grad. InputError "<what>: two tensors
// named '<name>' once dots are '_'" when two names flatten alike.
void share_script_tensors(torch::nn::Module& holder, const torch::jit::Module& script,
                          const std::string& what);

}  // namespace hptrain::models
