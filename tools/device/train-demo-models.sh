#!/usr/bin/env bash
# On the GPU machine: trains the three demo models (tools/train/train_demo.py) side by side, one process each
# (they are tiny; the GPU has room), on LAMBADA's text with the shipped BPE tokenizer (demo-llama's). Carry .whl
# (fla's wheels) and .carry/shared/data/lambada_openai/test.jsonl (not the refpack: with resources/models in the
# tree it would pass the 64 MiB carry limit). Writes the model folders to /tmp/demo-models and one archive of them,
# $OUT/demo-models.tar.gz (the device returns few files).
# Usage: tools/device/train-demo-models.sh [MINUTES]
set -uo pipefail
out=${OUT:-/tmp/lmscope-out}
minutes=${1:-2}
python3 -m pip install --no-deps -q .whl/*.whl 2>&1 | tail -2
text=.carry/shared/data/lambada_openai/test.jsonl
for m in llama gdn bytes; do
  python3 tools/train/train_demo.py --text "$text" --tokenizer resources/models/demo-llama --out "/tmp/demo-models/$m" --models "$m" \
    --minutes "$minutes" --eval-every 5 >"$out/train-$m.log" 2>&1 &
done
wait
for m in llama gdn bytes; do
  echo "== $m"; grep -E "max \|diff\||kept|Error|error" "$out/train-$m.log" | tail -3
done
tar czf "$out/demo-models.tar.gz" -C /tmp/demo-models .
