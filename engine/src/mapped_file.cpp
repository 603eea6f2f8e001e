#include "lmscope/mapped_file.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "lmscope/error.h"
#include "lmscope/input_file.h"

namespace lmscope {

std::shared_ptr<const MappedFile> MappedFile::open(const std::filesystem::path& path) {
  const InputFile in(path, "a weight file");
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = static_cast<std::size_t>(in.size());
  if (f->size_ > 0) {
    void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, in.fd(), 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      throw BadInput(path.string() + ": cannot map: " + std::strerror(e));
    }
    f->data_ = static_cast<const unsigned char*>(p);
    f->mapped_ = true;
  }
  return f;
}

std::shared_ptr<const MappedFile> MappedFile::from_bytes(const std::filesystem::path& path, std::string bytes) {
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->owned_ = std::move(bytes);
  f->data_ = reinterpret_cast<const unsigned char*>(f->owned_.data());
  f->size_ = f->owned_.size();
  return f;
}

MappedFile::~MappedFile() {
  if (mapped_) ::munmap(const_cast<unsigned char*>(data_), size_);
}

}  // namespace lmscope
