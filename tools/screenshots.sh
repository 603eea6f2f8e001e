#!/bin/sh
# Screenshots of the workbench for the README: writes two small random-weight byte-level models and a text, runs
# the GUI's screenshot mode under Xvfb (it launches a perplexity-vs-length + passkey comparison on the CPU worker,
# waits for it and saves PNGs) and copies the PNGs to docs/screenshots/.
#   tools/screenshots.sh [BUILD_DIR]      (default: build; needs xvfb-run)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
out=$root/docs/screenshots
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cli=$build/bin/lmscope-cli
gui=$build/bin/lmscope
[ -x "$cli" ] && [ -x "$gui" ] || { echo "build lmscope and lmscope-cli first (cmake --build $build --target lmscope)" >&2; exit 2; }

# two byte-level Llamas (vocab 256, tokenizer "bytes"): the demo config and a narrower one with a longer context
"$cli" random-checkpoint --config "$root/resources/demo/tiny-llama.json" --out "$work/tiny-llama" --seed 1 >/dev/null
sed -e 's/"hidden_size": 256/"hidden_size": 128/' -e 's/"intermediate_size": 704/"intermediate_size": 352/' \
    -e 's/"head_dim": 32/"head_dim": 16/' -e 's/"max_position_embeddings": 512/"max_position_embeddings": 1024/' \
    "$root/resources/demo/tiny-llama.json" > "$work/narrow.json"
"$cli" random-checkpoint --config "$work/narrow.json" --out "$work/narrow-llama" --seed 2 >/dev/null
python3 - "$work/text.txt" <<'PY'
import random, sys
random.seed(7)
words = "the model reads a long text and predicts each next byte from the context it has seen so far".split()
open(sys.argv[1], "w").write(" ".join(random.choice(words) for _ in range(2500)))
PY

mkdir -p "$out"
XDG_CONFIG_HOME=$work/config xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$gui" --store "$work/results.sqlite" --screenshots "$work/shots" --demo-text "$work/text.txt" \
  "$work/tiny-llama" "$work/narrow-llama"
for f in "$work"/shots/*.png; do
  # keep the committed images small: 8-bit palette when pngquant is around, else as Qt wrote them
  if command -v pngquant >/dev/null 2>&1; then pngquant --force --output "$out/$(basename "$f")" 64 "$f"; else cp "$f" "$out/"; fi
done
ls -l "$out"
