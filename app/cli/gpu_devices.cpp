#include "cli/gpu_devices.h"

#include <charconv>
#include <cstdlib>
#include <set>

#include "lmscope/error.h"

#ifdef LMSCOPE_HAVE_CUDA
#include "lmscope_kernels/cuda_device.h"
#endif

namespace lmscope::cli {
namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto end = text.find(sep, start);
    out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

// A non-negative decimal integer, whole string; -1 otherwise.
long parse_index(const std::string& s) {
  long v = -1;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || v < 0) return -1;
  return v;
}

}  // namespace

GpuDevices visible_gpus() {
  GpuDevices d;
  if (const char* fake = std::getenv("LMSCOPE_FAKE_GPUS"); fake && *fake) {
    const long n = parse_index(fake);
    if (n < 0 || n > 64) throw BadInput(std::string("LMSCOPE_FAKE_GPUS='") + fake + "': expected a count from 0 to 64");
    d.fake = true;
    for (long i = 0; i < n; ++i) d.ids.push_back(std::to_string(i));
    if (n == 0) d.why_none = "LMSCOPE_FAKE_GPUS=0";
    return d;
  }
#ifdef LMSCOPE_HAVE_CUDA
  const auto devices = cuda::list_devices();
  // CUDA numbers the devices it was allowed to see from 0; a worker must be given the name the parent was given
  // (CUDA_VISIBLE_DEVICES=2,3 → the workers get 2 and 3, not 0 and 1).
  std::vector<std::string> parent;
  if (const char* v = std::getenv("CUDA_VISIBLE_DEVICES"); v && *v) parent = split(v, ',');
  for (std::size_t i = 0; i < devices.size(); ++i)
    d.ids.push_back(i < parent.size() ? parent[i] : std::to_string(devices[i].index));
  if (d.ids.empty()) d.why_none = cuda::runtime_status();
#else
  d.why_none = "this lmscope-cli was built without CUDA (configure with -DLMSCOPE_CUDA=ON where nvcc exists)";
#endif
  return d;
}

std::vector<std::string> select_gpus(const std::string& text, const GpuDevices& devices) {
  const auto count = static_cast<long>(devices.ids.size());
  const std::string have =
      count == 0 ? "no CUDA device is visible: " + devices.why_none
                 : std::to_string(count) + " device" + (count == 1 ? "" : "s") + " visible, 0.." + std::to_string(count - 1);
  if (text == "all") {
    if (count == 0) throw BadInput("--gpus all: " + have);
    return devices.ids;
  }
  if (text.find(',') == std::string::npos) {
    const long n = parse_index(text);
    if (n < 1) throw BadInput("--gpus '" + text + "': expected all, a count (2) or device indices (0,2,5)");
    if (n > count) throw BadInput("--gpus " + text + ": asks for " + text + " devices, but " + have);
    return {devices.ids.begin(), devices.ids.begin() + n};
  }
  std::vector<std::string> chosen;
  std::set<long> seen;
  for (const auto& part : split(text, ',')) {
    const long i = parse_index(part);
    if (i < 0) throw BadInput("--gpus '" + text + "': '" + part + "' is not a device index (expected e.g. 0,2,5)");
    if (!seen.insert(i).second) throw BadInput("--gpus " + text + ": device " + part + " is listed twice");
    if (i >= count) throw BadInput("--gpus " + text + ": there is no device " + part + " (" + have + ")");
    chosen.push_back(devices.ids[static_cast<std::size_t>(i)]);
  }
  return chosen;
}

}  // namespace lmscope::cli
