// Group splits, stratified on one task.
#include "hptrain/data/split.h"
#include "hptrain/csv.h"

#include <array>
#include <limits>
#include <sstream>

#include "hptrain/data/random.h"
#include "hptrain/fs.h"

namespace hptrain::data {

namespace {

struct Group {
  double weight = 0;
  std::vector<double> per_class;  // of the stratify task
  std::string fixed;              // split column, if any
  int64_t segments = 0;
  int majority() const {
    return static_cast<int>(std::max_element(per_class.begin(), per_class.end()) -
                            per_class.begin());
  }
};

size_t stratify_index(const Manifest& m, const SplitPolicy& p) {
  for (size_t k = 0; k < m.tasks.size(); ++k) {
    if (m.tasks[k].name == p.stratify) return k;
  }
  return 0;
}

double mean_duration(const Manifest& m) {
  double sum = 0;
  int64_t n = 0;
  for (const auto& s : m.segments) {
    if (s.end) {
      sum += *s.end - s.start;
      ++n;
    }
  }
  return n > 0 ? sum / static_cast<double>(n) : 1.0;
}

std::map<std::string, Group> collect_groups(const Manifest& m, size_t k) {
  const double unit = mean_duration(m);
  std::map<std::string, Group> groups;
  for (const auto& s : m.segments) {
    auto& g = groups[s.group];
    g.per_class.resize(m.tasks[k].classes.size(), 0.0);
    const double w = s.end ? *s.end - s.start : unit;
    g.weight += w;
    g.per_class[static_cast<size_t>(s.labels[k])] += w;
    g.segments += 1;
    if (!s.split.empty()) g.fixed = s.split;
  }
  return groups;
}

}  // namespace

SplitResult assign_splits(const Manifest& m, const SplitPolicy& policy) {
  const size_t k = stratify_index(m, policy);
  const auto groups = collect_groups(m, k);
  const auto frac = policy.fractions();
  const auto& names = split_names();
  const size_t n_classes = m.tasks.empty() ? 0 : m.tasks[k].classes.size();
  using Shares = std::array<double, 3>;
  std::vector<Shares> bucket(n_classes, Shares{0, 0, 0});
  Shares global{0, 0, 0};
  SplitResult r;
  auto add = [&](const std::string& name, const Group& g, size_t split) {
    r.group_split[name] = names[split];
    bucket[static_cast<size_t>(g.majority())][split] += g.weight;
    global[split] += g.weight;
  };
  std::vector<std::vector<std::string>> free_groups(n_classes);
  for (const auto& [name, g] : groups) {
    if (!g.fixed.empty()) {
      add(name, g,
          static_cast<size_t>(std::find(names.begin(), names.end(), g.fixed) - names.begin()));
    } else {
      free_groups[static_cast<size_t>(g.majority())].push_back(name);  // sorted: std::map order
    }
  }
  for (size_t c = 0; c < n_classes; ++c) {
    const auto& list = free_groups[c];
    const auto order = permutation(static_cast<int64_t>(list.size()),
                                   derive_seed(policy.seed, m.tasks[k].classes[c].c_str()));
    for (int64_t i : order) {
      const auto& name = list[static_cast<size_t>(i)];
      const Group& g = groups.at(name);
      const double bt = bucket[c][0] + bucket[c][1] + bucket[c][2] + g.weight;
      const double gt = global[0] + global[1] + global[2] + g.weight;
      size_t best = 0;
      double best_score = -std::numeric_limits<double>::infinity();
      for (size_t s = 0; s < 3; ++s) {
        if (frac[s] <= 0) continue;
        const double score = (frac[s] * bt - bucket[c][s]) / bt + (frac[s] * gt - global[s]) / gt;
        if (score > best_score) {
          best_score = score;
          best = s;
        }
      }
      add(name, g, best);
    }
  }
  for (const auto& s : m.segments) r.segment_split.push_back(r.group_split.at(s.group));

  for (size_t s = 0; s < 3; ++s) {
    if (frac[s] > 0 && global[s] == 0) {
      r.warnings.push_back("split '" + names[s] + "' is empty (" + std::to_string(groups.size()) +
                           " groups)");
      continue;
    }
    for (size_t t = 0; t < m.tasks.size(); ++t) {
      std::vector<bool> present(m.tasks[t].classes.size(), false);
      for (size_t i = 0; i < m.segments.size(); ++i) {
        if (r.segment_split[i] == names[s])
          present[static_cast<size_t>(m.segments[i].labels[t])] = true;
      }
      for (size_t c = 0; c < present.size(); ++c) {
        if (frac[s] > 0 && !present[c]) {
          r.warnings.push_back("class '" + m.tasks[t].classes[c] + "' of task '" + m.tasks[t].name +
                               "' has no segment in split '" + names[s] + "'");
        }
      }
    }
  }
  return r;
}

void write_split_csv(const std::filesystem::path& path, const Manifest& m,
                     const SplitPolicy& policy, const SplitResult& r) {
  const size_t k = stratify_index(m, policy);
  const auto groups = collect_groups(m, k);
  std::ostringstream os;
  os << "group,split,duration_s," << m.tasks[k].name << ",segments\n";
  for (const auto& [name, g] : groups) {
    os << csv_field(name) << "," << r.group_split.at(name) << "," << g.weight << ","
       << m.tasks[k].classes[static_cast<size_t>(g.majority())] << "," << g.segments << "\n";
  }
  fs::write_text(path, os.str());
}

}  // namespace hptrain::data
