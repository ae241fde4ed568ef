// features::feature_tables: the CPU plan's tables in the public form the GPU twins read.
#include "hptrain/features/tables.h"

#include "cpu_plan.h"

namespace hptrain::features {

std::shared_ptr<const FeatureTables> feature_tables(const FeatureConfig& cfg) {
  const std::shared_ptr<const detail::Plan> plan = detail::plan_for(cfg);
  return std::shared_ptr<const FeatureTables>(plan, &plan->tables());  // keeps the plan alive
}

}  // namespace hptrain::features
