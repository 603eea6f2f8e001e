#!/usr/bin/env bash
# Configures (if needed), builds and runs every test. Tests that need ../shared (reference pack, data sets)
# skip with a message when it is absent; CUDA tests skip without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LMSCOPE_BUILD_DIR:-build}
[ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja
cmake --build "$build"
QT_QPA_PLATFORM=offscreen ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
