// Which GPUs `lmscope-cli run --gpus` spreads a run over: the CUDA devices this process sees, chosen by
// all | N | a list of indices, each given as the CUDA_VISIBLE_DEVICES value its worker runs under.
//
// Testing aid: LMSCOPE_FAKE_GPUS=N makes the devices N fake ones (no CUDA needed); their workers run the spec on the
// CPU backend, so the multi-process machinery can be tested on any machine.
#pragma once

#include <string>
#include <vector>

namespace lmscope::cli {

struct GpuDevices {
  std::vector<std::string> ids;  // one CUDA_VISIBLE_DEVICES value per device this process sees, in CUDA's order
  bool fake = false;             // LMSCOPE_FAKE_GPUS: workers compute on the CPU
  std::string why_none;          // when ids is empty: why, in words
};

GpuDevices visible_gpus();

// --gpus TEXT against the devices: "all", a count N (the first N) or indices "0,2,5". BadInput for none, a
// duplicate, an index or count beyond the devices, or anything else.
std::vector<std::string> select_gpus(const std::string& text, const GpuDevices& devices);

}  // namespace lmscope::cli
