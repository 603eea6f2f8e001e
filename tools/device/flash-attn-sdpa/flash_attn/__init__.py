"""A stand-in for the flash-attn package, for benchmarks on a machine without it (the GPU machine has no compiled
flash-attn, and fla's BitNet / Samba attention layers import it). The two entry points fla calls run torch's
scaled_dot_product_attention, whose flash backend is FlashAttention-2's kernel when there is no explicit mask.
Layouts as flash-attn's: q [batch, T, heads, dim], k / v [batch, S, kv heads, dim]; causal masks aligned to the
last query (S - T keys before the first); window_size = (left, right) keys around the diagonal, -1 for unbounded.
Put this folder on PYTHONPATH (tools/device/bench-table.sh does with BENCH_FLASH_ATTN_SDPA=1). Not for training."""
import torch
import torch.nn.functional as F

LMSCOPE_SDPA_STAND_IN = True  # tools/bench_reference.py names the reference path by this


def _attention(q, k, v, causal, window_size, softmax_scale):
    q, k, v = (x.transpose(1, 2) for x in (q, k, v))  # [batch, heads, T, dim]
    gqa = k.shape[1] != q.shape[1]
    T, S = q.shape[2], k.shape[2]
    left, right = window_size if window_size is not None else (-1, -1)
    if causal:
        right = 0
    if left < 0 and ((causal and T == S) or (not causal and right < 0)):
        o = F.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=softmax_scale, enable_gqa=gqa)
    else:  # a window or an offset diagonal: an explicit mask (SDPA's memory-efficient backend)
        i = torch.arange(T, device=q.device)[:, None] + (S - T)
        j = torch.arange(S, device=q.device)[None, :]
        keep = torch.ones(T, S, dtype=torch.bool, device=q.device)
        if right >= 0:
            keep &= j <= i + right
        if left >= 0:
            keep &= j >= i - left
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, scale=softmax_scale, enable_gqa=gqa)
    return o.transpose(1, 2)


def flash_attn_func(q, k, v, dropout_p=0.0, softmax_scale=None, causal=False, window_size=(-1, -1), **kwargs):
    return _attention(q, k, v, causal, window_size, softmax_scale)


def flash_attn_varlen_func(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q=None, max_seqlen_k=None, dropout_p=0.0,
                           softmax_scale=None, causal=False, window_size=(-1, -1), **kwargs):
    outs = []
    for b in range(len(cu_seqlens_q) - 1):
        qs, qe = int(cu_seqlens_q[b]), int(cu_seqlens_q[b + 1])
        ks, ke = int(cu_seqlens_k[b]), int(cu_seqlens_k[b + 1])
        outs.append(_attention(q[None, qs:qe], k[None, ks:ke], v[None, ks:ke], causal, window_size, softmax_scale)[0])
    return torch.cat(outs, 0)
