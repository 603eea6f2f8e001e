#!/usr/bin/env bash
# The checking build CI runs after the README's test command: clang with AddressSanitizer + UndefinedBehaviorSanitizer
# (and libFuzzer's instrumentation), -O1 -g with assertions on. Runs the engine and command-line test suites under
# the sanitizers, then every fuzz target for a short smoke run (tools/fuzz.sh).
#   tools/check-sanitized.sh            (LMSCOPE_SANITIZE_BUILD_DIR, default build-asan; LMSCOPE_FUZZ_SMOKE_SECONDS, default 20)
# Left out under the sanitizers, for CI's time: the demo-report and whole-data-set CLI tests (each minutes here;
# they run unsanitized in tools/run-tests.sh) and the GUI (Qt is not built with the sanitizers).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LMSCOPE_SANITIZE_BUILD_DIR:-build-asan}
smoke=${LMSCOPE_FUZZ_SMOKE_SECONDS:-20}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DLMSCOPE_FUZZ=ON \
    -DLMSCOPE_GUI=OFF -DLMSCOPE_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g"
fi
cmake --build "$build"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# single-threaded tests, nproc at once (see tools/run-tests.sh)
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} ctest --test-dir "$build" --output-on-failure -j "$(nproc)" \
  -E 'ReportComparesTheDemoModels|DemoRunsOnWhatShips|PiqaAndLambadaRunOnTheSharedFiles|KillNineThenResume'
tools/fuzz.sh -t "$smoke" -b "$build"
