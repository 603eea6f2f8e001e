// The enwik8 / enwik9 splits of the literature: first 90% train, next 5% valid, last 5% test, by bytes.
#include <gtest/gtest.h>

#include <fstream>

#include "eval/standard_split.h"
#include "lmscope/error.h"
#include "support/test_support.h"

namespace lmscope::eval {
namespace {

TEST(StandardSplit, EnwikSplitsAreTheLiteraturesByteRanges) {
  // Transformer-XL's prep_enwik8.py: test = last 5,000,000 bytes, valid = the 5,000,000 before, train = the rest.
  const std::uint64_t e8 = 100'000'000, e9 = 1'000'000'000;
  EXPECT_EQ(standard_split_range("enwik8-train", e8), (ByteRange{0, 90'000'000}));
  EXPECT_EQ(standard_split_range("enwik8-valid", e8), (ByteRange{90'000'000, 95'000'000}));
  EXPECT_EQ(standard_split_range("enwik8-test", e8), (ByteRange{95'000'000, 100'000'000}));
  EXPECT_EQ(standard_split_range("enwik9-train", e9), (ByteRange{0, 900'000'000}));
  EXPECT_EQ(standard_split_range("enwik9-valid", e9), (ByteRange{900'000'000, 950'000'000}));
  EXPECT_EQ(standard_split_range("enwik9-test", e9), (ByteRange{950'000'000, 1'000'000'000}));
}

TEST(StandardSplit, AFileOfAnotherSizeOrAnUnknownNameIsRefused) {
  // A split of the wrong file would silently score other text (e.g. the last 5% of an already-split test file).
  try {
    standard_split_range("enwik8-test", 5'000'000);
    FAIL() << "no error";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("100,000,000"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("5,000,000"), std::string::npos) << e.what();
  }
  try {
    standard_split_range("enwik8-dev", 100'000'000);
    FAIL() << "no error";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("enwik8-valid"), std::string::npos) << e.what();
  }
}

TEST(StandardSplit, ReadsOnlyTheSplitsBytes) {
  // A sparse 10^8-byte file (no disk blocks for the zeros) with text of ours where the test split begins and ends.
  test::TempDir tmp;
  const auto path = tmp.path / "enwik8";
  {
    std::ofstream f(path, std::ios::binary);
  }
  std::filesystem::resize_file(path, 100'000'000);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(94'999'999);
    f << "xTEST";
    f.seekp(99'999'996);
    f << "END!";
  }
  const std::string text = read_standard_split(path, "enwik8-test");
  ASSERT_EQ(text.size(), 5'000'000u);
  EXPECT_EQ(text.substr(0, 4), "TEST");
  EXPECT_EQ(text.substr(text.size() - 4), "END!");
  EXPECT_EQ(read_standard_split(path, "enwik8-valid").back(), 'x');
}

TEST(StandardSplit, OnlyARegularFileIsRead) {
  // A folder (or a FIFO, a device) named as the corpus is refused by name before anything blocks on it.
  test::TempDir tmp;
  std::filesystem::create_directories(tmp.path / "enwik8");
  try {
    read_standard_split(tmp.path / "enwik8", "enwik8-test");
    FAIL() << "no error";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("folder"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lmscope::eval
