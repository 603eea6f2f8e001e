#!/usr/bin/env bash
# On the GPU machine, after a build: the compare task's speed. Llama-3.2-1B (random bf16 weights) extended with
# linear RoPE ×2 against itself unextended, WikiText-2 windows of 2048 Llama 3 tokens, through lmscope-cli run
# (40 windows in units of 8: the time of units 1-4 from the results store, past loading and warm-up) and through
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
rm -f /tmp/compare.sqlite
"$cli" run --model "$ckpt" --tokenizer "$tok" --task compare --data "$data" --rope linear:factor=2 \
  --settings '{"base": "'"$ckpt"'", "length": 2048, "max_windows": 40}' --backend cuda --dtype bf16 \
  --store /tmp/compare.sqlite --out /tmp/compare.json --quiet | grep -E "kl_mean|top1"
# Units hold 8 windows each; the first (cuBLAS tuning, lazy module loading) is left out.
python3 - <<'PY'
import sqlite3
rows = sqlite3.connect('/tmp/compare.sqlite').execute('select unit, seconds from units order by unit').fetchall()
s = sum(sec for unit, sec in rows if unit > 0)
print(f'== lmscope compare: 32 windows x 2048 (units 1-4) | tokens/s {32 * 2048 / s:.1f} | s {s:.2f} | unit seconds {[round(x, 3) for _, x in rows]}')
PY
python3 tools/bench_compare_reference.py resources/bench/llama-3.2-1b.json --windows 32 --seq 2048 2>&1 | grep -vE "deprecat|warn"
