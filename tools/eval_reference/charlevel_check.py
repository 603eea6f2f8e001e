#!/usr/bin/env python3
"""Independent check of lmscope's `charlevel` task on a byte-level model (ids = UTF-8 bytes, `--tokenizer bytes`).

Every metric is recomputed here from docs/evaluation.md's definitions, written afresh in Python: the text source
(raw file, .jsonl field, the enwik8/enwik9 split as Transformer-XL's prep_enwik8.py cuts it: the last 5% test, the
5% before it valid), segments, lm-eval rolling windows, float64 log-softmax, characters (found by Python's strict
UTF-8 decoder), the continuation items, and greedy continuation — each step recomputed from a full forward pass of
`lmscope-cli logits --batch-file`, not through the KV cache and the batched decoder lmscope's task decodes with.
Then `lmscope-cli run --task charlevel` runs on the same data (continuation items decoded --batch-size at a time);
every metric must agree to 1e-6 relative, every item's generated text and per-position matches must be equal, the
latency probe's batched continuation must write the same text as at batch 1, and the latency and memory metrics
must be present and positive (their values are not checked). Exit status 0 when all agree, 1 when not, 77 (a CTest
skip) with --skip-missing when data is absent. With --logits transformers the raw logits come from transformers in
this Python instead (float32, CPU), so nothing of lmscope's engine is shared; the metrics must then agree to 1e-4.

usage: charlevel_check.py --cli build/bin/lmscope-cli --model DIR --data FILE [--field text] [--split enwik8-test]
                          [--max-length 64] [--segment-bytes 65536] [--limit N] [--items 64] [--chars 16]
                          [--prefix-chars 64] [--backend cpu] [--workdir DIR]
       charlevel_check.py ... --head-bytes N --containers raw,jsonl,enwik8-test
           checks the first N bytes of --data three ways: as a raw file, as .jsonl records (the head cut at its middle
           line break), and placed where enwik8's test split begins in a sparse 10^8-byte file (what CTest runs).
"""
import argparse, codecs, json, math, os, struct, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wikitext_check import fresh_store, read_safetensors, rolling_windows  # noqa: E402  (lm-eval's windows, written from eval-spec.md)

ITEMS_PER_UNIT = 16


# --- text sources ---------------------------------------------------------------------------------------------------


def enwik_split(data, name):
    corpus, part = name.split('-')
    size = {'enwik8': 10 ** 8, 'enwik9': 10 ** 9}[corpus]
    assert len(data) == size, f'{name} needs the {size}-byte file, got {len(data)}'
    n = size // 20  # prep_enwik8.py: num_test_chars = 5,000,000 for enwik8
    return {'train': data[:-2 * n], 'valid': data[-2 * n:-n], 'test': data[-n:]}[part]


def read_docs(path, field, split):
    if split:
        with open(path, 'rb') as f:
            return [enwik_split(f.read(), split)]
    if path.endswith('.jsonl'):
        docs = []
        for line in open(path, encoding='utf-8'):
            if line.strip():
                r = json.loads(line)
                docs.append((r if isinstance(r, str) else r[field]).encode('utf-8'))
        return docs
    if path.endswith('.json'):
        return [(r if isinstance(r, str) else r[field]).encode('utf-8') for r in json.load(open(path, encoding='utf-8'))]
    return [open(path, 'rb').read()]


def segments_of(docs, seg_bytes, limit):
    segs = []
    for d in docs:
        at = 0
        while at < len(d):
            end = min(len(d), at + seg_bytes)
            while end < len(d) and 0x80 <= d[end] <= 0xBF:  # do not cut a character
                end += 1
            segs.append(d[at:end])
            at = end
    return segs if limit is None else segs[:limit]


# --- characters: Python's strict UTF-8 decoder decides -----------------------------------------------------------

def char_spans(b):
    """(start, length) of each character: a well-formed UTF-8 sequence, or any other byte on its own."""
    out, i = [], 0
    while i < len(b):
        n = 1
        for k in (1, 2, 3, 4):
            try:
                if len(b[i:i + k].decode('utf-8')) == 1 and i + k <= len(b):
                    n = k
                    break
            except UnicodeDecodeError:
                pass
        out.append((i, n))
        i += n
    return out


def finished_chars(b):
    """Characters of a generated stream, not counting a tail that more bytes could complete."""
    spans = char_spans(b)
    if spans:
        s, n = spans[-1]
        tail = b[s:]
        if n == 1 and tail[0] >= 0x80:
            # is the tail (from some lead byte on) a proper prefix of a well-formed sequence? Look back up to 3 bytes.
            for back in range(min(3, len(b)), 0, -1):
                t = b[len(b) - back:]
                try:
                    if codecs.getincrementaldecoder('utf-8')().decode(t, final=False) == '':
                        # every byte of t is held back as an incomplete character: those spans are not finished
                        return len(char_spans(b[:len(b) - back]))
                except UnicodeDecodeError:
                    pass
    return len(spans)


def shown(b):
    """The text lmscope stores: each character that is not well-formed shown as U+FFFD."""
    out = []
    for s, n in char_spans(b):
        try:
            out.append(b[s:s + n].decode('utf-8'))
        except UnicodeDecodeError:
            out.append('\ufffd')
    return ''.join(out)


# --- model passes ---------------------------------------------------------------------------------------------------

class Logits:
    def __init__(self, a, work):
        self.a, self.work, self.calls = a, work, 0

    def __call__(self, seqs):
        """Raw logits [N][Lmax][V] of each sequence, from an empty state."""
        self.calls += 1
        batch = os.path.join(self.work, 'batch.json')
        json.dump(seqs, open(batch, 'w'))
        out = os.path.join(self.work, 'logits.safetensors')
        dtype = ['--dtype', self.a.dtype] if self.a.dtype else []
        subprocess.run([self.a.cli, 'logits', '--model', self.a.model, '--batch-file', batch, '--out', out,
                        '--backend', self.a.backend] + dtype, check=True, stderr=subprocess.DEVNULL)
        dt, shape, data = read_safetensors(out)['logits']
        assert dt == 'F32'
        return shape, data


class TransformersLogits:
    """The same raw logits from transformers (float32, CPU, one sequence at a time: no padding to get right), for a
    check that shares nothing with lmscope's engine. Needs torch and transformers (e.g. /work/.venv-ref)."""

    def __init__(self, model_dir):
        import torch
        from transformers import AutoModelForCausalLM
        self.torch = torch
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        self.calls = 0

    def __call__(self, seqs):
        self.calls += 1
        L = max(len(s) for s in seqs)
        V = self.model.config.vocab_size
        out = bytearray(len(seqs) * L * V * 4)
        with self.torch.no_grad():
            for i, s in enumerate(seqs):
                x = self.model(self.torch.tensor([s])).logits[0].float().contiguous().numpy().tobytes()
                out[i * L * V * 4:i * L * V * 4 + len(x)] = x
        return (len(seqs), L, V), bytes(out)


def row(shape, data, i, p):
    N, L, V = shape
    return struct.unpack_from('<%df' % V, data, (i * L + p) * V * 4)


def log_softmax_at(r, target):
    m = max(r)
    lse = m + math.log(sum(math.exp(x - m) for x in r))
    best = max(range(len(r)), key=lambda j: (r[j], -j))  # the first index on ties, as torch.argmax
    return r[target] - lse, best == target


def first_argmax(r):
    return max(range(len(r)), key=lambda j: (r[j], -j))


# --- the task, recomputed ---------------------------------------------------------------------------------------------

def score(segs, a, logits, prefix):
    windows = []
    for s in segs:
        for inp, tgt in rolling_windows(list(s), a.max_length, prefix):
            windows.append((inp, tgt))
    shape, data = logits([w[0] for w in windows])
    per_seg_lp, k = [], 0
    for s in segs:
        lp, greedy = [], []
        while len(lp) < len(s):
            inp, tgt = windows[k]
            for j, t in enumerate(tgt):
                v, g = log_softmax_at(row(shape, data, k, len(inp) - len(tgt) + j), t)
                lp.append(v)
                greedy.append(g)
            k += 1
        per_seg_lp.append((lp, greedy))
    nll = 0.0
    B = C = bytes_ok = chars_ok = 0
    byte_p = char_p = 0.0
    for s, (lp, greedy) in zip(segs, per_seg_lp):
        for start, n in char_spans(s):
            c = sum(lp[start:start + n])
            nll -= c
            char_p += math.exp(c)
            chars_ok += all(greedy[start:start + n])
            C += 1
        B += len(s)
        byte_p += sum(math.exp(x) for x in lp)
        bytes_ok += sum(greedy)
    bits = nll / math.log(2)
    return {'bits_per_char': bits / C, 'bits_per_byte': bits / B, 'char_perplexity': math.exp(nll / C),
            'byte_perplexity': math.exp(nll / B), 'compression_ratio': 8 * B / bits,
            'next_char_accuracy': chars_ok / C, 'next_byte_accuracy': bytes_ok / B, 'avg_char_prob': char_p / C,
            'avg_byte_prob': byte_p / B}


def items_of(segs, a):
    P, N, K = a.prefix_chars, a.chars, a.items
    spans = [char_spans(s) for s in segs]
    eligible = [max(0, len(sp) - P - N + 1) for sp in spans]
    E = sum(eligible)
    K = min(K, E)
    items = []
    for k in range(K):
        idx = (2 * k + 1) * E // (2 * K)
        s = 0
        while idx >= eligible[s]:
            idx -= eligible[s]
            s += 1
        p = P + idx
        sp, seg = spans[s], segs[s]
        starts = [x[0] for x in sp] + [len(seg)]
        split, end = starts[p], starts[p + N]
        first = p - P
        while first + 1 < p and end - starts[first] > a.max_length:
            first += 1
        items.append((seg[starts[first]:split], seg[split:end]))
    return items


def continue_greedily(prompts, n_chars, logits):
    gen = [b'' for _ in prompts]
    live = list(range(len(prompts)))
    while live:
        seqs = [list(prompts[i] + gen[i]) for i in live]
        shape, data = logits(seqs)
        still = []
        for k, i in enumerate(live):
            t = first_argmax(row(shape, data, k, len(seqs[k]) - 1))
            gen[i] += bytes([t if t < 256 else 0xFF])
            if finished_chars(gen[i]) < n_chars:
                still.append(i)
        live = still
    return gen


def matches(gen, target, n):
    g, t = char_spans(gen), char_spans(target)
    out = []
    for j in range(n):
        gj = gen[g[j][0]:g[j][0] + g[j][1]] if j < len(g) else None
        out.append(1 if gj is not None and gj == target[t[j][0]:t[j][0] + t[j][1]] else 0)
    return out


def check(a, data, field, split, work, logits, prefix):
    segs = segments_of(read_docs(data, field, split), a.segment_bytes, a.limit)
    ref = score(segs, a, logits, prefix)
    items = items_of(segs, a)
    gen = continue_greedily([p for p, _ in items], a.chars, logits)
    ref_matches = [matches(g, t, a.chars) for g, (_, t) in zip(gen, items)]
    item_means = [sum(m) / a.chars for m in ref_matches]
    ref['continuation_accuracy'] = sum(item_means) / len(items)
    ref['continuation_exact_match'] = sum(1 for m in ref_matches if all(m)) / len(items)

    task = {'task': 'charlevel', 'data': os.path.abspath(data), 'field': field, 'segment_bytes': a.segment_bytes,
            'continuation_items': a.items, 'continuation_chars': a.chars, 'continuation_prefix_chars': a.prefix_chars,
            'latency_windows': 4, 'latency_batch': 4, 'max_length': a.max_length, 'batch_size': a.batch_size}
    if split:
        task['split'] = split
    if a.limit is not None:
        task['limit'] = a.limit
    spec = {'lmscope_run': 1, 'models': [{'path': a.model, 'tokenizer': 'bytes'}], 'tasks': [task],
            'backend': a.backend}
    if a.dtype:
        spec['dtype'] = a.dtype
    spec_file, out, samples = (os.path.join(work, n) for n in ('spec.json', 'results.json', 'samples.jsonl'))
    json.dump(spec, open(spec_file, 'w'))
    subprocess.run([a.cli, 'run', spec_file, '--store', fresh_store(work), '--out', out,
                    '--log-samples', samples, '--quiet'], check=True, stdout=subprocess.DEVNULL)
    got = json.load(open(out))['results']['charlevel']
    rows, probe = {}, None
    for line in open(samples):
        u = json.loads(line)['result']
        if u.get('kind') == 'continuation':
            for r in u['items']:
                rows[r['item']] = r
        elif u.get('kind') == 'latency':
            probe = u

    ok = True
    print(f'{os.path.basename(data)}{" " + split if split else ""}: {len(segs)} segments, '
          f'{sum(len(s) for s in segs)} bytes, {len(items)} continuation items')
    for k, v in ref.items():
        g = got[k + ',none']
        rel = abs(g - v) / max(abs(v), 1e-300)
        ok &= rel <= a.rtol
        print(f'  {k:26s} python {v:.10g}  lmscope {g:.10g}  rel.diff {rel:.2e}')
    same_text = sum(rows[k]['generated'] == shown(g) for k, g in enumerate(gen))
    same_matches = sum(rows[k]['matches'] == m for k, m in enumerate(ref_matches))
    ok &= same_text == len(items) and same_matches == len(items)
    print(f'  continuation items with the same generated text {same_text}/{len(items)}, same matches '
          f'{same_matches}/{len(items)}')
    batched_same = probe is not None and all(g.get('same_text_as_batch1', True) for g in probe.get('generation', []))
    ok &= batched_same
    print(f'  latency probe: batched continuation wrote the same text as batch 1: {batched_same}')
    for k in ('score_ms_per_char@batch1', 'score_ms_per_char@batch4', 'generate_ms_per_char@batch1',
              'generate_ms_per_char@batch4', 'peak_host_mib', 'weights_mib'):
        present = isinstance(got.get(k + ',none'), (int, float)) and got[k + ',none'] > 0
        ok &= present
        print(f'  {k:26s} {"present, " + format(got[k + ",none"], ".4g") if present else "MISSING"}')
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cli', required=True)
    ap.add_argument('--model', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--field', default='text')
    ap.add_argument('--split', default=None)
    ap.add_argument('--max-length', type=int, default=64)
    ap.add_argument('--segment-bytes', type=int, default=1 << 16)
    ap.add_argument('--limit', type=int, default=None)
    ap.add_argument('--items', type=int, default=64)
    ap.add_argument('--chars', type=int, default=16)
    ap.add_argument('--prefix-chars', type=int, default=64)
    ap.add_argument('--backend', default='cpu')
    ap.add_argument('--batch-size', type=int, default=4, help="the run's batch_size: continuation items decoded together")
    ap.add_argument('--dtype', default=None)
    ap.add_argument('--head-bytes', type=int, default=None)
    ap.add_argument('--logits', choices=['lmscope', 'transformers'], default='lmscope',
                    help='where the raw logits come from: lmscope-cli logits, or transformers in this Python')
    ap.add_argument('--rtol', type=float, default=None,
                    help='relative tolerance of each metric (default 1e-6 with lmscope logits, 1e-4 with transformers)')
    ap.add_argument('--containers', default='raw')
    ap.add_argument('--workdir', default=None)
    ap.add_argument('--skip-missing', action='store_true')
    a = ap.parse_args()
    a.model = os.path.abspath(a.model)  # the run spec's paths are taken from its own folder
    if a.skip_missing and not (os.path.isdir(a.model) and os.path.isfile(a.data)):
        print(f'skipped: {a.model} or {a.data} not found (../shared is absent)')
        return 77
    work = os.path.abspath(a.workdir or tempfile.mkdtemp(prefix='charlevel-check-'))
    os.makedirs(work, exist_ok=True)
    prefix = json.load(open(os.path.join(a.model, 'config.json')))['bos_token_id']
    logits = Logits(a, work) if a.logits == 'lmscope' else TransformersLogits(a.model)
    if a.rtol is None:
        a.rtol = 1e-6 if a.logits == 'lmscope' else 1e-4
    if a.head_bytes is None:
        ok = check(a, a.data, a.field, a.split, work, logits, prefix)
    else:
        head = open(a.data, 'rb').read()[:a.head_bytes]
        head = head.decode('utf-8', 'ignore').encode('utf-8')  # whole characters, so .jsonl can hold it
        ok = True
        for c in a.containers.split(','):
            if c == 'raw':
                path = os.path.join(work, 'head.txt')
                open(path, 'wb').write(head)
                ok &= check(a, path, 'text', None, work, logits, prefix)
            elif c == 'jsonl':
                path = os.path.join(work, 'head.jsonl')
                cut = head.find(b'\n', len(head) // 2) + 1 or len(head)
                with open(path, 'w', encoding='utf-8') as f:
                    for part in (head[:cut], head[cut:]):
                        f.write(json.dumps({'body': part.decode('utf-8')}) + '\n')
                ok &= check(a, path, 'body', None, work, logits, prefix)
            elif c in ('enwik8-test', 'enwik8-valid'):
                path = os.path.join(work, 'enwik8')
                with open(path, 'wb') as f:  # sparse: only the head takes disk blocks
                    f.truncate(10 ** 8)
                    f.seek(95 * 10 ** 6 if c == 'enwik8-test' else 90 * 10 ** 6)
                    f.write(head)
                saved = a.limit
                a.limit = -(-len(head) // a.segment_bytes)  # the head's segments, not the zeros after it
                ok &= check(a, path, 'text', c, work, logits, prefix)
                a.limit = saved
                os.remove(path)
            else:
                raise SystemExit(f'unknown container {c}')
    print(f'({logits.calls} logits passes)')
    print('OK' if ok else 'MISMATCH')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
