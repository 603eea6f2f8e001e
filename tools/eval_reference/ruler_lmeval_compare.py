#!/usr/bin/env python3
"""Runs lm-evaluation-harness's own RULER NIAH generation (lm_eval/tasks/ruler/prepare_niah.py, unmodified, imported
from a checkout: --lm-eval-ruler DIR holding that file) beside lmscope's Python reference (ruler_reference.py, which
equals the engine item by item) on the same haystack and tokenizer, and compares structure: the wording with keys,
values and haystack masked, the number of answers, the tokens each prompt takes, and our sentence rule against
NLTK's Punkt. Needs nltk, wonderwords, numpy and tokenizers. Punkt's trained English model is downloaded from
outside PyPI, so sent_tokenize is NLTK's Punkt algorithm trained on the haystack itself. docs/ruler.md has a run.
"""
import argparse, json, re, sys, types, random
from pathlib import Path
ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--lm-eval-ruler", required=True)
ap.add_argument("--tokenizer", required=True)
ap.add_argument("--haystack", required=True)
ap.add_argument("--lengths", nargs="+", type=int, default=[4096, 8192])
args = ap.parse_args()
sys.modules["datasets"] = types.ModuleType("datasets")  # imported by prepare_niah, used only to download essays
sys.path.insert(0, args.lm_eval_ruler); sys.path.insert(0, str(Path(__file__).resolve().parent))
import nltk
from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer
import prepare_niah as P
import ruler_reference as R
from tokenizers import Tokenizer

tok = Tokenizer.from_file(args.tokenizer)
class Shim:
    def __call__(self, text):
        return types.SimpleNamespace(input_ids=tok.encode(text).ids)
words = R.read_haystack(Path(args.haystack))
train = " ".join(words[:300000])
tr = PunktTrainer(); tr.INCLUDE_ALL_COLLOCS = True; tr.train(train, finalize=True)
punkt = PunktSentenceTokenizer(tr.get_params())
P.cached_sent_tokenize = lambda text: punkt.tokenize(text)

# Sentence boundaries: ours vs punkt on the first 200k words.
text = " ".join(words[:200000])
ps = punkt.tokenize(text)
pb, at = set(), 0
for s in ps[:-1]:
    at = text.index(s, at) + len(s); pb.add(at)
b = R.Builder([], [], words[:200000], [])
ob, at = set(), 0
for i, w in enumerate(words[:199999]):
    at += len(w)
    if b.ends[i]: ob.add(at)
    at += 1
both = len(pb & ob)
print(json.dumps({"sentences_punkt": len(pb) + 1, "sentences_ours": len(ob) + 1, "boundaries_shared": both,
                  "only_punkt": len(pb - ob), "only_ours": len(ob - pb)}))

TASKS = {  # niah_utils.py's arguments
    "niah_single_1": dict(type_haystack="repeat", type_needle_k="words", type_needle_v="numbers"),
    "niah_single_2": dict(type_haystack="essay", type_needle_k="words", type_needle_v="numbers"),
    "niah_single_3": dict(type_haystack="essay", type_needle_k="words", type_needle_v="uuids"),
    "niah_multikey_1": dict(type_haystack="essay", type_needle_k="words", type_needle_v="numbers", num_needle_k=4),
    "niah_multikey_2": dict(type_haystack="needle", type_needle_k="words", type_needle_v="numbers"),
    "niah_multikey_3": dict(type_haystack="needle", type_needle_k="uuids", type_needle_v="uuids"),
    "niah_multivalue": dict(type_haystack="essay", type_needle_k="words", type_needle_v="numbers", num_needle_v=4),
    "niah_multiquery": dict(type_haystack="essay", type_needle_k="words", type_needle_v="numbers", num_needle_q=4),
}
adj, noun = R.word_lists(Path(__file__).resolve().parents[2] / "engine/src/eval/tasks/ruler_words.h")
import numpy as np
depths = [int(d) / 100 for d in np.round(np.linspace(0, 100, num=40)).astype(int)]
ours = R.Builder(adj, noun, words, depths)
count = lambda t: len(tok.encode(t).ids)
key_re = r"(?:[a-z]+-[a-z]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
val_re = r"(?:[0-9]{7}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
def shape(p):  # the prompt with keys, values and the haystack masked
    p = re.sub(r"One of the special magic (\w+) for " + key_re + r" is: " + val_re + r"\.", r"<NEEDLE \1>", p)
    head, _, rest = p.partition("\n"); mid, _, tail = rest.rpartition("\n")
    tail = re.sub(r"for .*? mentioned", "for <QUERY> mentioned", tail)
    return head + "\n<CONTEXT>\n" + tail
random.seed(42)
for name, kw in TASKS.items():
    hay = words if kw["type_haystack"] == "essay" else P.get_haystack.__wrapped__(kw["type_haystack"])
    for L in args.lengths:
        lm = P.generate_samples(hay, Shim(), max_seq_length=L, template=
             "Some special magic {type_needle_v} are hidden within the following text. Make sure to memorize it. I will quiz you about the {type_needle_v} afterwards.\n{context}\nWhat are all the special magic {type_needle_v} for {query} mentioned in the provided text?",
             num_samples=3, **kw)
        budget = L - 128
        st = R.search(ours, count, name, budget, R.stream_for(42, name, L, R.SEARCH_INDEX))
        mine = [R.fit(ours, count, name, budget, R.stream_for(42, name, L, i), st) for i in range(3)]
        lm_prompts = [d["input"] + " " + d["gen_prefix"] for d in lm]
        same_shape = all(shape(a) == shape(mine[0]["prompt"]) for a in lm_prompts) and all(shape(m["prompt"]) == shape(mine[0]["prompt"]) for m in mine)
        if not same_shape:
            print("SHAPE lm:", repr(shape(lm_prompts[0])[:400]), "\nours:", repr(shape(mine[0]["prompt"])[:400]))
        print(json.dumps({"task": name, "length": L, "same_wording": same_shape,
                          "lm_eval_tokens": [count(p) for p in lm_prompts], "lm_eval_length_field": [d["length"] for d in lm],
                          "ours_tokens": [m["tokens"] for m in mine],
                          "lm_eval_answers": [len(d["outputs"]) for d in lm], "ours_answers": [len(m["answers"]) for m in mine]}))
