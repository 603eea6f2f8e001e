#!/usr/bin/env bash
# Configures (if needed), builds and runs every test. Tests that need ../shared (reference pack, data sets)
# skip with a message when it is absent; CUDA tests skip without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LMSCOPE_BUILD_DIR:-build}
[ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja
cmake --build "$build"
# ctest runs nproc tests at once: each single-threaded (OpenMP and the OpenBLAS GEMMs), or the threads of
# concurrent tests oversubscribe the cores and every parallel region waits for a descheduled thread (several times
# slower on 2 cores). Set OMP_NUM_THREADS to override.
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} QT_QPA_PLATFORM=offscreen ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
