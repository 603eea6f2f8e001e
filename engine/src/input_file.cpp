#include "lmscope/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "lmscope/error.h"

namespace lmscope {
namespace {

std::string kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a folder";
  if (S_ISFIFO(m)) return "a FIFO (named pipe)";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

std::string size_text(std::uint64_t bytes) {
  if (bytes >= (1ull << 30)) return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (1ull << 20)) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

InputFile::InputFile(const std::filesystem::path& path, const std::string& what) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer that may never come.
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) {
    const int e = errno;
    throw BadInput(path.string() + ": cannot open " + what + ": " + std::strerror(e));
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int e = errno;
    ::close(fd_);
    throw BadInput(path.string() + ": cannot stat " + what + ": " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw BadInput(path.string() + ": is " + kind_of(st.st_mode) + ", not a regular file; give " + what +
                   " as a regular file");
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string read_input_file(const std::filesystem::path& path, const std::string& what, std::uint64_t max_bytes) {
  InputFile f(path, what);
  auto too_large = [&] {
    return BadInput(path.string() + ": " + what + " is larger than the " + size_text(max_bytes) +
                    " lmscope reads from such a file");
  };
  if (f.size() > max_bytes) throw too_large();
  std::string out;
  out.resize(static_cast<std::size_t>(f.size()));
  std::size_t got = 0;
  // Read until end of file, not just st_size bytes (a file may grow while it is read), but never past the limit.
  for (;;) {
    if (got == out.size()) {
      if (out.size() >= max_bytes + 1) throw too_large();
      out.resize(static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes + 1, out.size() * 2 + 4096)));
    }
    const ssize_t n = ::read(f.fd(), out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      throw BadInput(path.string() + ": cannot read " + what + ": " + std::strerror(e));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > max_bytes) throw too_large();
  out.resize(got);
  return out;
}

std::string non_regular_kind(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return "";
  return kind_of(st.st_mode);
}

void refuse_non_regular(const std::filesystem::path& path, std::initializer_list<const char*> names) {
  std::error_code ec;
  const bool folder = std::filesystem::is_directory(path, ec);
  if (!folder) {
    if (const auto kind = non_regular_kind(path); !kind.empty())
      throw BadInput(path.string() + ": is " + kind + ", not a regular file");
    return;
  }
  for (const char* n : names)
    if (const auto kind = non_regular_kind(path / n); !kind.empty())
      throw BadInput((path / n).string() + ": is " + kind + ", not a regular file");
}

}  // namespace lmscope
