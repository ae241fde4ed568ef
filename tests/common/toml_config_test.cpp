// TOML reading: typed getters, unknown keys, overrides, and error messages naming file/line/key.
#include "hptrain/toml_config.h"

#include <gtest/gtest.h>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "support/support.h"

namespace hptrain::config {
namespace {

toml::table write_and_parse(const test::TempDir& dir, const std::string& text) {
  fs::write_text(dir / "x.toml", text);
  return parse_file(dir / "x.toml");
}

const auto message_of = test::message_of<Error>;

TEST(TomlConfig, ReadsTypedValuesAndLeavesAbsentOnesAlone) {
  test::TempDir dir;
  auto t = write_and_parse(dir, "[train]\nepochs = 5\nlr = 1e-3\nname = \"cnn\"\n");
  Section root(&t, "x.toml");
  auto train = root.section("train");
  int epochs = 0, batch = 32;
  double lr = 0;
  std::string name;
  train.get("epochs", epochs);
  train.get("batch_size", batch);
  train.get("lr", lr);
  train.get("name", name);
  EXPECT_EQ(epochs, 5);
  EXPECT_EQ(batch, 32);
  EXPECT_DOUBLE_EQ(lr, 1e-3);
  EXPECT_EQ(name, "cnn");
  EXPECT_NO_THROW(root.check_unknown());
}

TEST(TomlConfig, WrongTypeNamesFileLineAndKey) {
  test::TempDir dir;
  auto t = write_and_parse(dir, "\n[train]\nepochs = \"five\"\n");
  Section root(&t, "x.toml");
  int epochs = 0;
  const auto msg = message_of([&] { root.section("train").get("epochs", epochs); });
  EXPECT_NE(msg.find("x.toml:3: train.epochs: expected an integer, got string"), std::string::npos)
      << msg;
}

TEST(TomlConfig, UnknownKeyIsRejectedWithTheValidOnes) {
  test::TempDir dir;
  auto t = write_and_parse(dir, "[train]\nepochs = 5\nepoch = 3\n");
  Section root(&t, "x.toml");
  int epochs = 0;
  root.section("train").get("epochs", epochs);
  const auto msg = message_of([&] { root.check_unknown(); });
  EXPECT_NE(msg.find("x.toml:3: train.epoch: unknown key; valid keys here: epochs"),
            std::string::npos)
      << msg;
}

// An integer array's elements are range-checked like a scalar: [4, 4294967300] once read as
// [4, 4] (the cast dropped the high bits); the error names the file, line, key and index, and
// the value is left as it was. The int limits themselves pass.
TEST(TomlConfig, IntegerArrayElementsAreRangeChecked) {
  test::TempDir dir;
  auto t = write_and_parse(dir,
                           "[m]\nkernels = [4, 4294967300]\nneg = [-2147483649]\n"
                           "edge = [2147483647, -2147483648]\n");
  Section m = Section(&t, "x.toml").section("m");
  std::vector<int> v = {7};
  auto msg = message_of([&] { m.get("kernels", v); });
  EXPECT_NE(msg.find("x.toml:2: m.kernels: index 1: value 4294967300 is out of range"),
            std::string::npos)
      << msg;
  EXPECT_EQ(v, std::vector<int>{7});
  msg = message_of([&] { m.get("neg", v); });
  EXPECT_NE(msg.find("m.neg: index 0: value -2147483649 is out of range"), std::string::npos)
      << msg;
  m.get("edge", v);
  EXPECT_EQ(v, (std::vector<int>{2147483647, -2147483647 - 1}));
}

TEST(TomlConfig, ChoiceListsValidValues) {
  test::TempDir dir;
  auto t = write_and_parse(dir, "device = \"tpu\"\n");
  Section root(&t, "x.toml");
  std::string device = "auto";
  const auto msg = message_of([&] { root.get_choice("device", device, {"auto", "cpu", "cuda"}); });
  EXPECT_NE(msg.find("'tpu' is not one of: auto, cpu, cuda"), std::string::npos) << msg;
}

TEST(TomlConfig, SyntaxErrorNamesLine) {
  test::TempDir dir;
  fs::write_text(dir / "bad.toml", "a = 1\nb = [1, 2\n");
  const auto msg = message_of([&] { parse_file(dir / "bad.toml"); });
  EXPECT_NE(msg.find("bad.toml:"), std::string::npos) << msg;
  EXPECT_NE(message_of([&] { parse_file(dir / "missing.toml"); }).find("missing.toml"),
            std::string::npos);
}

// `base`: the named file first, then this one over it. Tables merge key by key, arrays and
// other values are replaced whole, bases chain, and an error names the file that set the key.
TEST(TomlConfig, BaseFileIsReadFirstAndThisFileMergedOverIt) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "common");
  fs::write_text(dir / "common/root.toml",
                 "name = \"root\"\nlist = [1, 2, 3]\n[train]\nepochs = 5\nlr = 0.1\n"
                 "[train.augment]\nenabled = true\nmasks = 2\n[output]\ndir = \"r\"\n");
  fs::write_text(dir / "mid.toml",
                 "base = \"common/root.toml\"\nlist = [9]\n[train]\nlr = 0.2\n"
                 "[train.augment]\nmasks = 4\n");
  fs::write_text(dir / "x.toml",
                 "base = \"mid.toml\"\nname = \"x\"\n\n[train]\nbatch = \"big\"\n"
                 "[extra]\nk = 1\n");
  const toml::table t = parse_file(dir / "x.toml");
  Section root(&t, (dir / "x.toml").string());
  EXPECT_FALSE(root.has("base"));
  std::string name, out;
  std::vector<int> list;
  int epochs = 0, masks = 0, k = 0;
  double lr = 0;
  bool enabled = false;
  root.get("name", name);
  root.get("list", list);
  root.section("train").get("epochs", epochs);
  root.section("train").get("lr", lr);
  root.section("train").section("augment").get("enabled", enabled);
  root.section("train").section("augment").get("masks", masks);
  root.section("output").get("dir", out);
  root.section("extra").get("k", k);
  EXPECT_EQ(name, "x");
  EXPECT_EQ(list, std::vector<int>{9});  // replaced, not appended
  EXPECT_EQ(epochs, 5);
  EXPECT_DOUBLE_EQ(lr, 0.2);
  EXPECT_TRUE(enabled);
  EXPECT_EQ(masks, 4);
  EXPECT_EQ(out, "r");
  EXPECT_EQ(k, 1);
  // each key's errors and relative paths belong to the file that set it
  EXPECT_EQ(root.section("train").file_of("epochs"), (dir / "common/root.toml").string());
  EXPECT_EQ(root.section("train").file_of("lr"), (dir / "mid.toml").string());
  const auto msg = message_of([&] { root.section("train").get("epochs", name); });
  EXPECT_NE(msg.find("common/root.toml:4: train.epochs: expected a string"), std::string::npos)
      << msg;
  const auto batch = message_of([&] { root.section("train").get("batch", epochs); });
  EXPECT_NE(batch.find("x.toml:5: train.batch: expected an integer"), std::string::npos) << batch;
}

TEST(TomlConfig, BaseErrorsNameTheFileAndLine) {
  test::TempDir dir;
  fs::write_text(dir / "a.toml", "# a\nbase = \"b.toml\"\n");
  fs::write_text(dir / "b.toml", "base = \"a.toml\"\n");
  auto msg = message_of([&] { parse_file(dir / "a.toml"); });
  EXPECT_NE(msg.find("b.toml:1: base: the files extend each other in a cycle"), std::string::npos)
      << msg;
  fs::write_text(dir / "self.toml", "base = \"self.toml\"\n");
  EXPECT_NE(message_of([&] { parse_file(dir / "self.toml"); }).find("cycle"), std::string::npos);
  fs::write_text(dir / "c.toml", "x = 1\nbase = \"gone.toml\"\n");
  msg = message_of([&] { parse_file(dir / "c.toml"); });
  EXPECT_NE(msg.find("c.toml:2: base: cannot read '"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gone.toml"), std::string::npos) << msg;
  EXPECT_THROW(parse_file(dir / "c.toml"), InputError);
  fs::write_text(dir / "d.toml", "base = 3\n");
  msg = message_of([&] { parse_file(dir / "d.toml"); });
  EXPECT_NE(msg.find("d.toml:1: base: expected a string"), std::string::npos) << msg;
  fs::write_text(dir / "e.toml", "base = \"f.toml\"\n");
  fs::write_text(dir / "f.toml", "a = [1,\n");
  msg = message_of([&] { parse_file(dir / "e.toml"); });
  EXPECT_NE(msg.find("f.toml:1:"), std::string::npos) << msg;  // the base's syntax error
}

TEST(TomlConfig, OverridesParseValuesAndCreateTables) {
  toml::table t;
  apply_override(t, "train.epochs=7");
  apply_override(t, "train.lr=0.5");
  apply_override(t, "model.type=cnn");
  apply_override(t, "data.flag=true");
  Section root(&t, "<overrides>");
  int epochs = 0;
  double lr = 0;
  std::string type;
  bool flag = false;
  root.section("train").get("epochs", epochs);
  root.section("train").get("lr", lr);
  root.section("model").get("type", type);
  root.section("data").get("flag", flag);
  EXPECT_EQ(epochs, 7);
  EXPECT_DOUBLE_EQ(lr, 0.5);
  EXPECT_EQ(type, "cnn");
  EXPECT_TRUE(flag);
  EXPECT_THROW(apply_override(t, "novalue"), ConfigError);
  apply_override(t, "train.epochs=\"ten\"");
  int again = 0;
  const auto msg = message_of([&] { root.section("train").get("epochs", again); });
  EXPECT_NE(msg.find("<overrides> (--set): train.epochs: expected an integer"), std::string::npos)
      << msg;
}

TEST(Fs, AtomicWriteLeavesOldFileWhenWriterFails) {
  test::TempDir dir;
  fs::write_text(dir / "a.txt", "good");
  EXPECT_THROW(fs::atomic_write(dir / "a.txt",
                                [](const std::filesystem::path& tmp) {
                                  fs::write_text(tmp, "half");
                                  throw InputError("crash");
                                }),
               InputError);
  EXPECT_EQ(fs::read_text(dir / "a.txt"), "good");
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u) << "the temporary file must be removed";
}

}  // namespace
}  // namespace hptrain::config
