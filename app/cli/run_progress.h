// Renders the runner's events for a terminal: a progress line on stderr (redrawn in place on a TTY, a line every
// few seconds otherwise) and the log messages.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace lmscope::cli {

class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool quiet);
  void operator()(const nlohmann::json& event);

 private:
  void line(const std::string& text, bool final);
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point last_{};
  std::size_t width_ = 0;
};

// "1:02:03" / "2:03"
std::string format_duration(double seconds);

}  // namespace lmscope::cli
