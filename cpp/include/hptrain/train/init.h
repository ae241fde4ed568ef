// Starting a run from another run's weights (model.init, model.init_parts): the parameters and
// buffers of the parts asked for are copied, by name and shape, from the other run's
// model_best.pt into a freshly built network before its first step.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "hptrain/models/net.h"
#include "hptrain/train/experiment.h"

namespace hptrain::train {

// First, for type ge2e with model.weights, reads resemblyzer's encoder into the body
// (models::load_ge2e_weights; a warning when the dataset's [features] are not its front end).
// Then copies into `net` (built for `cfg` on `classes`: each task with its class names, in the
// order of the model's outputs) the parts cfg.model.init_parts names of the run cfg.model.init. A
// no-op when neither is set. The other run must be a network of the same model.type on
// the same data.input; its weights load as evaluate loads them (checksum, fingerprint). Every
// tensor taken must exist on both sides with the same shape and dtype, else InputError naming
// the run, the parameter and both shapes; "heads" and "all" need the same tasks and classes.
// `net` stays on its device; the copy is under NoGradGuard.
void init_from_run(const ExperimentConfig& cfg,
                   const std::vector<std::pair<std::string, std::vector<std::string>>>& classes,
                   models::Net& net);

}  // namespace hptrain::train
