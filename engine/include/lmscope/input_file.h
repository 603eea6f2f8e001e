// Reading the files a user names (configs, specs, data, token lists, weights). Only regular files are read: a
// FIFO, a device, a socket or a folder is refused by name before anything can block on it or stream from it
// forever, and a file larger than the stated limit for its kind is refused before it is read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace lmscope {

// Limits by kind of file. Real configs, specs and token lists are kilobytes; evaluation texts are megabytes.
constexpr std::uint64_t kMaxConfigFileBytes = 64ull << 20;  // config.json, index, run specs, token/id lists
constexpr std::uint64_t kMaxTextFileBytes = 1ull << 30;     // evaluation data, --text-file, filler texts

// An open, regular, readable file (the descriptor closes with it).
class InputFile {
 public:
  // BadInput naming `path` and `what` (e.g. "the model configuration") when it cannot be opened or is not a
  // regular file (the message says what it is: a FIFO, a character device, a folder, ...).
  InputFile(const std::filesystem::path& path, const std::string& what);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  int fd() const { return fd_; }
  std::uint64_t size() const { return size_; }

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// The whole file as bytes; BadInput when it is not a regular file or holds more than max_bytes.
std::string read_input_file(const std::filesystem::path& path, const std::string& what, std::uint64_t max_bytes);

// "a FIFO", "a folder", "a character device", ... for a file that is not regular; "" for a regular file or one
// that does not exist.
std::string non_regular_kind(const std::filesystem::path& path);

// For readers that open files themselves (the tokenizer loaders): BadInput when `path`, or a file of `names` in the
// folder `path`, exists but is not a regular file, so nothing blocks on a FIFO or streams a device.
void refuse_non_regular(const std::filesystem::path& path, std::initializer_list<const char*> names);

}  // namespace lmscope
