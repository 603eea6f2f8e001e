// Writing a result file so that it is either complete under its name or not there at all: the bytes go to a
// temporary file beside the target, which is flushed to disk, checked and then renamed over the target. A full disk
// or an I/O error is an OutputError naming the path (the temporary file is removed); a target that exists but is not
// a regular file (/dev/full, a FIFO, a folder) is a BadInput, since renaming over it would replace it.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace lmscope {

class OutputFile {
 public:
  // `what` names the file in messages ("--out", "the logits file").
  OutputFile(const std::filesystem::path& target, std::string what);
  ~OutputFile();  // removes the temporary file unless commit() succeeded
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // The checks the constructor makes, without creating anything: for refusing an output before the work starts.
  static void check_target(const std::filesystem::path& target, const std::string& what);

  void write(std::string_view bytes);
  // Flushes, syncs, closes and renames into place.
  void commit();

 private:
  [[noreturn]] void fail(const std::string& doing, int error);
  std::filesystem::path target_, temp_;
  std::string what_;
  int fd_ = -1;
  bool committed_ = false;
};

// The whole content at once, through OutputFile.
void write_output_file(const std::filesystem::path& target, std::string_view content, const std::string& what);

}  // namespace lmscope
