// How many threads the CPU backend runs. OpenMP's default is one per processor; on a machine that is already busy
// every parallel region then waits for a descheduled thread (on 2 busy cores, 2 threads made a COPA run on a demo
// model 5–9× slower in wall time than 1). Unless OMP_NUM_THREADS says otherwise, the backend takes the processors
// the load average leaves idle, decided once per process when the first CPU backend is made.
#pragma once

namespace lmscope {

// max(1, processors − load rounded to the nearest whole processor)
int threads_for_load(int processors, double load_average);

// Once per process: sets OpenMP's and OpenBLAS's thread counts from /proc/loadavg's one-minute load (nothing when
// OMP_NUM_THREADS is set or the load cannot be read). Returns the count OpenMP will use.
int use_idle_processors();

}  // namespace lmscope
