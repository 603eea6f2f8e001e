# On the GPU machine (no build needed): torch SDPA's causal bf16 attention timed per backend (FA2, cuDNN, memory-
# efficient) at the attention shapes of BitNet-1.3B / Llama-3.2-1B and a head dim of 128 — what the reference rows of
# bench-table.sh run, and so the target for our attention kernel. Usage: python3 tools/device/sdpa-backends/sdpa_backends.py
# Prints ms per call (one layer) and TFLOP/s (causal: half the square).
import torch, torch.nn.functional as F
from torch.nn.attention import sdpa_kernel, SDPBackend
print(torch.__version__, torch.cuda.get_device_name(), "cudnn", torch.backends.cudnn.version())
def t(fn, n=20):
    for _ in range(3): fn()
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for _ in range(n): fn()
    e.record(); torch.cuda.synchronize()
    return s.elapsed_time(e) / n
for (B, H, T, D) in [(1, 32, 16384, 64), (8, 32, 2048, 64), (1, 32, 16384, 128), (8, 16, 2048, 128)]:
    q, k, v = (torch.randn(B, H, T, D, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    flops = 4 * B * H * T * T * D / 2
    row = []
    for name, be in [("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION), ("efficient", SDPBackend.EFFICIENT_ATTENTION)]:
        try:
            with sdpa_kernel([be]):
                ms = t(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))
            row.append(f"{name} {ms:.3f} ms ({flops / ms / 1e9:.0f} TFLOP/s)")
        except Exception as ex:
            row.append(f"{name} unavailable ({type(ex).__name__})")
    with torch.no_grad():
        ms = t(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))
    row.append(f"default {ms:.3f} ms")
    print(f"B{B} H{H} T{T} D{D}: " + "; ".join(row))
