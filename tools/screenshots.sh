#!/bin/sh
# Screenshots of the workbench for the README: copies two of the demo models (resources/models) and the demo text,
# runs the GUI's screenshot mode under Xvfb (it launches a perplexity-vs-length + passkey comparison on the CPU worker,
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

# two of the shipped demo models (Llamas: the RoPE sweep needs attention layers) on the demo text
cp -r "$root/resources/models/demo-llama" "$root/resources/models/demo-bytes" "$work/"
cp "$root/resources/demo/harbour.txt" "$work/text.txt"

mkdir -p "$out"
XDG_CONFIG_HOME=$work/config xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$gui" --store "$work/results.sqlite" --screenshots "$work/shots" --demo-text "$work/text.txt" \
  "$work/demo-llama" "$work/demo-bytes"
for f in "$work"/shots/*.png; do
  # keep the committed images small: 8-bit palette when pngquant is around, else as Qt wrote them
  if command -v pngquant >/dev/null 2>&1; then pngquant --force --output "$out/$(basename "$f")" 64 "$f"; else cp "$f" "$out/"; fi
done
ls -l "$out"
