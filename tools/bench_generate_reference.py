#!/usr/bin/env python3
"""Reference generation speed for `lmscope-cli bench --generate`, on the GPU machine: the same config through
transformers' `generate` (SDPA, greedy) or, for fla's model types, fla's models through the same `generate`; random
weights, B prompts of T random tokens, N new tokens each with no early stop (min_new_tokens = N).

usage: python3 tools/bench_generate_reference.py CONFIG.json --batch 8 --seq 8192 --new 32 [--dtype bf16] [--repeat 3]
Prints prefill tokens/s (one forward pass over the prompts, what generate's first step does), decode tokens/s
((total − prefill) over the B·(N−1) later tokens), ms per item (total / B) and peak GPU memory, in the format of
lmscope-cli's line so the two can be read side by side.
"""
import argparse, json, time
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('config')
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--seq', type=int, default=8192)
    ap.add_argument('--new', type=int, default=32)
    ap.add_argument('--dtype', default='bf16', choices=['bf16', 'fp32'])
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=1)
    args = ap.parse_args()
    cfg = json.load(open(args.config))
    dtype = torch.bfloat16 if args.dtype == 'bf16' else torch.float32
    fla_model = cfg['model_type'] in ('gated_deltanet', 'delta_net')
    if fla_model:
        import fla  # noqa: F401  (registers the fla model types with transformers)
    from transformers import AutoConfig, AutoModelForCausalLM
    config = AutoConfig.for_model(**cfg)
    extra = {} if fla_model else {'attn_implementation': 'sdpa'}
    with torch.device('cuda'):
        model = AutoModelForCausalLM.from_config(config, torch_dtype=dtype, **extra).eval()
    torch.manual_seed(1234)
    ids = torch.randint(0, cfg['vocab_size'], (args.batch, args.seq), device='cuda')
    mask = torch.ones_like(ids)

    def prefill():
        with torch.inference_mode():
            try:  # only the last position's logits, as generate's first step computes them
                out = model(input_ids=ids, attention_mask=mask, use_cache=True, logits_to_keep=1)
            except TypeError:
                out = model(input_ids=ids, attention_mask=mask, use_cache=True)
            return out.logits[:, -1].argmax(-1)

    def generate():
        with torch.inference_mode():
            return model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=args.new, min_new_tokens=args.new,
                                  do_sample=False, pad_token_id=0)

    def timed(fn):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        r = fn()
        torch.cuda.synchronize()
        return (time.perf_counter() - t0) * 1e3, r

    for _ in range(args.warmup):
        prefill()
        generate()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    runs = []
    for _ in range(args.repeat):
        p_ms, _ = timed(prefill)
        g_ms, out = timed(generate)
        assert out.shape == (args.batch, args.seq + args.new), out.shape
        runs.append((g_ms, p_ms))
    runs.sort()
    total, pre = runs[len(runs) // 2]
    decode = max(total - pre, 1e-9)
    peak = torch.cuda.max_memory_allocated() / 2**30
    name = 'fla' if fla_model else 'transformers'
    print(f'{name} {cfg["model_type"]} {args.dtype}, generate: batch {args.batch} x prompt {args.seq} + {args.new} new tokens')
    print(f'prefill tokens/s {args.batch * args.seq / (pre / 1e3):.1f} | decode tokens/s '
          f'{args.batch * (args.new - 1) / (decode / 1e3):.1f} | ms/item {total / args.batch:.2f} | ms total {total:.2f} '
          f'(median of {args.repeat}) | peak GPU memory {peak:.2f} GiB')


if __name__ == '__main__':
    main()
