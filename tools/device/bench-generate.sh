#!/usr/bin/env bash
# On the GPU machine, after a build: issue 16's generation benchmark. Llama-3.2-1B (random bf16 weights) with 8
# prompts of 8K and of 16K tokens, 32 new tokens each, through lmscope's batched decoder and transformers' generate
# (SDPA) in the same run; then Gated DeltaNet 1.3B against fla's generate when fla's wheels were carried
# (.carry/wheels: flash-linear-attention, fla-core, einops; installed to a temporary folder, nothing else touched).
# Usage: tools/device/bench-generate.sh BUILD_DIR [--no-gdn]
set -uo pipefail
build=${1:-build-device}
cli="$build/bin/lmscope-cli"
if ls .carry/wheels/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-deps --target /tmp/lmscope-pyextra .carry/wheels/*.whl >/dev/null 2>&1 &&
    export PYTHONPATH=/tmp/lmscope-pyextra${PYTHONPATH:+:$PYTHONPATH}
fi
bench_pair() {  # CONFIG NAME
  local config=$1 ckpt=/dev/shm/lmscope-gen-$2
  [ -d "$ckpt" ] || "$cli" random-checkpoint --config "$config" --out "$ckpt" --dtype BF16 >/dev/null
  for T in 8192 16384; do
    echo "== lmscope $2 bf16: 8 x $T + 32"
    timeout 200 "$cli" bench --model "$ckpt" --backend cuda --dtype bf16 --batch 8 --seq $T --generate 32 --repeat 3 --warmup 1
    echo "== lmscope $2 bf16, without the decode-attention kernels (LMSCOPE_SPLIT_DECODE=0: per-sequence RoPE, copies and tiled attention): 8 x $T + 32"
    LMSCOPE_SPLIT_DECODE=0 timeout 200 "$cli" bench --model "$ckpt" --backend cuda --dtype bf16 --batch 8 --seq $T --generate 32 \
      --repeat 3 --warmup 1
    echo "== reference $2 bf16: 8 x $T + 32"
    PYTHONUNBUFFERED=1 timeout 200 python3 tools/bench_generate_reference.py "$config" --batch 8 --seq $T --new 32 --repeat 3 --warmup 1 2>&1 |
      grep -vE "deprecated|warn"
  done
  rm -rf "$ckpt"
}
bench_pair resources/bench/llama-3.2-1b.json llama-3.2-1b
[ "${2:-}" = "--no-gdn" ] || bench_pair resources/bench/gdn-1.3b.json gdn-1.3b
