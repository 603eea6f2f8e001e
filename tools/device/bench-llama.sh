#!/usr/bin/env bash
# On the GPU machine, after tools/device/build-and-test.sh (or any build): the issue-5 benchmark table for one
# config, lmscope (bf16, batched fused scoring) beside transformers SDPA bf16, in the same run.
# Usage: tools/device/bench-llama.sh BUILD_DIR [CONFIG.json]   (default resources/bench/llama-3.2-1b.json)
# Random weights are written once to /dev/shm in bf16 and both shapes are measured from there.
set -uo pipefail
build=${1:-build-device}
config=${2:-resources/bench/llama-3.2-1b.json}
ckpt=/dev/shm/lmscope-bench-$(basename "$config" .json)
cli="$build/bin/lmscope-cli"
[ -d "$ckpt" ] || "$cli" random-checkpoint --config "$config" --out "$ckpt" --dtype BF16 >/dev/null
for shape in "8 2048" "1 16384"; do
  set -- $shape
  echo "== lmscope bf16 batch $1 x seq $2"
  "$cli" bench --model "$ckpt" --backend cuda --dtype bf16 --batch "$1" --seq "$2" --repeat 5 --warmup 2
  echo "== transformers bf16 batch $1 x seq $2"
  PYTHONUNBUFFERED=1 python3 tools/bench_reference.py "$config" --batch "$1" --seq "$2" --dtype bf16 --repeat 5 --warmup 2
done
