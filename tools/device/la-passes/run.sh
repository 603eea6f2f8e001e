#!/usr/bin/env bash
# On the GPU machine: build and run the state-pass micro-benchmark of kernels/src/linear_attention_chunked.cu.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
F=(-std=c++17 -O3 -arch=sm_90 --expt-relaxed-constexpr -I "$root/kernels/include" -I "$root/kernels/src")
tmp=$(mktemp -d)
for f in linear_attention_chunked check op_profile; do nvcc "${F[@]}" -c "$root/kernels/src/$f.cu" -o "$tmp/$f.o" & done
wait
nvcc "${F[@]}" "$(dirname "$0")/bench.cu" "$tmp"/*.o -o "$tmp/la-passes"
"$tmp/la-passes"
