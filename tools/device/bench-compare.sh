#!/usr/bin/env bash
# On the GPU machine, after a build: the compare task's speed. Llama-3.2-1B (random bf16 weights) extended with
# linear RoPE ×2 against itself unextended, WikiText-2 windows of 2048 Llama 3 tokens, through lmscope-cli run
# (4 windows, then 36: the difference is the cost of 32 windows without loading and warm-up) and through
# tools/bench_compare_reference.py (transformers + torch, the same work on random ids) in the same run.
# Carry .carry/shared/data/tokenizers/llama3 and .carry/shared/data/wikitext-2-raw.
# Usage: tools/device/bench-compare.sh BUILD_DIR
set -uo pipefail
build=${1:-build-device}
cli="$build/bin/lmscope-cli"
ckpt=/dev/shm/lmscope-compare-llama
[ -d "$ckpt" ] || "$cli" random-checkpoint --config resources/bench/llama-3.2-1b.json --out "$ckpt" --dtype BF16 >/dev/null
data=.carry/shared/data/wikitext-2-raw/wiki.test.raw
tok=.carry/shared/data/tokenizers/llama3
for W in 4 36; do
  rm -f /tmp/compare-$W.sqlite
  start=$(date +%s.%N)
  "$cli" run --model "$ckpt" --tokenizer "$tok" --task compare --data "$data" --rope linear:factor=2 \
    --settings "{\"base\": \"$ckpt\", \"length\": 2048, \"max_windows\": $W}" --backend cuda --dtype bf16 \
    --store /tmp/compare-$W.sqlite --out /tmp/compare-$W.json --quiet | grep -E "kl_mean|top1"
  end=$(date +%s.%N)
  echo "== lmscope compare: $W windows x 2048: $(python3 -c "print(round($end - $start, 2))") s end to end (load included)"
done
python3 tools/bench_compare_reference.py resources/bench/llama-3.2-1b.json --windows 32 --seq 2048 2>&1 | grep -vE "deprecat|warn"
