#!/usr/bin/env python3
"""Independent check of lmscope's `wikitext` task on a byte-level model (ids = UTF-8 bytes, as `--tokenizer bytes`).

Everything lm-eval does is redone here in Python from eval-spec.md — document split, detokeniser, word/byte counts,
rolling windows with the checkpoint's bos_token_id as prefix, log-softmax in float64, weighted aggregation — using
only the raw logits that `lmscope-cli logits --batch-file` writes. Then `lmscope-cli run --task wikitext` is run on the
same data and the three metrics must agree to 1e-6 relative. Exit status 0 when they do, 1 when not.

usage: wikitext_check.py --cli build/bin/lmscope-cli --model DIR --data wiki.test.raw [--max-length 64] [--limit N]
                         [--backend cpu] [--workdir /tmp/x]
numpy is used when present (the whole split needs it: ~1.3 GB of logits); otherwise pure Python (small --limit).
"""
import argparse, json, math, os, struct, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wikitext_reference import detokenize  # noqa: E402  (our own rules, written from eval-spec.md)
import re  # noqa: E402



def fresh_store(work):
    """An empty results store in the work folder: a store left by an earlier build would serve its stored units and
    the check would compare that build's numbers, not this one's."""
    path = os.path.join(work, 'store.sqlite')
    for suffix in ('', '-wal', '-shm', '-journal'):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return path

def split_documents(raw):
    docs = []
    for line in raw.splitlines(keepends=True):
        if re.match(r"^ = [^=].* = $", line.rstrip('\n')) or not docs:
            docs.append('')
        docs[-1] += line
    return docs


def rolling_windows(tokens, max_length, prefix):
    """(input, targets) pairs: lm-eval's get_rolling_token_windows(context_len=1) + make_disjoint_window."""
    n = len(tokens)
    if n == 0:
        return []
    out = []
    first = min(max_length, n)
    out.append(([prefix] + tokens[:first - 1], tokens[:first]))
    predicted = first
    while predicted < n:
        k = min(n - predicted, max_length)
        end = predicted + k
        inp = tokens[max(end - max_length - 1, 0):end - 1]
        out.append((inp, tokens[end - k:end]))
        predicted += k
    return out


def read_safetensors(path):
    with open(path, 'rb') as f:
        (hlen,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(hlen))
        base = 8 + hlen
        out = {}
        for name, meta in header.items():
            if name == '__metadata__':
                continue
            a, b = meta['data_offsets']
            f.seek(base + a)
            out[name] = (meta['dtype'], meta['shape'], f.read(b - a))
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cli', required=True)
    ap.add_argument('--model', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--max-length', type=int, default=64)
    ap.add_argument('--limit', type=int, default=None)
    ap.add_argument('--backend', default='cpu')
    ap.add_argument('--dtype', default=None, help='fp32 or bf16 (cuda); default: the backend\'s')
    ap.add_argument('--workdir', default=None)
    ap.add_argument('--skip-missing', action='store_true', help='exit 77 (a skip for CTest) when model or data is absent')
    a = ap.parse_args()
    if a.skip_missing and not (os.path.isdir(a.model) and os.path.isfile(a.data)):
        print(f'skipped: {a.model} or {a.data} not found (../shared is absent)')
        return 77
    work = a.workdir or tempfile.mkdtemp(prefix='wikitext-check-')
    os.makedirs(work, exist_ok=True)

    config = json.load(open(os.path.join(a.model, 'config.json')))
    prefix = config['bos_token_id']
    raw = open(a.data, encoding='utf-8', newline='').read()
    docs = split_documents(raw)
    if a.limit is not None:
        docs = docs[:a.limit]
    windows, owner = [], []
    words = nbytes = 0
    for d, page in enumerate(docs):
        words += len(re.split(r"\s+", page))
        nbytes += len(page.encode('utf-8'))
        toks = list(detokenize(page).encode('utf-8'))
        for w in rolling_windows(toks, a.max_length, prefix):
            windows.append(w)
            owner.append(d)
    batch = os.path.join(work, 'windows.json')
    json.dump([w[0] for w in windows], open(batch, 'w'))
    logits_file = os.path.join(work, 'logits.safetensors')
    dtype_args = ['--dtype', a.dtype] if a.dtype else []
    subprocess.run([a.cli, 'logits', '--model', a.model, '--batch-file', batch, '--out', logits_file,
                    '--backend', a.backend] + dtype_args, check=True)
    t = read_safetensors(logits_file)
    dtype, shape, data = t['logits']
    assert dtype == 'F32', dtype
    N, L, V = shape
    loglik = 0.0
    try:
        import numpy as np
        logits = np.frombuffer(data, dtype='<f4').reshape(N, L, V).astype(np.float64)
        for i, (inp, tgt) in enumerate(windows):
            rows = logits[i, len(inp) - len(tgt):len(inp)]
            m = rows.max(axis=1, keepdims=True)
            lse = (m[:, 0] + np.log(np.exp(rows - m).sum(axis=1)))
            loglik += float((rows[np.arange(len(tgt)), tgt] - lse).sum())
    except ImportError:
        vals = struct.unpack('<%df' % (N * L * V), data)
        for i, (inp, tgt) in enumerate(windows):
            for j, target in enumerate(tgt):
                r = (i * L + len(inp) - len(tgt) + j) * V
                row = vals[r:r + V]
                m = max(row)
                lse = m + math.log(sum(math.exp(x - m) for x in row))
                loglik += row[target] - lse
    ref = {'word_perplexity': math.exp(-loglik / words), 'byte_perplexity': math.exp(-loglik / nbytes),
           'bits_per_byte': -loglik / (nbytes * math.log(2))}

    out = os.path.join(work, 'results.json')
    cmd = [a.cli, 'run', '--model', a.model, '--tokenizer', 'bytes', '--task', 'wikitext', '--data', a.data,
           '--max-length', str(a.max_length), '--backend', a.backend, '--store', fresh_store(work),
           '--out', out, '--quiet'] + dtype_args
    if a.limit is not None:
        cmd += ['--limit', str(a.limit)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    got = json.load(open(out))['results']['wikitext']
    ok = True
    print(f"documents {len(docs)} windows {len(windows)} words {words} bytes {nbytes} loglik {loglik:.6f}")
    for k, v in ref.items():
        g = got[k + ',none']
        rel = abs(g - v) / abs(v)
        ok &= rel <= 1e-6
        print(f"{k:16s} python {v:.10g}  lmscope {g:.10g}  rel.diff {rel:.2e}")
    print(json.dumps({'backend': a.backend, 'dtype': a.dtype, **{k: got[k + ',none'] for k in ref}}))
    print('OK' if ok else 'MISMATCH')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
