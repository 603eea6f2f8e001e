#include "lmscope/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lmscope/error.h"
#include "lmscope/input_file.h"

namespace lmscope {

namespace {

std::filesystem::path folder_of(const std::filesystem::path& target) {
  return target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
}

}  // namespace

void OutputFile::check_target(const std::filesystem::path& target, const std::string& what) {
  if (const auto kind = non_regular_kind(target); !kind.empty())
    throw BadInput(what + " " + target.string() + " is " + kind + ", not a file lmscope can write; give a file path");
  std::error_code ec;
  if (!std::filesystem::is_directory(folder_of(target), ec))
    throw BadInput(what + " " + target.string() + ": folder " + folder_of(target).string() + " does not exist");
}

OutputFile::OutputFile(const std::filesystem::path& target, std::string what) : target_(target), what_(std::move(what)) {
  check_target(target, what_);
  const auto folder = folder_of(target);
  // Beside the target, so the rename stays on one filesystem; the pid keeps concurrent writers apart.
  std::string name = ".";
  name += target.filename().string();
  name += ".partial-";
  name += std::to_string(::getpid());
  temp_ = folder / name;
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot create a file beside it", errno);
}

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_.c_str());
}

void OutputFile::fail(const std::string& doing, int error) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temp_.c_str());
  throw OutputError("cannot write " + what_ + " " + target_.string() + ": " + doing + ": " + std::strerror(error) +
                    " (nothing was written under that name)");
}

void OutputFile::write(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write failed", errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void OutputFile::commit() {
  // fsync reports what a delayed write-back could not store (a full disk on some filesystems shows only here).
  if (::fsync(fd_) != 0 && errno != EINVAL) fail("flush to disk failed", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("close failed", errno);
  if (::rename(temp_.c_str(), target_.c_str()) != 0) fail("cannot move the finished file into place", errno);
  committed_ = true;
}

void write_output_file(const std::filesystem::path& target, std::string_view content, const std::string& what) {
  OutputFile f(target, what);
  f.write(content);
  f.commit();
}

}  // namespace lmscope
