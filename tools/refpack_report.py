#!/usr/bin/env python3
"""Runs `lmscope-cli logits` and `generate` on refpack cases and prints the agreement with the references.

usage: tools/refpack_report.py [--cli build/bin/lmscope-cli] [--refpack ../shared/refpack] [CASE ...]
Needs numpy. Independent of the C++ tests: reads the safetensors files itself.
"""
import argparse, json, os, struct, subprocess, sys, tempfile
import numpy as np

DTYPES = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32, 'F16': np.float16, 'BF16': np.uint16}


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        a, b = e['data_offsets']
        arr = np.frombuffer(data[a:b], dtype=DTYPES[e['dtype']]).reshape(e['shape'])
        if e['dtype'] == 'BF16':
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        out[name] = arr
    return out


def mean_nll(logits, ids):
    x = logits.astype(np.float64)
    m = x.max(-1, keepdims=True)
    lse = np.log(np.exp(x - m).sum(-1)) + m[:, 0]
    return float(-(x[np.arange(len(ids) - 1), ids[1:]] - lse[:-1]).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cli', default='build/bin/lmscope-cli')
    ap.add_argument('--refpack', default='../shared/refpack')
    ap.add_argument('--backend', default='cpu')
    ap.add_argument('--dtype', default='', help='fp32 or bf16 (default: the backend default; cuda: bf16)')
    ap.add_argument('cases', nargs='*')
    args = ap.parse_args()
    cases = args.cases or sorted(c for c in os.listdir(args.refpack) if os.path.isdir(os.path.join(args.refpack, c)))
    print(f"{'case':30s} {'max|dlogit| a':>14s} {'b':>10s} {'dNLL a':>10s} {'greedy_b':>9s}")
    tmp = tempfile.mkdtemp()
    dtype = ['--dtype', args.dtype] if args.dtype else []
    for case in cases:
        d = os.path.join(args.refpack, case)
        ref = read_safetensors(os.path.join(d, 'reference.safetensors'))
        row = []
        for key in ('a', 'b'):
            ids = ref['ids_' + key]
            out = os.path.join(tmp, key + '.safetensors')
            r = subprocess.run([args.cli, 'logits', '--model', d, '--tokens', ','.join(map(str, ids)), '--out', out,
                                '--backend', args.backend] + dtype, capture_output=True, text=True)
            if r.returncode != 0:
                row = None
                print(f"{case:30s} {r.stderr.strip()[:90]}")
                break
            got = read_safetensors(out)['logits']
            row.append(float(np.abs(got.astype(np.float64) - ref['logits_' + key]).max()))
            if key == 'a':
                row.append(abs(mean_nll(got, ids) - mean_nll(ref['logits_a'], ids)))
        if row is None:
            continue
        r = subprocess.run([args.cli, 'generate', '--model', d, '--tokens', ','.join(map(str, ref['ids_b'])),
                            '--max-new', str(len(ref['greedy_b'])), '--backend', args.backend] + dtype, capture_output=True, text=True)
        greedy = 'exact' if r.returncode == 0 and json.loads(r.stdout) == ref['greedy_b'].tolist() else 'DIFFERS'
        print(f"{case:30s} {row[0]:14.2e} {row[2]:10.2e} {row[1]:10.2e} {greedy:>9s}")


if __name__ == '__main__':
    sys.exit(main())
