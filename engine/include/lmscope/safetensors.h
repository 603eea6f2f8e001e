// Reader and writer for the safetensors format: an 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}), then the data.
// The reader validates everything before any tensor is used, so a bad file is a BadInput naming the file and
// the tensor, never a crash or a silent wrong answer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lmscope/dtype.h"
#include "lmscope/mapped_file.h"

namespace lmscope {

// A tensor stored in a mapped file. `data` points into the map, which `file` keeps alive.
struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  const unsigned char* data = nullptr;
  std::size_t nbytes = 0;
  std::shared_ptr<const MappedFile> file;

  std::int64_t numel() const;
  // float32 copy of a float weight (F32/F16/BF16); BadInput for other types.
  std::vector<float> to_f32() const;
};

std::string shape_string(std::span<const std::int64_t> shape);

class SafetensorsFile {
 public:
  // Largest header accepted: real headers are a few MB even for sharded 70B checkpoints.
  static constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;

  static SafetensorsFile open(const std::filesystem::path& path);
  // The same validation over a file already in memory (MappedFile::from_bytes).
  static SafetensorsFile parse(std::shared_ptr<const MappedFile> file);

  const std::filesystem::path& path() const { return file_->path(); }
  std::uint64_t size_bytes() const { return file_->size(); }
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // nullptr when absent.
  const TensorView* find(const std::string& name) const;

 private:
  std::shared_ptr<const MappedFile> file_;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A tensor to write: raw little-endian bytes of `dtype` with `shape`.
struct TensorToWrite {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::vector<unsigned char> bytes;
};

TensorToWrite tensor_f32(std::string name, std::vector<std::int64_t> shape, std::span<const float> values);
TensorToWrite tensor_i64(std::string name, std::vector<std::int64_t> shape, std::span<const std::int64_t> values);
// float32 values stored as BF16 or F16 (rounded to nearest even) or F32.
TensorToWrite tensor_from_f32(std::string name, DType dtype, std::vector<std::int64_t> shape,
                              std::span<const float> values);

// Writes atomically (OutputFile: temporary file, flushed, renamed), so a failed write never leaves a half file under
// the final name; OutputError naming the path when the disk is full.
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace lmscope
