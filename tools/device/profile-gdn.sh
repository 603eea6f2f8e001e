#!/usr/bin/env bash
# On the GPU machine, after a build: where Gated DeltaNet 1.3B's time goes at 8×2048. Prints lmscope's op profile
# (LMSCOPE_CUDA_PROFILE: per-op self times and each GEMM shape's tuning report), nsys's per-kernel summary when
# nsys is installed, and torch's time for the same GEMM shapes (the yardstick for cuBLAS at these shapes).
# Usage: tools/device/profile-gdn.sh BUILD_DIR [batch seq]
set -uo pipefail
build=${1:-build-device}
batch=${2:-8}
seq=${3:-2048}
cli="$build/bin/lmscope-cli"
ckpt=/dev/shm/lmscope-bench-gdn-1.3b
[ -d "$ckpt" ] || "$cli" random-checkpoint --config resources/bench/gdn-1.3b.json --out "$ckpt" --dtype BF16 >/dev/null
echo "== lmscope bench"
"$cli" bench --model "$ckpt" --backend cuda --dtype bf16 --batch "$batch" --seq "$seq" --repeat 5 --warmup 2 2>&1 | tail -5
echo "== lmscope op profile"
LMSCOPE_CUDA_PROFILE=1 "$cli" bench --model "$ckpt" --backend cuda --dtype bf16 --batch "$batch" --seq "$seq" --repeat 1 \
  --warmup 1 2>&1 | tail -120
if command -v nsys >/dev/null; then
  echo "== nsys kernel summary"
  nsys profile -o /tmp/lmscope-gdn --force-overwrite true "$cli" bench --model "$ckpt" --backend cuda --dtype bf16 \
    --batch "$batch" --seq "$seq" --repeat 2 --warmup 1 >/dev/null 2>&1 &&
    nsys stats --report cuda_gpu_kern_sum --format csv /tmp/lmscope-gdn.nsys-rep 2>/dev/null | head -40
else
  echo "== nsys: not installed"
fi
echo "== torch GEMMs (bf16, x[M,K] @ w[N,K]^T)"
python3 - "$((batch * seq))" <<'PY'
import sys, torch
M = int(sys.argv[1])
for N, K in [(2048, 3072), (1536, 2048), (3072, 2048), (2048, 5632), (11264, 2048)]:
    x = torch.randn(M, K, device="cuda", dtype=torch.bfloat16)
    w = torch.randn(N, K, device="cuda", dtype=torch.bfloat16)
    for _ in range(3): torch.nn.functional.linear(x, w)
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for _ in range(10): torch.nn.functional.linear(x, w)
    e.record(); torch.cuda.synchronize()
    ms = s.elapsed_time(e) / 10
    print(f"torch gemm {M}x{N}x{K}: {ms:.3f} ms, {2*M*N*K/ms/1e9:.0f} TFLOP/s")
PY
