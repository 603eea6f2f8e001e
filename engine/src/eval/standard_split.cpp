#include "eval/standard_split.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lmscope/error.h"
#include "lmscope/input_file.h"

namespace lmscope::eval {
namespace {

std::string with_commas(std::uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

}  // namespace

const std::vector<std::string>& standard_split_names() {
  static const std::vector<std::string> names{"enwik8-train", "enwik8-valid", "enwik8-test",
                                              "enwik9-train", "enwik9-valid", "enwik9-test"};
  return names;
}

ByteRange standard_split_range(const std::string& name, std::uint64_t file_size) {
  const auto dash = name.find('-');
  const std::string corpus = name.substr(0, dash), part = dash == std::string::npos ? "" : name.substr(dash + 1);
  const std::uint64_t size = corpus == "enwik8" ? 100'000'000ULL : corpus == "enwik9" ? 1'000'000'000ULL : 0;
  if (size == 0 || (part != "train" && part != "valid" && part != "test")) {
    std::string list;
    for (const auto& n : standard_split_names()) list += (list.empty() ? "" : ", ") + n;
    throw BadInput("split '" + name + "' is not a known split (known: " + list +
                   "; leave split out to score the whole file)");
  }
  if (file_size != size)
    throw BadInput("split '" + name + "' needs the " + corpus + " file of exactly " + with_commas(size) +
                   " bytes; this file has " + with_commas(file_size) +
                   " (for a file that is already one split, leave split out)");
  // 90% and 95% of the corpus: whole numbers for both sizes.
  const std::uint64_t train_end = size / 100 * 90, valid_end = size / 100 * 95;
  if (part == "train") return {0, train_end};
  if (part == "valid") return {train_end, valid_end};
  return {valid_end, size};
}

std::string read_standard_split(const std::filesystem::path& path, const std::string& name) {
  const InputFile file(path, "the corpus of split '" + name + "'");  // a regular file, or refused by name
  const auto r = standard_split_range(name, file.size());
  std::string out(r.end - r.begin, '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    const auto n = ::pread(file.fd(), out.data() + done, out.size() - done, static_cast<off_t>(r.begin + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw BadInput(path.string() + ": could read only " + std::to_string(done) + " bytes of split '" + name + "'" +
                     (n < 0 ? std::string(" (") + std::strerror(errno) + ")" : std::string()));
    done += static_cast<std::size_t>(n);
  }
  return out;
}

}  // namespace lmscope::eval
