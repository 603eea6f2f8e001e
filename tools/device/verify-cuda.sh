#!/usr/bin/env bash
# On the GPU machine: build and run every test (build-and-test.sh), print the bf16 refpack measurements, run
# compute-sanitizer memcheck over the kernel tests, then the benchmark table (bench-llama.sh). Logs go to $OUT.
# Carry .devdeps and .carry (see docs/NOTES.md). Usage: LMSCOPE_BUILD_DIR=/tmp/b tools/device/verify-cuda.sh [--no-bench|--bench] [--gdn]
# LMSCOPE_CTEST_ARGS: extra ctest arguments (e.g. -E for tests whose files were not carried); LMSCOPE_MEMCHECK_FILTER: a
# gtest filter for the memcheck pass (default: every CUDA test but the out-of-memory ones).
set -uo pipefail
out=${OUT:-/tmp/lmscope-out}
mkdir -p "$out"
build=${LMSCOPE_BUILD_DIR:-build-device}
tools/device/build-and-test.sh -j 8 ${LMSCOPE_CTEST_ARGS:-} >"$out/test.log" 2>&1
echo "build-and-test rc=$?"
grep -E "tests passed|tests failed|\*\*\*Failed|Failed  |SEGFAULT|Timeout|error:" "$out/test.log" | head -40
source .devdeps/device-env.sh >/dev/null 2>&1
export LD_LIBRARY_PATH=/opt/devdeps/usr/lib/x86_64-linux-gnu/openblas-pthread:${LD_LIBRARY_PATH:-}
[ -d .carry/shared ] && export LMSCOPE_SHARED=$PWD/.carry/shared
"$build/tests/engine_tests" --gtest_filter='Refpack/RefpackBf16*:Refpack/RefpackLlama*cuda*:Refpack/RefpackGemma2Eager*' 2>&1 |
  grep -E "measured|FAILED|Failure|Expected|Which is|PASSED|actual" | head -90
compute-sanitizer --tool memcheck --leak-check no "$build/tests/cuda_tests" --gtest_filter="${LMSCOPE_MEMCHECK_FILTER:--*OutOfMemory*}" >"$out/memcheck.log" 2>&1
echo "memcheck rc=$?"
grep -E "ERROR SUMMARY|PASSED|FAILED" "$out/memcheck.log" | head -10
[ "${1:-}" = "--no-bench" ] || tools/device/bench-llama.sh "$build" 2>&1 | tee "$out/bench.log" | grep -vE "^writing|Loading|warn"
if [ "${1:-}" != "--no-bench" ] && [ "${2:-}" = "--gdn" ]; then
  # Gated DeltaNet 1.3B at 8×2048 (bf16: the chunked delta-rule kernel)
  "$build/bin/lmscope-cli" random-checkpoint --config resources/bench/gdn-1.3b.json --out /dev/shm/gdn --dtype BF16 >/dev/null &&
    timeout 150 "$build/bin/lmscope-cli" bench --model /dev/shm/gdn --backend cuda --batch 8 --seq 2048 --repeat 3 --warmup 1
  python3 -c "import fla" 2>/dev/null && PYTHONUNBUFFERED=1 timeout 120 python3 tools/bench_reference.py resources/bench/gdn-1.3b.json --batch 8 --seq 2048 ||
    echo "(fla not importable here: no GDN reference)"
fi
