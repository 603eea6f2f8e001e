#!/usr/bin/env bash
# On the GPU machine (carry .fuzzcarry from tools/fuzz-pack.sh): every libFuzzer target for SECONDS (default 530) on
# the machine's cores, more processes for the slower targets (the tokenizer runs ~5x fewer inputs per second than
# safetensors), all seeded from tests/fuzz/corpus. Prints executions, exec/s and findings per target (crashes, leaks,
# timeouts, out-of-memory; slow-unit files are not findings) and leaves $OUT/fuzz-summary.txt and
# $OUT/findings.tar.gz (reproducers: add them to tests/fuzz/regressions/TARGET/) and $OUT/corpora.tar.gz (the grown
# corpora: put it in .fuzzcarry/ and a later run continues from them, so executions of several calls add up).
#   tools/device/fuzz.sh [SECONDS] [TARGET=PROCESSES ...]   (default: all six targets, weighted by their speed)
set -u
secs=${1:-530}
shift || true
tar xJf .fuzzcarry/fuzz.tar.xz -C /tmp
mkdir -p /tmp/fuzz
[ -f .fuzzcarry/corpora.tar.gz ] && tar xzf .fuzzcarry/corpora.tar.gz -C /tmp/fuzz
# The tokenizer target writes its file per input: keep that in memory, not on the machine's overlay disk.
[ -d /dev/shm ] && export TMPDIR=/dev/shm
export LD_LIBRARY_PATH=/tmp/fz/lib ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# processes per target, proportional to how slowly each runs (exec/s per process: tokenizer ~1K, worker_request
# ~4K, config / run_spec / data_files ~3.5K, safetensors ~7K on the Debian machine)
declare -A procs=([config]=2 [data_files]=2 [run_spec]=2 [safetensors]=1 [tokenizer]=7 [worker_request]=2)
targets=(config data_files run_spec safetensors tokenizer worker_request)
if [ $# -gt 0 ]; then
  targets=()
  for a in "$@"; do targets+=("${a%%=*}"); procs[${a%%=*}]=${a#*=}; done
fi
for t in "${targets[@]}"; do
  w=/tmp/fuzz/$t
  mkdir -p "$w/corpus" "$w/findings"
  for ((p = 0; p < ${procs[$t]}; ++p)); do
    /tmp/fz/bin/fuzz_$t -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$w/findings/" "$w/corpus" "tests/fuzz/corpus/$t" >"$w/log-$p.txt" 2>&1 &
  done
done
wait
out=${OUT:-/tmp}
{
  printf '%-16s %6s %14s %10s %s\n' target procs executions exec/s findings
  for t in "${targets[@]}"; do
    w=/tmp/fuzz/$t
    e=0 r=0
    for l in "$w"/log-*.txt; do
      n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$l" | tail -1)
      s=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$l" | tail -1)
      e=$((e + ${n:-0})) r=$((r + ${s:-0}))
    done
    found=$(ls "$w/findings" | grep -vc '^slow-unit')
    printf '%-16s %6s %14s %10s %s\n' "$t" "${procs[$t]}" "$e" "$r" "$found"
    grep -h -m2 -E '^==[0-9]+==ERROR|^SUMMARY' "$w"/log-*.txt | head -4
  done
} | tee "$out/fuzz-summary.txt"
tar czf "$out/findings.tar.gz" -C /tmp/fuzz $(cd /tmp/fuzz && ls -d */findings)
tar czf "$out/corpora.tar.gz" -C /tmp/fuzz $(cd /tmp/fuzz && ls -d */corpus)
