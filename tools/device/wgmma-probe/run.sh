#!/usr/bin/env bash
# On the GPU machine (H100 / H200): build and run the wgmma layout probe. wgmma needs the sm_90a target (-gencode
# arch=compute_90a,code=sm_90a; -arch=sm_90a alone produced sm_90 PTX with this nvcc).
set -euo pipefail
nvcc -std=c++17 -O2 -gencode arch=compute_90a,code=sm_90a "$(dirname "$0")/probe.cu" -o /tmp/wgmma-probe 2>&1 | grep -v C7519 || true
echo "wgmma probe, m64n64k16 bf16 -> f32, 128-byte swizzle"
/tmp/wgmma-probe 0 16 1024 || true
for mode in 1 2; do
  for pair in "16 1024" "1024 16" "1024 1024" "8192 1024" "1024 8192" "2048 1024"; do
    /tmp/wgmma-probe $mode $pair || true
  done
done
