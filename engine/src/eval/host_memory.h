// Peak resident memory of this process, for the cost columns of an evaluation. The OS keeps a high-water mark for
// the process's whole life, so a run that loaded a large model first would report it for every later model; on
// Linux the mark can be reset (/proc/self/clear_refs, since 4.0), which makes it the peak of one unit of work.
#pragma once

#include <cstdint>

namespace lmscope::eval {

// Sets the high-water mark to the current resident size; false where the OS does not allow it.
bool reset_host_peak();
// The high-water mark in bytes (VmHWM; where /proc is missing, getrusage's lifetime maximum).
std::int64_t host_peak_bytes();

}  // namespace lmscope::eval
