#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz) for a given time each and reports executions and findings.
#   tools/fuzz.sh [-t SECONDS] [-b BUILD_DIR] [-n PROCESSES] [TARGET...]
# SECONDS per target (default 60); BUILD_DIR a clang build with -DLMSCOPE_FUZZ=ON (default build-fuzz, configured
# and built here when missing); PROCESSES per target (default 1), all targets at once. Targets default to all:
# safetensors config run_spec worker_request data_files tokenizer. Each target grows its corpus in
# BUILD_DIR/fuzz-work/TARGET/corpus (seeded from tests/fuzz/corpus/TARGET) and writes what it finds to
# BUILD_DIR/fuzz-work/TARGET/findings/. Exit status 1 when any target found a crash, a leak, a timeout or an
# undefined behaviour; the reproducer's path is printed (add it to tests/fuzz/regressions/TARGET/).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
build=${LMSCOPE_FUZZ_BUILD_DIR:-build-fuzz}
processes=1
while getopts "t:b:n:" opt; do
  case $opt in
    t) seconds=$OPTARG ;;
    b) build=$OPTARG ;;
    n) processes=$OPTARG ;;
    *) sed -n '2,10p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors config run_spec worker_request data_files tokenizer)

if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DLMSCOPE_FUZZ=ON \
    -DLMSCOPE_GUI=OFF -DLMSCOPE_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" >/dev/null
fi
cmake --build "$build" --target "${targets[@]/#/fuzz_}"

# Leaks inside OpenBLAS/OpenMP/SentencePiece start-up are not ours to fix; everything else stops the target.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
pids=()
for t in "${targets[@]}"; do
  work="$build/fuzz-work/$t"
  mkdir -p "$work/corpus" "$work/findings"
  for ((p = 0; p < processes; ++p)); do
    # -timeout: an input that takes 10 s is a finding (a hang); -rss_limit_mb: so is one that takes 2 GiB.
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/findings/" "$work/corpus" "tests/fuzz/corpus/$t" >"$work/log-$p.txt" 2>&1 &
    pids+=($!)
  done
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done

printf '%-16s %14s %10s %s\n' target executions exec/s findings
for t in "${targets[@]}"; do
  work="$build/fuzz-work/$t"
  execs=0
  for log in "$work"/log-*.txt; do
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    execs=$((execs + ${n:-0}))
  done
  # slow-unit-* files are inputs that took long once (a busy machine, a paused process) and do not stop the target;
  # what does is a crash, a leak, a timeout (-timeout) or running out of memory (-rss_limit_mb).
  found=$(find "$work/findings" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  printf '%-16s %14d %10d %s\n' "$t" "$execs" $((execs / seconds)) "$found"
  if [ "$found" -gt 0 ]; then
    status=1
    find "$work/findings" -type f ! -name 'slow-unit-*' -printf '  reproducer: %p\n'
    grep -h -m3 -E 'ERROR|SUMMARY|terminate|runtime error' "$work"/log-*.txt | sed 's/^/  /' || true
  fi
done
exit $status
