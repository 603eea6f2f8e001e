#!/usr/bin/env bash
# On the GPU machine: build and run the state-pass micro-benchmark of kernels/src/linear_attention_chunked.cu.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
F=(-std=c++17 -O3 -arch=sm_90 --expt-relaxed-constexpr -I "$root/kernels/include" -I "$root/kernels/src")
tmp=$(mktemp -d)
for f in linear_attention_chunked check op_profile; do nvcc "${F[@]}" -DLMSCOPE_HAVE_WGMMA=1 -c "$root/kernels/src/$f.cu" -o "$tmp/$f.o" & done
nvcc "${F[@]/-arch=sm_90/-gencode=arch=compute_90a,code=sm_90a}" -c "$root/kernels/src/linear_attention_fused_wgmma.cu" -o "$tmp/la_wgmma.o" &
wait
nvcc "${F[@]}" "$(dirname "$0")/bench.cu" "$tmp"/*.o -o "$tmp/la-passes"
"$tmp/la-passes"
