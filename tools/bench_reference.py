#!/usr/bin/env python3
"""Reference throughput for `lmscope-cli bench`, on the GPU machine: the same configs through transformers (SDPA)
and, when flash-linear-attention is importable, through fla; random weights, forward + next-token log-likelihood
(logits → log_softmax → gather), the work lmscope's scoring does.

usage: python3 tools/bench_reference.py CONFIG.json --batch 8 --seq 2048 [--dtype bf16] [--repeat 5]
       [--shapes 8x2048,1x16384 (instead of --batch/--seq)] [--warm-only]
Prints one line per shape: tokens/s, ms/batch, peak GPU memory (GiB). Every shape is warmed up (Triton compiles
fla's kernels then: minutes) before any is timed. --warm-only stops after the warm-up: Triton's compiled kernels
stay in its on-disk cache, so several references can compile at once on the CPUs, and a later process on an idle
GPU loads them and runs the autotuning alone (autotuning beside other processes' kernels can pick slow
configurations: fla's delta-rule rows once came out 21-31% below the same script's rows of the session before).
"""
import argparse, json, time
import torch


# Families whose reference is flash-linear-attention's model (fla's Mamba / Mamba2 replace transformers' when fla is
# imported; Samba's and BitNet's attention layers need the flash-attn package).
FLA_TYPES = ('gated_deltanet', 'delta_net', 'gla', 'retnet', 'hgrn2', 'samba', 'bitnet', 'mamba', 'mamba2')


def allow_mamba_ssm_triton():
    """mamba-ssm's package __init__ imports its compiled selective scan (`selective_scan_cuda`), so a wheel built
    with MAMBA_SKIP_CUDA_BUILD=TRUE cannot be imported at all, although Mamba2's SSD kernels are Triton and need
    nothing compiled. An empty stand-in module lets the package import; Mamba2's path never calls the scan (Mamba's
    would: this is only done for Mamba2)."""
    import importlib.util, sys, types
    if importlib.util.find_spec('mamba_ssm') is None:
        return
    try:
        import selective_scan_cuda  # noqa: F401
    except ImportError:
        sys.modules['selective_scan_cuda'] = types.ModuleType('selective_scan_cuda')


def fla_path(model_type):
    """Which kernels fla's layer of this family will run, for the benchmark table."""
    if model_type == 'mamba2':
        import fla.layers.mamba2 as m
        return "mamba-ssm's Triton SSD (mamba_chunk_scan_combined)" if m.is_fast_path_available else 'torch (no mamba-ssm)'
    if model_type == 'mamba':
        import fla.layers.mamba as m
        return "mamba-ssm's CUDA selective scan" if m.is_fast_path_available else 'torch, token by token (no compiled mamba-ssm)'
    if model_type in ('samba', 'bitnet'):
        try:
            import flash_attn
            if getattr(flash_attn, 'LMSCOPE_SDPA_STAND_IN', False):
                return "fla, attention by torch SDPA (tools/device/flash-attn-sdpa's flash_attn stand-in)"
            return 'fla + flash-attn'
        except ImportError:
            return 'unavailable: its attention layers need flash-attn'
    return "fla's Triton kernels"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('config')
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--seq', type=int, default=2048)
    ap.add_argument('--dtype', default='bf16', choices=['bf16', 'fp32'])
    ap.add_argument('--repeat', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--shapes', help='BxT,BxT,... (overrides --batch and --seq)')
    ap.add_argument('--warm-only', action='store_true', help='compile and warm up, then exit without timing')
    args = ap.parse_args()
    shapes = [tuple(int(v) for v in s.split('x')) for s in args.shapes.split(',')] if args.shapes else [(args.batch, args.seq)]
    cfg = json.load(open(args.config))
    dtype = torch.bfloat16 if args.dtype == 'bf16' else torch.float32
    if cfg['model_type'] in FLA_TYPES:
        if cfg['model_type'] == 'mamba2':
            allow_mamba_ssm_triton()
        import fla  # noqa: F401  (registers the fla model types with transformers, mamba and mamba2 included)
        path = fla_path(cfg['model_type'])
        print(f"reference-path {cfg['model_type']}: {path}", flush=True)
        if path.startswith('unavailable'):
            if args.warm_only:
                print('warm', flush=True)  # nothing to compile or time
            return
    from transformers import AutoConfig, AutoModelForCausalLM
    config = AutoConfig.for_model(**cfg)
    # SDPA for transformers' attention models; fla's models bring their own kernels and refuse the setting.
    if hasattr(config, '_attn_implementation') and config.model_type in ('llama', 'mistral', 'qwen2'):
        config._attn_implementation = 'sdpa'
    with torch.device('cuda'):
        extra = {} if config.model_type in ('llama', 'mistral', 'qwen2') else {'attn_implementation': 'eager'}
        model = AutoModelForCausalLM.from_config(config, torch_dtype=dtype, **extra).eval()
    # fla's Mamba2 keeps its norms in float32 (trained under autocast); cast them too, so every layer runs bf16
    model = model.to(dtype)
    def step(ids):
        with torch.inference_mode():
            logits = model(ids).logits
            lp = torch.log_softmax(logits[:, :-1].float(), -1).gather(-1, ids[:, 1:, None])
            return lp.sum().item()

    inputs = {sh: torch.randint(0, cfg['vocab_size'], sh, device='cuda') for sh in shapes}
    for sh in shapes:
        for _ in range(args.warmup):
            step(inputs[sh])
    if args.warm_only:
        print('warm', flush=True)
        return
    for (batch, seq), ids in inputs.items():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        times = []
        for _ in range(args.repeat):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            step(ids)
            torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        times.sort()
        med = times[len(times) // 2]
        print(f"reference {cfg['model_type']} {args.dtype} batch {batch} x seq {seq}: "
              f"tokens/s {batch * seq / med:.1f} | ms/batch {med * 1e3:.1f} | "
              f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB", flush=True)


if __name__ == '__main__':
    main()
