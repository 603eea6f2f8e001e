#!/usr/bin/env python3
"""Reference speed for the `compare` task, on the GPU machine: what a student would write with transformers —
a RoPE-extended model (linear, factor 2) and its base (same random weights), both reading each window of T tokens,
then float32 log-softmax, KL(base ‖ model), top-1 agreement and both NLLs on the GPU, sums back to the host.

usage: python3 tools/bench_compare_reference.py CONFIG.json --windows 16 --seq 2048 [--dtype bf16] [--warmup 1]
Prints windows, tokens and tokens/s (window positions per second, each read by both models) and peak GPU memory.
"""
import argparse, json, time
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('config')
    ap.add_argument('--windows', type=int, default=16)
    ap.add_argument('--seq', type=int, default=2048)
    ap.add_argument('--dtype', default='bf16', choices=['bf16', 'fp32'])
    ap.add_argument('--warmup', type=int, default=1)
    a = ap.parse_args()
    from transformers import AutoConfig, AutoModelForCausalLM
    cfg = json.load(open(a.config))
    dtype = torch.bfloat16 if a.dtype == 'bf16' else torch.float32
    with torch.device('cuda'):
        base = AutoModelForCausalLM.from_config(AutoConfig.for_model(**cfg), torch_dtype=dtype, attn_implementation='sdpa').eval()
        ext = dict(cfg, rope_scaling={'rope_type': 'linear', 'factor': 2.0})
        model = AutoModelForCausalLM.from_config(AutoConfig.for_model(**ext), torch_dtype=dtype, attn_implementation='sdpa').eval()
    model.load_state_dict(base.state_dict())
    torch.manual_seed(1234)
    ids = torch.randint(0, cfg['vocab_size'], (a.windows, a.seq), device='cuda')

    def window(x):
        with torch.inference_mode():
            lm = model(x).logits.float().log_softmax(-1)
            lb = base(x).logits.float().log_softmax(-1)
            kl = (lb.exp() * (lb - lm)).sum(-1)
            agree = (lm.argmax(-1) == lb.argmax(-1)).double()
            t = x[:, 1:].unsqueeze(-1)
            nll = -lm[:, :-1].gather(-1, t).squeeze(-1)
            bnll = -lb[:, :-1].gather(-1, t).squeeze(-1)
            return torch.stack([kl.sum().double(), agree.sum(), nll.sum().double(), bnll.sum().double()]).cpu()

    for w in range(min(a.warmup, a.windows)):
        window(ids[w:w + 1])
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    total = torch.zeros(4, dtype=torch.float64)
    for w in range(a.windows):
        total += window(ids[w:w + 1])
    torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    n = a.windows * a.seq
    print(f'reference compare: {a.windows} windows x {a.seq} | tokens/s {n / dt:.1f} | s {dt:.2f} | '
          f'peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB | kl mean {total[0] / n:.4f}')


if __name__ == '__main__':
    main()
