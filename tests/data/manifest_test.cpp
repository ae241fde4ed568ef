// Manifest parsing: CSV details, times, every kind of bad row named by its line, the folder
// layout, classes from the data, and the labelling of chunks that overlap several segments.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cmath>

#include "hptrain/data/manifest.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "support/support.h"

namespace hptrain::data {
namespace {

namespace stdfs = std::filesystem;

constexpr int kSr = 16000;

void write_tone(const stdfs::path& path, double seconds) {
  std::vector<float> x(static_cast<size_t>(seconds * kSr));
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = 0.1f * static_cast<float>(std::sin(0.05 * static_cast<double>(i)));
  stdfs::create_directories(path.parent_path());
  io::write_wav(path, x.data(), x.size(), kSr);
}

DatasetConfig config(const test::TempDir& dir, const std::string& csv) {
  DatasetConfig cfg;
  cfg.file = dir / "dataset.toml";
  cfg.audio_root = dir.path();
  cfg.manifest = dir / "manifest.csv";
  cfg.tasks = {{"speaker", {"alice", "bob"}, ""}, {"music", {"no", "yes"}, ""}};
  fs::write_text(cfg.manifest, csv);
  return cfg;
}

const BadRow* bad_at(const Manifest& m, int64_t line) {
  for (const auto& b : m.bad) {
    if (b.line == line) return &b;
  }
  return nullptr;
}

TEST(Csv, QuotesEscapesCrlfBomCommentsAndLineNumbers) {
  const std::string text =
      "\xEF\xBB\xBFpath,note\r\n"
      "# a comment\r\n"
      "\r\n"
      "\"a,b.wav\",\"say \"\"hi\"\"\"\r\n"
      "\"multi\nline.wav\", plain \n"
      "last.wav,";
  const auto rows = parse_csv(text, "m.csv");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].fields, (std::vector<std::string>{"path", "note"}));
  EXPECT_EQ(rows[1].line, 4);
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"a,b.wav", "say \"hi\""}));
  EXPECT_EQ(rows[2].line, 5);
  EXPECT_EQ(rows[2].fields, (std::vector<std::string>{"multi\nline.wav", "plain"}));
  EXPECT_EQ(rows[3].line, 7);
  EXPECT_EQ(rows[3].fields, (std::vector<std::string>{"last.wav", ""}));
  EXPECT_THROW(parse_csv("path\n\"open", "m.csv"), InputError);
}

// Only an unquoted leading '#' starts a comment: a quoted first field is a file name, whatever
// its first character ("#1.wav" was skipped as a comment), and leading blanks before an
// unquoted '#' still make a comment.
TEST(Csv, AQuotedHashIsAFileNameNotAComment) {
  const auto rows =
      parse_csv("path,n\n\"#1.wav\",1\n#2.wav,2\n  # note\n\"#\"\n\" #3.wav\",3\n", "m.csv");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1].line, 2);
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"#1.wav", "1"}));
  EXPECT_EQ(rows[2].line, 5);
  EXPECT_EQ(rows[2].fields, (std::vector<std::string>{"#"}));
  EXPECT_EQ(rows[3].line, 6);
  EXPECT_EQ(rows[3].fields, (std::vector<std::string>{" #3.wav", "3"}));
}

TEST(Csv, TextAfterAClosingQuoteMarksTheRow) {
  const auto rows = parse_csv("path,n\n\"a.wav\"JUNK,1\n\"b.wav\"  ,2\nc.wav,\"3\"x\n", "m.csv");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_NE(rows[1].error.find("'JUNK' after the closing quote of field 1"), std::string::npos)
      << rows[1].error;
  EXPECT_EQ(rows[2].error, "");  // blanks after the quote are allowed
  EXPECT_EQ(rows[2].fields, (std::vector<std::string>{"b.wav", "2"}));
  EXPECT_NE(rows[3].error.find("'x' after the closing quote of field 2"), std::string::npos)
      << rows[3].error;
}

TEST(Manifest, TextAfterAClosingQuoteIsABadRow) {
  test::TempDir dir;
  write_tone(dir / "a.wav", 4.0);
  const auto cfg = config(dir,
                          "path,start,end,speaker,music,group,split\n"
                          "\"a.wav\",0,2,alice,no,g1,\n"       // 2 good
                          "\"a.wav\"JUNK,2,4,bob,yes,g1,\n");  // 3 junk after the quote
  const Manifest m = read_manifest(cfg);
  ASSERT_EQ(m.segments.size(), 1u) << describe(m.bad, m.where);
  ASSERT_EQ(m.bad.size(), 1u) << describe(m.bad, m.where);
  EXPECT_EQ(m.bad[0].line, 3);
  EXPECT_NE(m.bad[0].reason.find("after the closing quote"), std::string::npos) << m.bad[0].reason;
  EXPECT_THROW(read_manifest(config(dir, "\"path\"x,speaker,music\n")), InputError);
}

TEST(Time, SecondsAndClockFormats) {
  EXPECT_EQ(parse_time("12.5"), 12.5);
  EXPECT_EQ(parse_time(" 01:02.5 "), 62.5);
  EXPECT_EQ(parse_time("1:02:03.25"), 3723.25);
  EXPECT_FALSE(parse_time("1:75"));
  EXPECT_FALSE(parse_time("1.5:10"));
  EXPECT_FALSE(parse_time("abc"));
  EXPECT_FALSE(parse_time("3s"));
  EXPECT_FALSE(parse_time(""));
  EXPECT_FALSE(parse_time("1:2:3:4"));
}

TEST(Manifest, EveryKindOfBadRowIsNamedByItsLine) {
  test::TempDir dir;
  write_tone(dir / "a.wav", 4.0);
  write_tone(dir / "b.wav", 2.0);
  fs::write_text(dir / "broken.wav", "not audio at all");
  const auto cfg = config(dir,
                          "path,start,end,speaker,music,group,split\n"  // 1
                          "a.wav,0,2,alice,no,g1,\n"                    // 2 good
                          "a.wav,2,4,bob,yes,g1,\n"                     // 3 good
                          "a.wav,3,1,alice,no,g1,\n"                    // 4 end before start
                          "b.wav,0,9,alice,no,g2,\n"                    // 5 beyond the file
                          "b.wav,0,1,carol,no,g2,\n"                    // 6 unknown label
                          "b.wav,1,2,,no,g2,\n"                         // 7 empty label
                          "a.wav,0,2,bob,yes,g1,\n"                     // 8 duplicate of 2
                          "missing.wav,0,1,alice,no,g3,\n"              // 9 missing file
                          "a.wav,zero,1,alice,no,g1,\n"                 // 10 start not a time
                          "a.wav,0,1,alice\n"                           // 11 short row
                          "broken.wav,0,1,alice,no,g4,\n"               // 12 undecodable
                          "b.wav,0,1,alice,no,g5,train\n"               // 13 good, fixed split
                          "b.wav,1,2,bob,no,g5,test\n"                  // 14 group in two splits
                          "b.wav,1.5,2,bob,no,g6,dev\n");               // 15 unknown split
  const Manifest m = read_manifest(cfg);
  ASSERT_EQ(m.segments.size(), 3u) << describe(m.bad, m.where);
  EXPECT_EQ(m.segments[0].line, 2);
  EXPECT_EQ(m.segments[1].labels, (std::vector<int>{1, 1}));
  EXPECT_EQ(m.segments[2].split, "train");
  const std::vector<std::pair<int64_t, std::string>> expected = {
      {4, "is not after start"},    {5, "beyond the file"},
      {6, "unknown label 'carol'"}, {7, "empty label"},
      {8, "duplicate of line 2"},   {9, "file not found"},
      {10, "not a time"},           {11, "has 4 fields"},
      {12, "cannot decode"},        {14, "in split 'train' on line 13"},
      {15, "split 'dev'"}};
  EXPECT_EQ(m.bad.size(), expected.size()) << describe(m.bad, m.where);
  for (const auto& [line, why] : expected) {
    const BadRow* b = bad_at(m, line);
    ASSERT_NE(b, nullptr) << "line " << line << " not reported" << describe(m.bad, m.where);
    EXPECT_NE(b->reason.find(why), std::string::npos) << "line " << line << ": " << b->reason;
  }
  const std::string text = describe(m.bad, m.where);
  EXPECT_NE(text.find("manifest.csv:6: 'b.wav': unknown label 'carol' for task 'speaker'"),
            std::string::npos)
      << text;

  write_bad_rows(dir / "skipped.csv", m.bad);
  const auto rows = parse_csv(fs::read_text(dir / "skipped.csv"), "skipped.csv");
  ASSERT_EQ(rows.size(), m.bad.size() + 1);
  EXPECT_EQ(rows[1].fields[0], "4");
}

TEST(Manifest, BrokenHeaderIsAnError) {
  test::TempDir dir;
  EXPECT_THROW(read_manifest(config(dir, "file,speaker,music\n")), InputError);  // no path column
  EXPECT_THROW(read_manifest(config(dir, "path,speaker\n")), InputError);        // no music column
  EXPECT_THROW(read_manifest(config(dir, "")), InputError);
  try {
    read_manifest(config(dir, "path,speaker\n"));
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("task 'music'"), std::string::npos) << e.what();
  }
}

// The manifest itself: a folder, a FIFO or a missing file, each said as it is.
TEST(Manifest, AManifestThatCannotBeReadSaysWhy) {
  test::TempDir dir;
  DatasetConfig cfg = config(dir, "");
  const auto expect = [&](const stdfs::path& manifest, const std::string& why) {
    cfg.manifest = manifest;
    try {
      read_manifest(cfg);
      ADD_FAILURE() << manifest << " accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()), "cannot read '" + manifest.string() + "': " + why);
    }
  };
  stdfs::create_directories(dir / "folder.csv");
  expect(dir / "folder.csv", "is a directory");
  ASSERT_EQ(mkfifo((dir / "pipe.csv").c_str(), 0600), 0);
  expect(dir / "pipe.csv", "not a regular file");
  expect(dir / "missing.csv", "No such file or directory");
}

TEST(Manifest, ClassesFromTheDataAndGroupsDefaultToTheFile) {
  test::TempDir dir;
  write_tone(dir / "x.wav", 3.0);
  write_tone(dir / "y.wav", 3.0);
  auto cfg = config(dir, "path,speaker,music\nx.wav,zed,no\ny.wav,amy,yes\n");
  cfg.tasks[0].classes.clear();
  const Manifest m = read_manifest(cfg);
  ASSERT_TRUE(m.bad.empty()) << describe(m.bad, m.where);
  EXPECT_EQ(m.tasks[0].classes, (std::vector<std::string>{"amy", "zed"}));
  EXPECT_EQ(m.segments[0].labels[0], 1);
  EXPECT_EQ(m.segments[0].group, "x.wav");
  EXPECT_FALSE(m.segments[0].end.has_value());
  // a background class must be among the classes found
  cfg.tasks[0].background = "none";
  try {
    read_manifest(cfg);
    ADD_FAILURE() << "a background class absent from the data was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("background.speaker = 'none': no row of"),
              std::string::npos)
        << e.what();
  }
}

// A path that is a folder, a FIFO or a file the OS refuses is a bad row saying so, not "file not
// found" (and the FIFO is not opened: that would block).
TEST(Manifest, UnreadablePathsSayWhy) {
  test::TempDir dir;
  write_tone(dir / "a.wav", 2.0);
  stdfs::create_directories(dir / "folder.wav");
  ASSERT_EQ(mkfifo((dir / "pipe.wav").c_str(), 0600), 0);
  const auto cfg = config(dir,
                          "path,speaker,music\n"
                          "a.wav,alice,no\n"        // 2 good
                          "folder.wav,alice,no\n"   // 3
                          "pipe.wav,bob,no\n"       // 4
                          "missing.wav,bob,no\n");  // 5
  const Manifest m = read_manifest(cfg);
  ASSERT_EQ(m.segments.size(), 1u) << describe(m.bad, m.where);
  ASSERT_EQ(m.bad.size(), 3u) << describe(m.bad, m.where);
  EXPECT_EQ(bad_at(m, 3)->reason, "'" + (dir / "folder.wav").string() + "': is a directory");
  EXPECT_EQ(bad_at(m, 4)->reason,
            "'" + (dir / "pipe.wav").string() + "': not a regular file (a FIFO)");
  EXPECT_NE(bad_at(m, 5)->reason.find("file not found"), std::string::npos);
}

// Manifests are shared: a path may not leave audio_root (absolute, or climbing out with ..)
// unless the dataset file says allow_outside_root = true.
TEST(Manifest, PathsOutsideTheAudioRootAreBadRowsUnlessAllowed) {
  test::TempDir dir;
  for (const char* name : {"in1.wav", "in2.wav", "in3.wav"}) write_tone(dir / "audio" / name, 2.0);
  write_tone(dir / "out1.wav", 2.0);
  write_tone(dir / "out2.wav", 2.0);
  const std::string csv =
      "path,speaker,music\n"
      "in1.wav,alice,no\n"        // 2
      "sub/../in2.wav,bob,no\n"   // 3 inside
      "../out1.wav,alice,no\n" +  // 4
      (dir / "out2.wav").string() +
      ",bob,yes\n" +                 // 5 absolute
      "../audio/in3.wav,bob,yes\n";  // 6 out and back
  DatasetConfig cfg = config(dir, csv);
  cfg.audio_root = dir / "audio";
  const Manifest m = read_manifest(cfg);
  ASSERT_EQ(m.segments.size(), 3u) << describe(m.bad, m.where);
  ASSERT_EQ(m.bad.size(), 2u) << describe(m.bad, m.where);
  for (int64_t line : {4, 5}) {
    ASSERT_NE(bad_at(m, line), nullptr) << line;
    EXPECT_NE(
        bad_at(m, line)->reason.find("leaves audio_root '" + (dir / "audio").string() +
                                     "' (set allow_outside_root = true in " + cfg.file.string()),
        std::string::npos)
        << bad_at(m, line)->reason;
  }
  EXPECT_NE(describe(m.bad, m.where).find("manifest.csv:4: '../out1.wav': the path leaves"),
            std::string::npos)
      << describe(m.bad, m.where);

  // allowed by the dataset file's key
  const toml::table root = toml::parse(
      "allow_outside_root = true\nmanifest = \"manifest.csv\"\n[tasks]\nspeaker = [\"alice\", "
      "\"bob\"]\n"
      "music = [\"no\", \"yes\"]\n");
  const DatasetConfig allowed = dataset_config_from_toml(root, dir / "dataset.toml");
  EXPECT_TRUE(allowed.allow_outside_root);
  cfg.allow_outside_root = allowed.allow_outside_root;
  const Manifest all = read_manifest(cfg);
  EXPECT_EQ(all.segments.size(), 5u) << describe(all.bad, all.where);
  EXPECT_TRUE(all.bad.empty()) << describe(all.bad, all.where);
  EXPECT_FALSE(dataset_config_from_toml(toml::parse("[tasks]\nspeaker = []\n"), dir / "d.toml")
                   .allow_outside_root);
}

TEST(Manifest, FolderPerClassLayout) {
  test::TempDir dir;
  write_tone(dir / "dog" / "1.wav", 1.0);
  write_tone(dir / "dog" / "sub" / "2.wav", 1.0);
  write_tone(dir / "cat" / "3.wav", 1.0);
  write_tone(dir / "cow" / "4.wav", 1.0);
  fs::write_text(dir / "dog" / "notes.txt", "ignored");
  DatasetConfig cfg;
  cfg.audio_root = dir.path();
  cfg.tasks = {{"animal", {"cat", "dog"}, ""}};
  const Manifest m = read_manifest(cfg);
  ASSERT_EQ(m.segments.size(), 3u);
  EXPECT_EQ(m.segments[0].path, "cat/3.wav");
  EXPECT_EQ(m.segments[2].path, "dog/sub/2.wav");
  EXPECT_EQ(m.segments[2].labels, std::vector<int>{1});
  ASSERT_EQ(m.bad.size(), 1u);
  EXPECT_NE(m.bad[0].reason.find("folder 'cow'"), std::string::npos);
}

TEST(LabelChunk, MajorityOfTimeWithMinimumCoverage) {
  Segment a, b, c;
  a.start = 0, a.end = 1.0, a.labels = {0, 0};
  b.start = 1.0, b.end = 3.0, b.labels = {1, 0};
  c.start = 5.0, c.labels = {0, 1};  // to the end of the file
  const std::vector<const Segment*> segs = {&a, &b, &c};
  LabelRule rule;
  rule.background = {-1, -1};
  // [0, 3): class 1 covers 2 s of 3 -> 1; task 2 all class 0
  EXPECT_EQ(label_chunk(segs, 0, 3, rule), (std::vector<int>{1, 0}));
  // [2, 5): only 1 s covered (b) -> below 0.5 * 3 s -> dropped
  EXPECT_FALSE(label_chunk(segs, 2, 5, rule));
  // ... but kept with a lower minimum coverage
  rule.min_coverage = 0.3;
  EXPECT_EQ(label_chunk(segs, 2, 5, rule), (std::vector<int>{1, 0}));
  rule.min_coverage = 0.5;
  // [4.5, 7.5): c (open end) covers 2.5 s
  EXPECT_EQ(label_chunk(segs, 4.5, 7.5, rule), (std::vector<int>{0, 1}));
  // a tie goes to the lower class index
  EXPECT_EQ(label_chunk(segs, 0, 2, rule), (std::vector<int>{0, 0}));
}

// Task 0 is a speaker task whose class 0 is `none`: a speaker heard for at least
// min_foreground of the chunk names it, even where `none` covers more of it.
TEST(LabelChunk, BackgroundClassYieldsToForeground) {
  Segment quiet1, anna, quiet2, ben, quiet3;
  quiet1.start = 0, quiet1.end = 1.0, quiet1.labels = {0};
  anna.start = 1.0, anna.end = 1.7, anna.labels = {1};
  quiet2.start = 1.7, quiet2.end = 4.5, quiet2.labels = {0};
  ben.start = 4.5, ben.end = 5.4, ben.labels = {2};
  quiet3.start = 5.4, quiet3.labels = {0};
  const std::vector<const Segment*> segs = {&quiet1, &anna, &quiet2, &ben, &quiet3};
  LabelRule rule;
  rule.background = {0};
  rule.min_foreground = 0.2;  // 0.6 s of a 3 s chunk
  // [0, 3): anna 0.7 s >= 0.6 s -> anna, though `none` covers 2.3 s
  EXPECT_EQ(label_chunk(segs, 0, 3, rule), std::vector<int>{1});
  // [3, 6): anna 0, ben 0.9 s -> ben
  EXPECT_EQ(label_chunk(segs, 3, 6, rule), std::vector<int>{2});
  // [1.2, 4.2): anna 0.5 s < 0.6 s -> the usual majority: none
  EXPECT_EQ(label_chunk(segs, 1.2, 4.2, rule), std::vector<int>{0});
  // [1.0, 5.4): anna 0.7 s, ben 0.9 s, both over 0.88 s: the one heard longer
  EXPECT_EQ(label_chunk(segs, 1.0, 5.4, rule), std::vector<int>{2});
  // without a background class, the majority rule: none in both
  rule.background = {-1};
  EXPECT_EQ(label_chunk(segs, 0, 3, rule), std::vector<int>{0});
  EXPECT_EQ(label_chunk(segs, 3, 6, rule), std::vector<int>{0});
  // a foreground class beats the background even where the chunk is mostly unannotated
  Segment only_anna = anna;
  rule.background = {0};
  EXPECT_EQ(label_chunk({&only_anna}, 0.5, 3.5, rule), std::vector<int>{1});
}

// The dataset's [background] names become class indices per task (-1: none), in task order.
TEST(LabelRule, FromTheDatasetConfig) {
  DatasetConfig cfg;
  cfg.min_coverage = 0.4;
  cfg.min_foreground = 0.25;
  cfg.tasks = {{"speaker", {"anna", "none", "ben"}, "none"}, {"music", {"no", "yes"}, ""}};
  const LabelRule rule = label_rule(cfg, cfg.tasks);
  EXPECT_EQ(rule.background, (std::vector<int>{1, -1}));
  EXPECT_EQ(rule.min_coverage, 0.4);
  EXPECT_EQ(rule.min_foreground, 0.25);
}

}  // namespace
}  // namespace hptrain::data
