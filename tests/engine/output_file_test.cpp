// Output files are whole under their name or absent: a failed write (a full disk, here a file-size limit) leaves
// nothing, and a target that is not a regular file is refused before anything is written.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "lmscope/error.h"
#include "lmscope/output_file.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;

TEST(OutputFile, WritesWholeAndReplaces) {
  test::TempDir dir;
  const auto p = dir.path / "r.json";
  write_output_file(p, "first", "--out");
  write_output_file(p, "second, longer", "--out");
  EXPECT_EQ(test::read_text(p), "second, longer");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 1) << "a temporary file was left";
}

TEST(OutputFile, RefusesDevicesFoldersAndMissingFolders) {
  test::TempDir dir;
  auto error_of = [](const fs::path& p) {
    try {
      write_output_file(p, "x", "--out");
    } catch (const BadInput& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(error_of("/dev/full").find("--out /dev/full is a character device"), std::string::npos);
  EXPECT_NE(error_of(dir.path).find("a folder"), std::string::npos);
  EXPECT_NE(error_of(dir.path / "no" / "r.json").find("does not exist"), std::string::npos);
}

TEST(OutputFile, AFullDiskIsAnOutputErrorAndLeavesNothing) {
  test::TempDir dir;
  const auto p = dir.path / "big.bin";
  test::write_text(p, "the old content");
  // In a child: a 64 KiB file-size limit stands in for a full disk (SIGXFSZ ignored, so write() fails with EFBIG).
  const pid_t pid = fork();
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{64 << 10, 64 << 10};
    setrlimit(RLIMIT_FSIZE, &lim);
    try {
      write_output_file(p, std::string(1 << 20, 'x'), "--out");
    } catch (const OutputError& e) {
      _exit(std::string(e.what()).find("cannot write --out " + p.string()) != std::string::npos ? 42 : 43);
    } catch (...) {
      _exit(44);
    }
    _exit(45);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 42);
  EXPECT_EQ(test::read_text(p), "the old content");  // the target is untouched
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 1) << "a temporary file was left";
}

}  // namespace
}  // namespace lmscope
