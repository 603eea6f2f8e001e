// A read-only memory map of a whole file. Weights stay in the page cache until a backend converts or uploads them.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

namespace lmscope {

class MappedFile {
 public:
  // Throws BadInput naming the path when the file cannot be opened or mapped.
  static std::shared_ptr<const MappedFile> open(const std::filesystem::path& path);
  // The same interface over bytes already in memory (`path` only names them in messages): parsers can then be
  // tested and fuzzed without files.
  static std::shared_ptr<const MappedFile> from_bytes(const std::filesystem::path& path, std::string bytes);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const unsigned char* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  MappedFile() = default;
  std::filesystem::path path_;
  const unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
  bool mapped_ = false;
  std::string owned_;  // from_bytes: the bytes themselves
};

}  // namespace lmscope
