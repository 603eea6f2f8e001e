#!/usr/bin/env bash
# On the GPU machine, after a build: the issue-5 benchmark table. For each config, lmscope (bf16, batched fused
# scoring) and the reference stack (transformers SDPA for Llama; flash-linear-attention for its families, when
# importable: carry .whl and `python3 -m pip install --no-deps .whl/*.whl`) at 8×2048 and 1×16384, in the same run,
# then one Markdown table with tokens/s, peak GPU memory and the ratio. Random weights, written once to /dev/shm.
# Usage: tools/device/bench-table.sh BUILD_DIR [CONFIG.json...]   (default: Llama-3.2-1B and Gated DeltaNet 1.3B)
# About 5 minutes when fla compiles its Triton kernels on first use (~3 min of that), or carry a Triton cache from an
# earlier run as .bench-carry/triton-cache.tar.gz (a tar of the folder TRITON_CACHE_DIR named): then ~2.5 minutes.
set -uo pipefail
if [ -f .bench-carry/triton-cache.tar.gz ]; then
  tar xzf .bench-carry/triton-cache.tar.gz -C /tmp && export TRITON_CACHE_DIR=/tmp/triton-cache
fi
if ! python3 -c "import fla" 2>/dev/null && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install --no-deps -q .whl/*.whl >/dev/null 2>&1
fi
build=${1:-build-device}
shift || true
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(resources/bench/llama-3.2-1b.json resources/bench/gdn-1.3b.json)
cli="$build/bin/lmscope-cli"
log=$(mktemp)
for config in "${configs[@]}"; do
  name=$(basename "$config" .json)
  ckpt=/dev/shm/lmscope-bench-$name
  [ -d "$ckpt" ] || "$cli" random-checkpoint --config "$config" --out "$ckpt" --dtype BF16 >/dev/null
  for shape in "8 2048" "1 16384"; do
    set -- $shape
    echo "ours $name $1x$2 $("$cli" bench --model "$ckpt" --backend cuda --dtype bf16 --batch "$1" --seq "$2" --repeat 5 --warmup 2 2>/dev/null | grep 'tokens/s')" | tee -a "$log"
  done
  PYTHONUNBUFFERED=1 python3 tools/bench_reference.py "$config" --shapes 8x2048,1x16384 --repeat 5 --warmup 2 2>&1 |
    grep '^reference' | sed "s/^/ref $name /" | tee -a "$log"
done
python3 tools/device/bench_table.py "$log"
