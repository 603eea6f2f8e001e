#!/usr/bin/env python3
"""Independent check of lmscope's `compare` task on two byte-level models (ids = UTF-8 bytes, `--tokenizer bytes`).

The task's definitions are redone here from docs/evaluation.md in float64 — windows of L bytes, KL(base ‖ model) =
Σ p_base (log p_base − log p_model), top-1 agreement (first index on ties), NLLs, ΔNLL, means, numpy's default
(linear) percentiles, per-position bucket means, the worst token — from full logits of each model: those
`lmscope-cli logits --batch-file` writes (default), or transformers' (`--logits transformers`, Llama-family
checkpoints; needs torch + transformers). Then `lmscope-cli run --task compare` runs on the same text and every
number must agree (1e-6 relative, KL 1e-6 absolute). Exit 0 when they do, 1 when not, 77 (skip) with
--skip-missing when a model or the data is absent.

usage: compare_check.py --cli build/bin/lmscope-cli --model DIR --base DIR --data TEXT [--length 64] [--windows 8]
                        [--head-bytes N] [--buckets 4] [--logits lmscope|transformers] [--workdir /tmp/x]
Pure Python (no numpy needed) at these sizes.
"""
import argparse, json, math, os, struct, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wikitext_check import fresh_store, read_safetensors  # noqa: E402


def logits_lmscope(cli, model, inputs, work, tag):
    batch = os.path.join(work, f'{tag}-windows.json')
    json.dump(inputs, open(batch, 'w'))
    out = os.path.join(work, f'{tag}-logits.safetensors')
    subprocess.run([cli, 'logits', '--model', model, '--batch-file', batch, '--out', out], check=True,
                   stdout=subprocess.DEVNULL)
    dtype, shape, data = read_safetensors(out)['logits']
    assert dtype == 'F32', dtype
    n, length, vocab = shape
    vals = struct.unpack('<%df' % (n * length * vocab), data)
    return [[vals[(i * length + p) * vocab:(i * length + p + 1) * vocab] for p in range(length)] for i in range(n)], vocab


def logits_transformers(model, inputs):
    import torch
    from transformers import AutoModelForCausalLM
    m = AutoModelForCausalLM.from_pretrained(model, torch_dtype=torch.float32).eval()
    with torch.no_grad():
        z = m(torch.tensor(inputs)).logits.double()
    return z.tolist(), z.shape[-1]


def log_softmax(row):
    mx = max(row)
    lse = mx + math.log(sum(math.exp(x - mx) for x in row))
    return [x - lse for x in row]


def percentile(sorted_values, q):
    at = q / 100 * (len(sorted_values) - 1)
    lo = math.floor(at)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (at - lo) * (sorted_values[hi] - sorted_values[lo])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cli', required=True)
    ap.add_argument('--model', required=True)
    ap.add_argument('--base', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--length', type=int, default=64)
    ap.add_argument('--windows', type=int, default=8)
    ap.add_argument('--head-bytes', type=int, default=4096, help='the text is the data file\'s first N bytes')
    ap.add_argument('--buckets', type=int, default=4)
    ap.add_argument('--logits', choices=['lmscope', 'transformers'], default='lmscope')
    ap.add_argument('--workdir', default=None)
    ap.add_argument('--skip-missing', action='store_true')
    a = ap.parse_args()
    if a.skip_missing and not (os.path.isdir(a.model) and os.path.isdir(a.base) and os.path.isfile(a.data)):
        print(f'skipped: {a.model}, {a.base} or {a.data} not found (../shared is absent)')
        return 77
    work = a.workdir or tempfile.mkdtemp(prefix='compare-check-')
    os.makedirs(work, exist_ok=True)
    raw = open(a.data, 'rb').read()[:a.head_bytes]
    raw = raw[:len(raw.decode('utf-8', 'ignore').encode('utf-8'))]  # whole characters only
    text = os.path.join(work, 'text.txt')
    open(text, 'wb').write(raw)
    ids = list(raw)
    L = a.length
    starts = [s for s in range(0, len(ids) - L + 1, L)][:a.windows]
    inputs = [ids[s:s + L - 1] for s in starts]
    if a.logits == 'lmscope':
        zm, vocab = logits_lmscope(a.cli, a.model, inputs, work, 'model')
        zb, _ = logits_lmscope(a.cli, a.base, inputs, work, 'base')
    else:
        zm, vocab = logits_transformers(a.model, inputs)
        zb, _ = logits_transformers(a.base, inputs)

    P = L - 1
    width = (P + a.buckets - 1) // a.buckets
    kls, dnll, agree, nll, base_nll = [], [], [], [], []
    buckets = {}
    worst = (-math.inf, None)
    for i, s in enumerate(starts):
        for p in range(P):
            qm, qb = log_softmax(zm[i][p]), log_softmax(zb[i][p])
            t = ids[s + p + 1]
            kl = sum(math.exp(b) * (b - m) for b, m in zip(qb, qm))
            same = max(range(vocab), key=lambda v: (zm[i][p][v], -v)) == max(range(vocab), key=lambda v: (zb[i][p][v], -v))
            kls.append(kl)
            nll.append(-qm[t])
            base_nll.append(-qb[t])
            dnll.append(-qm[t] + qb[t])
            agree.append(1.0 if same else 0.0)
            b = buckets.setdefault(p // width, [0.0, 0.0, 0])
            b[0] += -qm[t]
            b[1] += kl
            b[2] += 1
            if dnll[-1] > worst[0]:
                worst = (dnll[-1], (s, p + 1))
    n = len(kls)
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    srt = sorted(kls)
    ref = {'ppl': math.exp(mean(nll)), 'base_ppl': math.exp(mean(base_nll)), 'kl_mean': mean(kls),
           'top1_agreement': mean(agree), 'delta_nll_mean': mean(dnll), 'kl_median': percentile(srt, 50),
           'kl_p90': percentile(srt, 90), 'kl_p99': percentile(srt, 99), 'kl_max': srt[-1]}

    out = os.path.join(work, 'results.json')
    settings = {'base': a.base, 'length': L, 'max_windows': a.windows, 'buckets': a.buckets}
    subprocess.run([a.cli, 'run', '--model', a.model, '--tokenizer', 'bytes', '--task', 'compare', '--data', text,
                    '--settings', json.dumps(settings), '--store', fresh_store(work), '--out', out,
                    '--quiet'], check=True, stdout=subprocess.DEVNULL)
    res = json.load(open(out))
    got = res['results']['compare']
    details = res['lmscope']['details']['compare']
    ok = True
    print(f"windows {len(starts)} of {L} bytes, {n} positions, logits from {a.logits}")
    for k, v in ref.items():
        g = got[k + ',none']
        diff = abs(g - v)
        tol = 1e-6 * max(1.0, abs(v)) if k.startswith('kl') or k.endswith('agreement') or k.startswith('delta') else 1e-6 * abs(v)
        ok &= diff <= tol
        print(f"{k:16s} python {v:.10g}  lmscope {g:.10g}  diff {diff:.2e}")
    for k, pos in enumerate(details['positions']):
        s_nll, s_kl, cnt = buckets[k]
        d1, d2 = abs(pos['nll_mean'] - s_nll / cnt), abs(pos['kl_mean'] - s_kl / cnt)
        ok &= pos['tokens'] == cnt and d1 <= 1e-6 * max(1, s_nll / cnt) and d2 <= 1e-6 * max(1, s_kl / cnt)
        print(f"positions {pos['context_from']:3d}..{pos['context_to']:3d}: nll diff {d1:.1e}, kl diff {d2:.1e}")
    w = details['worst'][0]
    same_worst = (w['window_start'], w['context']) == worst[1]
    ok &= same_worst and abs(w['delta_nll'] - worst[0]) <= 1e-5 * max(1, abs(worst[0]))
    print(f"worst token: python {worst[1]} ΔNLL {worst[0]:.6f}, lmscope {(w['window_start'], w['context'])} {w['delta_nll']:.6f}")
    print('OK' if ok else 'MISMATCH')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
