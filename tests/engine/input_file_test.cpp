// Input files: only regular files are read, refused by what they are, and never past the stated size.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>

#include "lmscope/error.h"
#include "lmscope/input_file.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

std::string read_error(const fs::path& p, std::uint64_t limit = kMaxConfigFileBytes) {
  try {
    read_input_file(p, "the test input", limit);
  } catch (const BadInput& e) {
    return e.what();
  }
  return "accepted";
}

TEST(InputFile, ReadsARegularFileWhole) {
  TempDir dir;
  test::write_text(dir.path / "a.txt", "hello\nworld");
  EXPECT_EQ(read_input_file(dir.path / "a.txt", "x", 100), "hello\nworld");
  test::write_text(dir.path / "empty.txt", "");
  EXPECT_EQ(read_input_file(dir.path / "empty.txt", "x", 100), "");
}

TEST(InputFile, RefusesAFifoWithoutBlocking) {
  TempDir dir;
  const auto fifo = dir.path / "pipe";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const auto t0 = std::chrono::steady_clock::now();
  const auto msg = read_error(fifo);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.0);
  EXPECT_NE(msg.find("FIFO"), std::string::npos) << msg;
  EXPECT_NE(msg.find(fifo.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("the test input"), std::string::npos) << msg;
}

TEST(InputFile, RefusesDevicesAndFoldersByName) {
  TempDir dir;
  EXPECT_NE(read_error("/dev/zero").find("character device"), std::string::npos);
  EXPECT_NE(read_error(dir.path).find("a folder"), std::string::npos);
  EXPECT_NE(read_error(dir.path / "missing").find("No such file"), std::string::npos);
}

TEST(InputFile, RefusesFilesLargerThanTheLimitBeforeReadingThem) {
  TempDir dir;
  const auto big = dir.path / "big.txt";
  test::write_text(big, "");
  fs::resize_file(big, 5ull << 30);  // sparse: nothing is written or read
  const auto msg = read_error(big, kMaxTextFileBytes);
  EXPECT_NE(msg.find("larger than the 1 GiB"), std::string::npos) << msg;
  test::write_text(dir.path / "small.txt", std::string(101, 'x'));
  EXPECT_NE(read_error(dir.path / "small.txt", 100).find("larger than"), std::string::npos);
}

TEST(InputFile, ASymlinkLoopIsBadInput) {
  TempDir dir;
  fs::create_symlink(dir.path / "b", dir.path / "a");
  fs::create_symlink(dir.path / "a", dir.path / "b");
  const auto msg = read_error(dir.path / "a");
  EXPECT_NE(msg.find("symbolic links"), std::string::npos) << msg;
}

}  // namespace
}  // namespace lmscope
