#!/usr/bin/env python3
"""Reference throughput for `lmscope-cli bench`, on the GPU machine: the same configs through transformers (SDPA)
and, when flash-linear-attention is importable, through fla; random weights, forward + next-token log-likelihood
(logits → log_softmax → gather), the work lmscope's scoring does.

usage: python3 tools/bench_reference.py CONFIG.json --batch 8 --seq 2048 [--dtype bf16] [--repeat 5]
Prints one line: tokens/s, ms/batch, peak GPU memory (GiB).
"""
import argparse, json, time
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('config')
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--seq', type=int, default=2048)
    ap.add_argument('--dtype', default='bf16', choices=['bf16', 'fp32'])
    ap.add_argument('--repeat', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=2)
    args = ap.parse_args()
    cfg = json.load(open(args.config))
    dtype = torch.bfloat16 if args.dtype == 'bf16' else torch.float32
    if cfg['model_type'] in ('gated_deltanet', 'delta_net'):
        import fla  # noqa: F401  (registers the fla model types with transformers)
    from transformers import AutoConfig, AutoModelForCausalLM
    config = AutoConfig.for_model(**cfg)
    # SDPA for transformers' attention models; fla's models bring their own kernels and refuse the setting.
    if hasattr(config, '_attn_implementation') and config.model_type in ('llama', 'mistral', 'qwen2'):
        config._attn_implementation = 'sdpa'
    with torch.device('cuda'):
        extra = {} if config.model_type in ('llama', 'mistral', 'qwen2') else {'attn_implementation': 'eager'}
        model = AutoModelForCausalLM.from_config(config, torch_dtype=dtype, **extra).eval()
    ids = torch.randint(0, cfg['vocab_size'], (args.batch, args.seq), device='cuda')

    def step():
        with torch.inference_mode():
            logits = model(ids).logits
            lp = torch.log_softmax(logits[:, :-1].float(), -1).gather(-1, ids[:, 1:, None])
            return lp.sum().item()

    for _ in range(args.warmup):
        step()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(args.repeat):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    times.sort()
    med = times[len(times) // 2]
    print(f"reference {cfg['model_type']} {args.dtype} batch {args.batch} x seq {args.seq}: "
          f"tokens/s {args.batch * args.seq / med:.1f} | ms/batch {med * 1e3:.1f} | "
          f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")


if __name__ == '__main__':
    main()
