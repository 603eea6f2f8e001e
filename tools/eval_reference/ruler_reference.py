#!/usr/bin/env python3
"""An independent Python construction of lmscope's RULER needle-in-a-haystack prompts (docs/ruler.md).

It rebuilds, from the algorithm written in docs/ruler.md and without lmscope's code, the prompts, answers, haystack
sizes and depths that engine/src/eval/ruler_niah.cpp builds, so a test can compare the two item by item. Shared
inputs only: the word lists (parsed out of engine/src/eval/tasks/ruler_words.h), the haystack text file and a
Hugging Face tokenizer.json (read by the `tokenizers` library, special tokens added as the tokenizer's
post-processor adds them).

    python3 tools/eval_reference/ruler_reference.py --tokenizer ../shared/data/tokenizers/llama3/tokenizer.json \
        --haystack ../shared/data/long_docs/gutenberg_books.jsonl --lengths 1024 2048 --samples 3 \
        --out tests/fixtures/ruler/llama3.jsonl

The output is JSON lines: a header with the settings, then one line per sample with the prompt's FNV-1a 64 hash,
its size, its first and last 200 characters, the token count, the answers, the query, the haystack size and the
depth. --full also writes the whole prompt.
"""
import argparse
import json
import re
import sys
import uuid
from pathlib import Path

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15

# RULER's wording (NVIDIA/RULER scripts/data/synthetic/constants.py and niah.py), written out again here.
TEMPLATE = ("Some special magic {type_needle_v} are hidden within the following text. Make sure to memorize it. "
            "I will quiz you about the {type_needle_v} afterwards.\n{context}\nWhat are all the special magic "
            "{type_needle_v} for {query} mentioned in the provided text?")
ANSWER_PREFIX = " The special magic {type_needle_v} for {query} mentioned in the provided text are"
NEEDLE = "One of the special magic {type_needle_v} for {key} is: {value}."
NOISE = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."

# name: (haystack, key kind, value kind, keys, values, queries) -- RULER's scripts/synthetic.yaml
TASKS = {
    "niah_single_1": ("noise", "words", "numbers", 1, 1, 1),
    "niah_single_2": ("essay", "words", "numbers", 1, 1, 1),
    "niah_single_3": ("essay", "words", "uuids", 1, 1, 1),
    "niah_multikey_1": ("essay", "words", "numbers", 4, 1, 1),
    "niah_multikey_2": ("needle", "words", "numbers", 1, 1, 1),
    "niah_multikey_3": ("needle", "uuids", "uuids", 1, 1, 1),
    "niah_multivalue": ("essay", "words", "numbers", 1, 4, 1),
    "niah_multiquery": ("essay", "words", "numbers", 4, 1, 4),
}

ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "rev", "hon", "gen", "col", "capt", "lt", "sgt",
                 "gov", "vs", "viz", "cf", "no", "vol", "fig", "mt"}
CLOSERS = "\"')]}\u201d\u2019"
OPENERS = "\"'([{\u201c\u2018"


def splitmix(x):
    z = (x + GAMMA) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


class Stream:
    def __init__(self, state):
        self.state = state

    def next(self):
        out = splitmix(self.state)
        self.state = (self.state + GAMMA) & MASK
        return out

    def below(self, n):
        return self.next() % n

    def distinct(self, n, m):
        got = []
        while len(got) < m:
            r = self.below(n)
            if r not in got:
                got.append(r)
        return got


def fnv1a64(data: bytes):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def stream_for(seed, task, length, index):
    h = splitmix(seed & MASK)
    h = splitmix(h ^ fnv1a64(task.encode()))
    h = splitmix(h ^ (length & MASK))
    return splitmix(h ^ (index & MASK))


SEARCH_INDEX = MASK


def word_lists(header: Path):
    text = header.read_text()
    lists = []
    for name in ("kAdjectives", "kNouns"):
        body = re.search(name + r"\s*=\s*\{(.*?)\};", text, re.S).group(1)
        lists.append(re.findall(r'"([a-z]+)"', body))
    return lists


class Builder:
    def __init__(self, adjectives, nouns, words, depths):
        self.adjectives, self.nouns = adjectives, nouns
        self.words = words
        self.depths = depths
        if words:
            n = len(words)
            self.ends = [self.sentence_end(words[i], words[(i + 1) % n]) for i in range(n)]

    @staticmethod
    def sentence_end(word, nxt):
        w = word.rstrip(CLOSERS)
        if not w or w[-1] not in ".!?":
            return False
        if w[-1] == ".":
            core = w[:-1].lstrip(OPENERS)
            if not core or "." in core:
                return False
            if len(core) == 1 and core.isascii() and core.isalpha():
                return False
            if core.lower() in ABBREVIATIONS:
                return False
        n = nxt.lstrip(OPENERS)
        return bool(n) and (("A" <= n[0] <= "Z") or ("0" <= n[0] <= "9"))

    def value(self, kind, rng):
        if kind == "numbers":
            return str(1000000 + rng.below(9000000))
        if kind == "words":
            a = self.adjectives[rng.below(len(self.adjectives))]
            return a + "-" + self.nouns[rng.below(len(self.nouns))]
        hi, lo = rng.next(), rng.next()
        return str(uuid.UUID(int=(hi << 64) | lo, version=4))

    def build(self, task, units, state):
        hay, kk, vk, nk, nv, nq = TASKS[task]
        rng = Stream(state)
        keys, values, needles = [], [], []
        for _ in range(nk):
            key = self.value(kk, rng)
            while key in keys:
                key = self.value(kk, rng)
            keys.append(key)
            values.append([])
            for _ in range(nv):
                v = self.value(vk, rng)
                values[-1].append(v)
                needles.append((NEEDLE.format(type_needle_v=vk, key=key, value=v), v))
        for i in range(len(needles) - 1, 0, -1):
            j = rng.below(i + 1)
            needles[i], needles[j] = needles[j], needles[i]
        m = len(needles)
        depth_of = {}
        if hay == "essay":
            chosen = sorted(self.depths[i] for i in rng.distinct(len(self.depths), m))
            n = len(self.words)
            sentences, cur = [], []
            for i in range(units):
                cur.append(self.words[i % n])
                if i == units - 1 or self.ends[i % n]:
                    sentences.append(" ".join(cur))
                    cur = []
            cuts = [0] + [int(len(sentences) * d) for d in chosen] + [len(sentences)]
            pieces = []
            for i in range(1, len(cuts)):
                pieces.append(" ".join(sentences[cuts[i - 1]:cuts[i]]))
                if i - 1 < m:
                    pieces.append(needles[i - 1][0])
                    depth_of.setdefault(needles[i - 1][1], chosen[i - 1])
            context = " ".join(pieces)
        else:
            if hay == "noise":
                lines = [NOISE] * units
            else:
                lines = []
                for _ in range(units):
                    key = self.value(kk, rng)
                    while key in keys:
                        key = self.value(kk, rng)
                    lines.append(NEEDLE.format(type_needle_v=vk, key=key, value=self.value(vk, rng)))
            where = sorted(rng.distinct(units, m), reverse=True)
            for pos, (text, v) in zip(where, needles):
                lines.insert(pos, text)
                depth_of.setdefault(v, pos / units)
            context = "\n".join(lines)
        picked = rng.distinct(nk, nq)
        queries = [keys[i] for i in picked]
        answers = [v for i in picked for v in values[i]]
        query = queries[0] if len(queries) == 1 else ", ".join(queries[:-1]) + ", and " + queries[-1]
        template = TEMPLATE + ANSWER_PREFIX
        type_name = vk
        if nq * nv == 1:
            for a, b in (("Some", "A"), ("are all", "is"), ("are", "is"), ("answers", "answer")):
                template = template.replace(a, b)
            type_name = vk[:-1]
        prompt = template.format(type_needle_v=type_name, context=context, query=query)
        return {"prompt": prompt, "answers": answers, "query": query, "depth": depth_of[answers[0]], "units": units}


def min_units(task):
    hay, _, _, nk, nv, _ = TASKS[task]
    return 1 if hay == "essay" else nk * nv


def fits(builder, count, task, units, state, budget):
    s = builder.build(task, units, state)
    s["tokens"] = count(s["prompt"])
    return s["tokens"] <= budget, s


def search(builder, count, task, budget, state):
    # Plain bisection over [min, upper], upper doubled until it does not fit (slower than the engine's bracket,
    # same answer: the largest haystack whose prompt fits, given that the prompt grows with the haystack).
    lo = min_units(task)
    ok, _ = fits(builder, count, task, lo, state, budget)
    if not ok:
        raise SystemExit(f"{task}: budget {budget} too small")
    hi = lo + 1
    while fits(builder, count, task, hi, state, budget)[0]:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(builder, count, task, mid, state, budget)[0]:
            lo = mid
        else:
            hi = mid
    return lo


def fit(builder, count, task, budget, state, start):
    ok, s = fits(builder, count, task, start, state, budget)
    if ok:
        return s
    lo, hi = min_units(task), start
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(builder, count, task, mid, state, budget)[0]:
            lo = mid
        else:
            hi = mid
    ok, s = fits(builder, count, task, lo, state, budget)
    assert ok
    return s


def read_haystack(path: Path, field="text"):
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        raw = " ".join(json.loads(line)[field] for line in raw.splitlines() if line.strip())
    # RULER: re.sub(r"\s+", " ", essay).split(" "), here trimmed first so no empty word remains.
    return re.sub(r"\s+", " ", raw).strip().split(" ")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer", required=True, help="a tokenizer.json")
    ap.add_argument("--haystack", required=True, help="essay text (.txt, or .jsonl with a text field)")
    ap.add_argument("--tasks", nargs="*", default=list(TASKS))
    ap.add_argument("--lengths", nargs="+", type=int, default=[4096])
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--max-new", type=int, default=128)
    ap.add_argument("--words", default=str(Path(__file__).resolve().parents[2] / "engine/src/eval/tasks/ruler_words.h"))
    ap.add_argument("--full", action="store_true", help="write whole prompts too")
    ap.add_argument("--out", default="-")
    a = ap.parse_args()

    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(a.tokenizer)

    def count(text):
        return len(tok.encode(text).ids)

    import numpy as np  # RULER's depths: np.round(np.linspace(0, 100, num=40)).astype(int), as fractions
    depths = [int(d) / 100 for d in np.round(np.linspace(0, 100, num=40, endpoint=True)).astype(int)]
    adjectives, nouns = word_lists(Path(a.words))
    builder = Builder(adjectives, nouns, read_haystack(Path(a.haystack)), depths)
    out = sys.stdout if a.out == "-" else open(a.out, "w")
    out.write(json.dumps({"header": True, "tokenizer": Path(a.tokenizer).parent.name, "haystack": Path(a.haystack).name,
                          "seed": a.seed, "max_new": a.max_new, "lengths": a.lengths, "samples": a.samples,
                          "tasks": a.tasks}) + "\n")
    for task in a.tasks:
        for length in a.lengths:
            budget = length - a.max_new
            start = search(builder, count, task, budget, stream_for(a.seed, task, length, SEARCH_INDEX))
            for i in range(a.samples):
                s = fit(builder, count, task, budget, stream_for(a.seed, task, length, i), start)
                p = s["prompt"]
                rec = {"task": task, "length": length, "index": i, "search_units": start, "units": s["units"],
                       "tokens": s["tokens"], "answers": s["answers"], "query": s["query"], "depth": s["depth"],
                       "bytes": len(p.encode()), "fnv": format(fnv1a64(p.encode()), "016x"),
                       "head": p[:200], "tail": p[-200:]}
                if a.full:
                    rec["prompt"] = p
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                out.flush()


if __name__ == "__main__":
    main()
