#!/usr/bin/env python3
"""CPU scoring throughput, lmscope beside PyTorch, on this machine with the same thread count (a benchmark, not a
test). For each model: `lmscope-cli bench --backend cpu --dtype fp32` and transformers' model in float32 (SDPA
attention) doing the same work — forward over B x T tokens, log_softmax, the next-token log-likelihoods — each the
median of --repeat timed passes after --warmup, the two alternating --rounds times (the table gives the median
round and the range, so a shared machine's noise shows). Both run with OMP_NUM_THREADS set to --threads (torch also through
torch.set_num_threads); the two never run at the same time.

usage: tools/bench_cpu_vs_torch.py [--cli build/bin/lmscope-cli] [--threads N] [--shapes 1x512,4x512]
                                   [--repeat 5] [--rounds 3] [MODEL_DIR_OR_CONFIG.json ...]
Defaults: resources/models/demo-llama, demo-bytes and resources/bench/llama-110m.json (random weights from its
config, the same in both: lmscope writes a checkpoint from the config, torch initialises one). Needs torch and
transformers (pip; not a product dependency).
"""
import argparse, json, os, re, statistics, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lmscope_rate(cli, model, batch, seq, repeat, warmup, threads):
    arg = ['--config', str(model)] if str(model).endswith('.json') else ['--model', str(model)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run([cli, 'bench', *arg, '--backend', 'cpu', '--dtype', 'fp32', '--batch', str(batch), '--seq',
                          str(seq), '--repeat', str(repeat), '--warmup', str(warmup)],
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f'lmscope-cli bench failed on {model}:\n{out.stderr}')
    m = re.search(r'tokens/s ([0-9.]+)', out.stdout)
    return float(m.group(1))


def torch_model(model, threads):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if str(model).endswith('.json'):
        config = AutoConfig.for_model(**json.load(open(model)))
        config._attn_implementation = 'sdpa'
        m = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    else:
        m = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32, attn_implementation='sdpa')
    return m.eval()


def torch_rate(m, batch, seq, repeat, warmup):
    import torch
    ids = torch.randint(0, m.config.vocab_size, (batch, seq))
    times = []
    with torch.inference_mode():
        for i in range(warmup + repeat):
            t0 = time.perf_counter()
            logits = m(ids).logits
            lp = torch.log_softmax(logits[:, :-1].float(), -1).gather(-1, ids[:, 1:, None])
            lp.sum().item()
            if i >= warmup:
                times.append(time.perf_counter() - t0)
    return batch * seq / statistics.median(times)


def torch_rate_in_process(model, batch, seq, repeat, warmup, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, __file__, '--torch-worker', str(model), f'{batch}x{seq}', '--repeat',
                          str(repeat), '--warmup', str(warmup), '--threads', str(threads)],
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f'torch on {model} failed:\n{out.stderr}')
    return float(out.stdout.split()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('models', nargs='*')
    ap.add_argument('--cli', default=str(ROOT / 'build/bin/lmscope-cli'))
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--shapes', default='1x512,4x512')
    ap.add_argument('--repeat', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--torch-worker', nargs=2, metavar=('MODEL', 'BxT'), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        model, shape = args.torch_worker
        b, t = (int(v) for v in shape.split('x'))
        print(torch_rate(torch_model(model, args.threads), b, t, args.repeat, args.warmup))
        return
    models = args.models or [ROOT / 'resources/models/demo-llama', ROOT / 'resources/models/demo-bytes',
                             ROOT / 'resources/bench/llama-110m.json']
    shapes = [tuple(int(v) for v in s.split('x')) for s in args.shapes.split(',')]
    import torch, transformers
    print(f'{args.threads} threads; torch {torch.__version__}, transformers {transformers.__version__}; '
          f'lmscope {args.cli}')
    print(f"| model | shape | lmscope tok/s (range) | torch tok/s (range) | ratio of medians |\n| --- | --- | ---: | ---: | ---: |")
    for model in models:
        for b, t in shapes:
            # alternate the two, --rounds times, each in a process of its own (torch's idle OpenMP threads spin for
            # a while and would take the cores from lmscope if this process held them): load then weighs on both
            ours, ref = [], []
            for _ in range(args.rounds):
                ours.append(lmscope_rate(args.cli, model, b, t, args.repeat, args.warmup, args.threads))
                ref.append(torch_rate_in_process(model, b, t, args.repeat, args.warmup, args.threads))
            o, r = statistics.median(ours), statistics.median(ref)
            print(f'| {Path(model).name} | {b}x{t} | {o:,.0f} ({min(ours):,.0f}–{max(ours):,.0f}) | '
                  f'{r:,.0f} ({min(ref):,.0f}–{max(ref):,.0f}) | {o / r:.2f}x |', flush=True)

if __name__ == '__main__':
    main()
