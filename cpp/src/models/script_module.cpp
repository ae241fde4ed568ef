#include "hptrain/models/script_module.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/library.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <set>
#include <vector>

#include "hptrain/error.h"

namespace hptrain::models {

namespace {

// aten::gelu, with a backward that gives aten::gelu_backward the gradient in the input's layout.
class GeluInInputLayout : public torch::autograd::Function<GeluInInputLayout> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& self,
                               const std::string& approximate) {
    ctx->save_for_backward({self});
    ctx->saved_data["approximate"] = approximate;
    return at::gelu(self, approximate);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto self = ctx->get_saved_variables()[0];
    torch::Tensor grad = grads[0];
    // a contiguous input with a gradient of another layout is the case LibTorch < 2.1 gets
    // wrong on the CPU (script_module.h); elsewhere the gradient goes as it is
    if (self.is_cpu() && self.is_contiguous() && !grad.is_contiguous()) grad = grad.contiguous();
    const auto approximate = ctx->saved_data["approximate"].toStringRef();
    return {at::gelu_backward(grad, self, approximate), torch::Tensor()};
  }
};

torch::Tensor gelu_autograd(const torch::Tensor& self, c10::string_view approximate) {
  return GeluInInputLayout::apply(self, std::string(approximate));
}

torch::Tensor gelu_plain(const torch::Tensor& self, c10::string_view approximate) {
  return at::gelu(self, approximate);
}

constexpr const char* kGeluSchema = "aten::gelu(Tensor self, *, str approximate='none') -> Tensor";

// Replaces the aten::gelu nodes of `block` and its sub-blocks (if, loop) by hptrain::gelu.
int64_t reroute(torch::jit::Block* block) {
  int64_t n = 0;
  for (auto it = block->nodes().begin(); it != block->nodes().end(); ++it) {
    torch::jit::Node* node = *it;
    for (torch::jit::Block* sub : node->blocks()) n += reroute(sub);
    if (node->kind() != c10::Symbol::fromQualString("aten::gelu") || !node->matches(kGeluSchema))
      continue;
    torch::jit::Graph* graph = node->owningGraph();
    torch::jit::Node* gelu =
        graph->create(c10::Symbol::fromQualString("hptrain::gelu"), node->inputs(), 1);
    gelu->insertBefore(node);
    gelu->output()->setType(node->output()->type());
    gelu->setSourceRange(node->sourceRange());
    node->output()->replaceAllUsesWith(gelu->output());
    it.destroyCurrent();
    ++n;
  }
  return n;
}

}  // namespace

// hptrain::gelu: aten::gelu's schema; its autograd kernel is GeluInInputLayout, below autograd
// (inference mode, no gradient wanted) plain aten::gelu
TORCH_LIBRARY(hptrain, m) {
  m.def("gelu(Tensor self, *, str approximate='none') -> Tensor");
}
TORCH_LIBRARY_IMPL(hptrain, Autograd, m) {
  m.impl("gelu", TORCH_FN(gelu_autograd));
}
TORCH_LIBRARY_IMPL(hptrain, CompositeExplicitAutograd, m) {
  m.impl("gelu", TORCH_FN(gelu_plain));
}

bool gelu_backward_needs_reroute() {
#if HP_TORCH_VERSION_MAJOR > 2 || (HP_TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
  return false;
#else
  return true;
#endif
}

int64_t reroute_gelu_backward(torch::jit::Module& module) {
  int64_t n = 0;
  for (torch::jit::Function* f : module._ivalue()->compilation_unit()->get_functions()) {
    if (f->isGraphFunction()) n += reroute(torch::jit::toGraphFunction(*f).graph()->block());
  }
  return n;
}

torch::jit::Module load_script_module(const std::string& path, const std::string& what) {
  torch::jit::Module m;
  try {
    m = torch::jit::load(path, torch::kCPU);
  } catch (const std::exception& e) {
    // c10::Error, or torch::jit::ErrorReport for code that does not compile; for a call it has no
    // operator for: "Unknown builtin op: aten::scaled_dot_product_attention.\n..."
    const auto* c10 = dynamic_cast<const c10::Error*>(&e);
    const std::string msg = c10 != nullptr ? c10->what_without_backtrace() : e.what();
    const std::string tag = "Unknown builtin op: ";
    const auto at = msg.find(tag);
    if (at == std::string::npos) {
      throw InputError(what +
                       " is not a TorchScript module this LibTorch (" TORCH_VERSION
                       ") can load (torch::jit::load: " +
                       msg + ")");
    }
    std::string op = msg.substr(at + tag.size());
    op = op.substr(0, op.find_first_of(".\n"));
    throw InputError(what + " calls " + op +
                     ", which this build's LibTorch (" TORCH_VERSION
                     ") does not have: the file was saved by a newer PyTorch. Save it with "
                     "PyTorch " TORCH_VERSION
                     " (as this LibTorch), or build hptrain against the "
                     "LibTorch of the PyTorch that saved it (README, \"Install and build\")");
  }
  if (gelu_backward_needs_reroute()) reroute_gelu_backward(m);
  return m;
}

void share_script_tensors(torch::nn::Module& holder, const torch::jit::Module& script,
                          const std::string& what) {
  std::set<std::string> names;
  const auto flat = [&](const std::string& name) {
    std::string n = name;
    for (auto& ch : n) ch = ch == '.' ? '_' : ch;
    if (!names.insert(n).second) {
      throw InputError(what + ": two tensors named '" + n + "' once dots are '_'");
    }
    return n;
  };
  for (const auto& p : script.named_parameters(/*recurse=*/true)) {
    holder.register_parameter(flat(p.name), p.value, p.value.requires_grad());
  }
  for (const auto& b : script.named_buffers(/*recurse=*/true)) {
    holder.register_buffer(flat(b.name), b.value);
  }
}

}  // namespace hptrain::models
