// Split invariants: a group never in two splits, the same seed gives the same split, classes
// are spread by the target fractions, fixed splits are kept, and the split is recorded.
#include <gtest/gtest.h>

#include "hptrain/data/random.h"
#include "hptrain/data/split.h"
#include "hptrain/fs.h"
#include "support/support.h"

namespace hptrain::data {
namespace {

// Stratification tolerance: each class's share of a split's duration within 0.05 of the target
// (for 300 groups of 1-5 segments, the greedy assignment lands within ~0.01).
constexpr double kShareTolerance = 0.05;

// n groups of 1-5 segments (1-10 s); the class of a group follows a skewed distribution.
Manifest synthetic(int n_groups, uint64_t seed) {
  Manifest m;
  m.tasks = {{"kind", {"a", "b", "c"}, ""}, {"other", {"x", "y"}, ""}};
  SplitMix64 rng(seed);
  int64_t line = 2;
  for (int g = 0; g < n_groups; ++g) {
    const int cls = rng.uniform() < 0.6 ? 0 : rng.uniform() < 0.6 ? 1 : 2;
    const int n = 1 + static_cast<int>(rng.below(5));
    double t = 0;
    for (int i = 0; i < n; ++i) {
      Segment s;
      s.line = line++;
      s.path = "film" + std::to_string(g) + ".wav";
      s.start = t;
      s.end = t + rng.uniform(1, 10);
      t = *s.end;
      s.labels = {cls, static_cast<int>(rng.below(2))};
      s.group = "g" + std::to_string(g);
      m.segments.push_back(s);
    }
  }
  return m;
}

TEST(Split, NoGroupInTwoSplitsAndEverySegmentFollowsItsGroup) {
  const Manifest m = synthetic(300, 1);
  const SplitResult r = assign_splits(m, SplitPolicy{});
  ASSERT_EQ(r.segment_split.size(), m.segments.size());
  std::map<std::string, std::set<std::string>> splits_of_group;
  for (size_t i = 0; i < m.segments.size(); ++i)
    splits_of_group[m.segments[i].group].insert(r.segment_split[i]);
  for (const auto& [g, s] : splits_of_group) {
    EXPECT_EQ(s.size(), 1u) << g;
    EXPECT_EQ(*s.begin(), r.group_split.at(g));
  }
}

TEST(Split, DeterministicForASeed) {
  const Manifest m = synthetic(200, 2);
  SplitPolicy p;
  p.seed = 99;
  EXPECT_EQ(assign_splits(m, p).group_split, assign_splits(m, p).group_split);
  SplitPolicy q = p;
  q.seed = 100;
  EXPECT_NE(assign_splits(m, p).group_split, assign_splits(m, q).group_split);
}

TEST(Split, StratifiedWithinTolerance) {
  const Manifest m = synthetic(300, 3);
  SplitPolicy p;
  p.train = 0.6, p.validation = 0.2, p.test = 0.2;
  const SplitResult r = assign_splits(m, p);
  const auto frac = p.fractions();
  std::map<std::string, double> total;
  std::map<std::pair<int, std::string>, double> per_class;
  std::map<int, double> class_total;
  for (size_t i = 0; i < m.segments.size(); ++i) {
    const double w = *m.segments[i].end - m.segments[i].start;
    total[r.segment_split[i]] += w;
    per_class[{m.segments[i].labels[0], r.segment_split[i]}] += w;
    class_total[m.segments[i].labels[0]] += w;
  }
  const double all = total["train"] + total["validation"] + total["test"];
  for (size_t s = 0; s < 3; ++s) {
    const auto& name = split_names()[s];
    EXPECT_NEAR(total[name] / all, frac[s], kShareTolerance) << name;
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(per_class[std::make_pair(c, name)] / class_total[c], frac[s], kShareTolerance)
          << name << " class " << c;
    }
  }
  EXPECT_TRUE(r.warnings.empty());
}

TEST(Split, FixedSplitsAreKeptAndAbsentClassesWarned) {
  Manifest m = synthetic(60, 4);
  for (auto& s : m.segments) {
    if (s.group == "g0" || s.group == "g1") s.split = "test";
  }
  const SplitResult r = assign_splits(m, SplitPolicy{});
  EXPECT_EQ(r.group_split.at("g0"), "test");
  EXPECT_EQ(r.group_split.at("g1"), "test");

  Manifest one = synthetic(3, 5);
  for (auto& s : one.segments) s.labels[0] = 0;
  const SplitResult w = assign_splits(one, SplitPolicy{});
  bool warned = false;
  for (const auto& msg : w.warnings)
    warned = warned || msg.find("class 'b' of task 'kind'") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(Split, RecordedAsCsv) {
  test::TempDir dir;
  const Manifest m = synthetic(20, 6);
  const SplitResult r = assign_splits(m, SplitPolicy{});
  write_split_csv(dir / "split.csv", m, SplitPolicy{}, r);
  const auto rows = parse_csv(fs::read_text(dir / "split.csv"), "split.csv");
  ASSERT_EQ(rows.size(), 21u);
  EXPECT_EQ(rows[0].fields,
            (std::vector<std::string>{"group", "split", "duration_s", "kind", "segments"}));
  for (size_t i = 1; i < rows.size(); ++i)
    EXPECT_EQ(rows[i].fields[1], r.group_split.at(rows[i].fields[0]));
}

}  // namespace
}  // namespace hptrain::data
