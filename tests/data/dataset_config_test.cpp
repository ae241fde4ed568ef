// Dataset files that extend another (`base`): relative paths resolve from the file that gives
// them, and the shipped demo variants keep the demo's corpus, chunks and splits.
#include <gtest/gtest.h>

#include "hptrain/data/dataset_config.h"
#include "hptrain/fs.h"
#include "support/support.h"

namespace hptrain::data {
namespace {

namespace stdfs = std::filesystem;

TEST(DatasetConfig, RelativePathsResolveFromTheFileThatGivesThem) {
  test::TempDir dir;
  stdfs::create_directories(dir / "corpus");
  stdfs::create_directories(dir / "variants");
  fs::write_text(dir / "corpus/dataset.toml",
                 "audio_root = \"audio\"\nmanifest = \"audio/manifest.csv\"\n"
                 "output = \"shards\"\n[tasks]\nmusic = [\"no\", \"yes\"]\n");
  fs::write_text(dir / "variants/fast.toml",
                 "base = \"../corpus/dataset.toml\"\noutput = \"shards-fast\"\n"
                 "[features.mel]\nn_mels = 40\n");
  const DatasetConfig base = load_dataset_config(dir / "corpus/dataset.toml");
  const DatasetConfig fast = load_dataset_config(dir / "variants/fast.toml");
  EXPECT_EQ(fast.audio_root, base.audio_root);
  EXPECT_EQ(fast.audio_root, (dir / "corpus/audio").lexically_normal());
  EXPECT_EQ(fast.manifest, base.manifest);
  EXPECT_EQ(fast.output, (dir / "variants/shards-fast").lexically_normal());
  EXPECT_EQ(fast.name, "fast");  // the default name is the named file's
  EXPECT_EQ(fast.features.mel.n_mels, 40);
  EXPECT_NE(base.features.mel.n_mels, 40);
  ASSERT_EQ(fast.tasks.size(), 1u);
  EXPECT_EQ(fast.tasks[0].classes, (std::vector<std::string>{"no", "yes"}));

  // a default path belongs to the named file, not to its base
  fs::write_text(dir / "corpus/bare.toml", "audio_root = \"audio\"\n[tasks]\nmusic = []\n");
  fs::write_text(dir / "variants/bare.toml", "base = \"../corpus/bare.toml\"\n");
  EXPECT_EQ(load_dataset_config(dir / "variants/bare.toml").output,
            (dir / "variants/shards").lexically_normal());
}

// datasets/demo/dataset-ge2e.toml is the demo with another front end: the same audio, tasks,
// preprocessing, chunks and splits (else the GE2E run would be compared on other test chunks).
TEST(DatasetConfig, ShippedDemoVariantKeepsTheDemosSplits) {
  const stdfs::path demo = stdfs::path(HP_SOURCE_DIR) / "datasets/demo";
  const DatasetConfig a = load_dataset_config(demo / "dataset.toml");
  const DatasetConfig b = load_dataset_config(demo / "dataset-ge2e.toml");
  EXPECT_EQ(b.audio_root, a.audio_root);
  EXPECT_EQ(b.manifest, a.manifest);
  ASSERT_EQ(b.tasks.size(), a.tasks.size());
  for (size_t i = 0; i < a.tasks.size(); ++i) {
    EXPECT_EQ(b.tasks[i].name, a.tasks[i].name);
    EXPECT_EQ(b.tasks[i].classes, a.tasks[i].classes);
    EXPECT_EQ(b.tasks[i].background, a.tasks[i].background);
  }
  EXPECT_EQ(preprocess::to_string(b.preprocess), preprocess::to_string(a.preprocess));
  EXPECT_EQ(b.split.fractions(), a.split.fractions());
  EXPECT_EQ(b.split.seed, a.split.seed);
  EXPECT_EQ(b.split.group, a.split.group);
  EXPECT_EQ(b.split.stratify, a.split.stratify);
  EXPECT_EQ(b.min_coverage, a.min_coverage);
  EXPECT_EQ(b.min_foreground, a.min_foreground);
  EXPECT_NE(b.output, a.output);  // its own shards
  EXPECT_EQ(b.features.mel.n_mels, 40);
  EXPECT_EQ(b.features.stft.hop(), 160);
}

}  // namespace
}  // namespace hptrain::data
