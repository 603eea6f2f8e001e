#!/usr/bin/env bash
# A/B timing of the bandwidth-bound kernels (bf16 short convolution, gated RMSNorms, RoPE): this tree's against an
# earlier revision's, in one process on the GPU, beside a plain copy of the same bytes (the bandwidth reference).
# Not a test. Two steps, because the GPU machine gets the working tree without git:
#   here:        tools/device/kernel-ab/kernel-ab.sh prepare REV    (writes .bench-carry/kernel-ab/old_*.cu from REV)
#   GPU machine: tools/device/kernel-ab/kernel-ab.sh run            (carry .bench-carry)
# The earlier revision's kernels are compiled with -Dcuda=oldcuda, so both sets link into one binary.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
old=$root/.bench-carry/kernel-ab
files=(causal_conv1d.cu rmsnorm_gated.cu rope.cu check.cu)
case "${1:-}" in
  prepare)
    rev=${2:?usage: kernel-ab.sh prepare REV}
    mkdir -p "$old"
    for f in "${files[@]}"; do git -C "$root" show "$rev:kernels/src/$f" > "$old/old_$f"; done
    echo "$rev" > "$old/REV"
    echo "kernel-ab: $rev's kernels in $old" ;;
  run)
    [ -f "$old/REV" ] || { echo "kernel-ab: run 'prepare REV' here first and carry .bench-carry" >&2; exit 1; }
    F=(-std=c++17 -O3 -arch=sm_90 --expt-relaxed-constexpr -I "$root/kernels/include" -I "$root/kernels/src")
    tmp=$(mktemp -d)
    for f in "${files[@]}"; do nvcc "${F[@]}" -Dcuda=oldcuda -c "$old/old_$f" -o "$tmp/old_${f%.cu}.o" & done
    wait
    nvcc "${F[@]}" "$(dirname "$0")/bench.cu" "${files[@]/#/$root/kernels/src/}" "$tmp"/old_*.o -o "$tmp/kernel-ab"
    echo "kernel-ab: this tree against $(cat "$old/REV")"
    "$tmp/kernel-ab" ;;
  *) echo "usage: kernel-ab.sh prepare REV | run" >&2; exit 2 ;;
esac
