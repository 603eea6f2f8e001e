#!/usr/bin/env bash
# On the GPU machine, after a build: the benchmark table of issues 5, 15 and 21. For each config, lmscope (bf16,
# batched fused scoring) and its reference stack (transformers SDPA for Llama; flash-linear-attention for its
# families, with mamba-ssm's Triton SSD for Mamba2 when its wheel is carried) at 8×2048 and 1×16384, in the same run,
# then one Markdown table with tokens/s, peak GPU memory and the ratio, and which reference path ran. Random weights,
# written once to /dev/shm.
# Usage: tools/device/bench-table.sh BUILD_DIR [CONFIG.json...]   (default: Llama-3.2-1B and Gated DeltaNet 1.3B)
# Carry .whl (fla, fla-core, einops, and mamba_ssm-*-py3-none-any.whl built with MAMBA_SKIP_CUDA_BUILD=TRUE) and,
# to skip most Triton compilation, .bench-carry/triton-cache.tar.gz (a tar of TRITON_CACHE_DIR from an earlier run).
# Order, so compilation never overlaps a timed pass: every reference warms up at once in a process of its own
# (bench_reference.py --warm-only: Triton compiles fla's kernels into its on-disk cache, minutes, in parallel on the
# CPUs), then lmscope's rows are timed, then each reference runs again alone — a fresh process loads the compiled
# kernels and autotunes on an idle GPU, then is timed. (Timing the warm processes themselves let their autotuning run
# beside the others' kernels: fla's delta-rule rows once came out 21–31% below the session before.) A reference
# whose warm-up does not finish within $BENCH_WARM_S (default 420 s) is left out of the table.
set -uo pipefail
# lmscope-cli built on the GPU machine links the carried libraries (.devdeps): without them on the library path every
# `ours` row fails to start (libutf8proc.so.2 not found) and the table shows dashes.
if [ -f .devdeps/device-env.sh ]; then
  source .devdeps/device-env.sh >/dev/null
  export LD_LIBRARY_PATH=/opt/devdeps/usr/lib/x86_64-linux-gnu/openblas-pthread:${LD_LIBRARY_PATH:-}
fi
if [ -f .bench-carry/triton-cache.tar.gz ]; then
  tar xzf .bench-carry/triton-cache.tar.gz -C /tmp && export TRITON_CACHE_DIR=/tmp/triton-cache
fi
# fla's Samba and BitNet attention layers import flash-attn, which the GPU machine lacks: BENCH_FLASH_ATTN_SDPA=1 puts
# a stand-in on the path that runs torch's SDPA (tools/device/flash-attn-sdpa; the table names that path).
[ "${BENCH_FLASH_ATTN_SDPA:-0}" = 1 ] && export PYTHONPATH=$PWD/tools/device/flash-attn-sdpa${PYTHONPATH:+:$PYTHONPATH}
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install --no-deps -q .whl/*.whl >/dev/null 2>&1 || echo "bench-table: could not install .whl/*.whl" >&2
fi
# BENCH_NO_REFERENCE="mamba-1.4b samba-1.3b": configs timed without their reference (one whose only path here is
# token by token in torch: minutes per 1×16384 pass). The table then compares every row with our own Gated DeltaNet
# 1.3B when gdn-1.3b is among the configs (issue 15's bar for families without an optimised reference).
no_reference() { [[ " ${BENCH_NO_REFERENCE:-} " == *" $1 "* ]]; }
build=${1:-build-device}
shift || true
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(resources/bench/llama-3.2-1b.json resources/bench/gdn-1.3b.json)
cli="$build/bin/lmscope-cli"
work=$(mktemp -d)
log=$work/table.log

# Checkpoints (single-threaded each: in parallel).
for config in "${configs[@]}"; do
  name=$(basename "$config" .json)
  ckpt=/dev/shm/lmscope-bench-$name
  if [ -d "$ckpt" ]; then  # made by an earlier run: its parameter count from inspect, in random-checkpoint's words
    "$cli" inspect --model "$ckpt" 2>/dev/null | awk '/^parameters/ {gsub(",", "", $2); print $2 " parameters"}' >"$work/$name.ckpt" &
  else
    "$cli" random-checkpoint --config "$config" --out "$ckpt" --dtype BF16 >"$work/$name.ckpt" 2>&1 &
  fi
done
wait

# References warm up together (compilation only). Token-by-token torch paths (Mamba without compiled mamba-ssm)
# compile nothing and take seconds per pass: no warm-up process, and one warm-up and one timed pass later.
token_by_token() { [ "$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['model_type'])" "$1")" = mamba ]; }
passes_of() { if token_by_token "$1"; then echo "--repeat 1 --warmup 1"; else echo "--repeat 5 --warmup 2"; fi; }
declare -A warm_pid
for config in "${configs[@]}"; do
  name=$(basename "$config" .json)
  token_by_token "$config" && continue
  no_reference "$name" && continue
  PYTHONUNBUFFERED=1 python3 tools/bench_reference.py "$config" --shapes 8x2048,1x16384 --warmup 1 --warm-only \
    >"$work/warm-$name.log" 2>&1 &
  warm_pid[$name]=$!
done
deadline=$((SECONDS + ${BENCH_WARM_S:-420}))
declare -A cold
for name in "${!warm_pid[@]}"; do
  while kill -0 "${warm_pid[$name]}" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 2; done
  if kill -0 "${warm_pid[$name]}" 2>/dev/null; then
    kill "${warm_pid[$name]}" 2>/dev/null
    cold[$name]=1
  fi
done

for config in "${configs[@]}"; do
  name=$(basename "$config" .json)
  params=$(grep -o '[0-9]* parameters' "$work/$name.ckpt" 2>/dev/null | head -1)
  [ -n "$params" ] && echo "params $name $params" | tee -a "$log"
  for shape in "8 2048" "1 16384"; do
    set -- $shape
    echo "ours $name $1x$2 $("$cli" bench --model "/dev/shm/lmscope-bench-$name" --backend cuda --dtype bf16 --batch "$1" --seq "$2" --repeat 5 --warmup 2 2>&1 | grep -E 'tokens/s|rror' | head -1)" | tee -a "$log"
  done
done

for config in "${configs[@]}"; do
  name=$(basename "$config" .json)
  if no_reference "$name"; then
    echo "path $name : none timed (BENCH_NO_REFERENCE)" | tee -a "$log"
    continue
  fi
  if [ -n "${cold[$name]:-}" ]; then
    echo "ref $name: not warm within ${BENCH_WARM_S:-420} s (left out)" | tee -a "$log"
    continue
  fi
  PYTHONUNBUFFERED=1 python3 tools/bench_reference.py "$config" --shapes 8x2048,1x16384 $(passes_of "$config") \
    >"$work/ref-$name.log" 2>&1
  grep '^reference-path' "$work/ref-$name.log" | sed "s/^/path $name /" | tee -a "$log"
  grep '^reference ' "$work/ref-$name.log" | sed "s/^/ref $name /" | tee -a "$log"
  grep -E 'Error|error' "$work/ref-$name.log" "$work/warm-$name.log" 2>/dev/null | tail -2 | sed "s/^/ref-error $name /" | tee -a "$log"
done
python3 tools/device/bench_table.py "$log"
[ -n "${OUT:-}" ] && tar czf "$OUT/bench-table-logs.tgz" -C "$work" . 2>/dev/null  # one file: the device returns at most 8
true
