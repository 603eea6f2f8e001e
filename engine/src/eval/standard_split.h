// Named standard splits of raw corpora that are published as one file, so a study can say "enwik8-test" on the
// user's own copy instead of cutting files by hand. enwik8 and enwik9 (Hutter's first 10^8 / 10^9 bytes of an
// English Wikipedia dump) are split as the character-level literature does (Transformer-XL's prep_enwik8.py, and
// proportionally for enwik9): the first 90% of the bytes train, the next 5% valid, the last 5% test.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lmscope::eval {

struct ByteRange {
  std::uint64_t begin = 0, end = 0;
  bool operator==(const ByteRange&) const = default;
};

// "enwik8-train", "enwik8-valid", "enwik8-test", and the same for enwik9.
const std::vector<std::string>& standard_split_names();

// The split's bytes in a file of file_size bytes. BadInput for an unknown name, or when the file is not the
// corpus's exact size (a split of another file would score other text without saying so).
ByteRange standard_split_range(const std::string& name, std::uint64_t file_size);

// The split's bytes of the file, read without loading the rest.
std::string read_standard_split(const std::filesystem::path& path, const std::string& name);

}  // namespace lmscope::eval
