#!/usr/bin/env python3
"""Writes the Hugging Face `tokenizers` library's ids for the 99 reference texts and for OWN_TEXTS (ours, written
to exercise added tokens and their flags), per fixture family: tests/fixtures/tokenizers/<family>/reference.jsonl.gz
(gzip, reproducible), one line per text:

  {"id": text id, "ids": [...]}                  encode(text, add_special_tokens=False) with special tokens in
                                                 the text left as plain text (encode_special_tokens=True): what
                                                 lmscope's encode gives with allow_special off
  "ids_allow_special": [...]                     only where it differs: special tokens in the text matched
  "decoded": "..."                               only where decode(ids) differs from the text
  "decoded_allow_special": "..."                 decode(ids_allow_special), where those exist
  "text": "..."                                  for OWN_TEXTS only (the 99 come from texts.jsonl)

and <family>/reference_meta.json: the library version, the family's BOS/EOS as the post-processor adds them
(add_special_tokens=True = prefix + ids_allow_special + suffix, checked on every text), and what each given
transformers installation's AutoTokenizer adds (--transformers-python, run through transformers_bos_eos.py).

    python3 tools/tokenizer_reference/write_reference.py --texts ../shared/data/tokenizers/texts.jsonl \
        [--transformers-python /path/venv4/bin/python /path/venv5/bin/python] [FAMILY...]
"""
import argparse
import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "tokenizers"


# Ours: special and added tokens of every fixture family in text, with the whitespace their flags act on.
OWN_TEXTS = [
    "<|im_start|>user\nWhat is the tide at noon?<|im_end|>\n<|im_start|>assistant\n",
    "a<|endoftext|>b <|endoftext|> c<|endoftext|>",
    "<|user|>  \n Where do the boats go?<|end|>\n<|assistant|>\tThey go out past the breakwater.<|end|>  x",
    "text </s>  more </s>",
    "<s> leading bos look-alike and trailing </s>",
    "<bos><start_of_turn>user\nhello<end_of_turn>\n<start_of_turn>model\n",
    "a\n\n\n\nb\n\nc <table><h1>Title</h1></td>   <unused1>",
    "def f(x):\n                        return x  # 24 spaces\n\t\t\t\tindent\t\tend",
    "call me at |||PHONE_NUMBER||| or |||EMAIL_ADDRESS||| <|pad|>",
    "<think>\nthe tide turns at 12:40\n</think>\n\nAnswer: 12:40",
    "<tool_call>{\"name\": \"tide\"}</tool_call><|fim_prefix|>x<|fim_middle|>",
    "[INST] hello [/INST][TOOL_CALLS] ok",
    "<repo_name>lmscope<file_sep>main.cpp 12345 6789",
    "<|endoftext|>",
    "   <|im_end|>   ",
    "<|end|><|end|>",
]


def affixes(full, body):
    """(prefix, suffix) with full == prefix + body + suffix, or None."""
    for p in range(len(full) - len(body) + 1):
        if full[p:p + len(body)] == body:
            return full[:p], full[p + len(body):]
    return None


def write_family(d, texts, transformers_pythons):
    tok = Tokenizer.from_file(str(d / "tokenizer.json"))
    lines, template, empties = [], None, []
    for t in texts:
        tok.encode_special_tokens = True
        ids = tok.encode(t["text"], add_special_tokens=False).ids
        tok.encode_special_tokens = False
        allowed = tok.encode(t["text"], add_special_tokens=False).ids
        with_special = tok.encode(t["text"], add_special_tokens=True).ids
        if allowed:  # an empty body cannot tell a prefix from a suffix: checked after the loop
            a = affixes(with_special, allowed)
            assert a is not None and (template is None or a == template), (d.name, t["id"], a, template)
            template = a
        else:
            empties.append(with_special)
        row = {"id": t["id"], "ids": ids}
        if allowed != ids:
            row["ids_allow_special"] = allowed
        decoded = tok.decode(ids, skip_special_tokens=False)
        if decoded != t["text"]:
            row["decoded"] = decoded
        if allowed != ids:
            row["decoded_allow_special"] = tok.decode(allowed, skip_special_tokens=False)
        if t.get("own"):
            row["text"] = t["text"]
        lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
    assert all(e == template[0] + template[1] for e in empties), (d.name, empties, template)
    with open(d / "reference.jsonl.gz", "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as z:
        z.write(("\n".join(lines) + "\n").encode("utf-8"))
    meta = {"tokenizers": tokenizers.__version__, "texts": len(texts), "own_texts": len(OWN_TEXTS),
            "post_processor": {"prefix": template[0], "suffix": template[1]}, "transformers": {}}
    for py in transformers_pythons:
        out = subprocess.run([py, str(Path(__file__).with_name("transformers_bos_eos.py")), str(d)],
                             check=True, capture_output=True, text=True, input=json.dumps([t["text"] for t in texts]))
        r = json.loads(out.stdout.strip().splitlines()[-1])
        meta["transformers"][r.pop("version")] = r
    (d / "reference_meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    round_trips = sum('"decoded":' not in line for line in lines)
    print(f"{d.name}: {len(lines)} texts, {round_trips} round-trip, BOS/EOS {template} {meta['transformers']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", default=str(ROOT.parent / "shared" / "data" / "tokenizers" / "texts.jsonl"))
    ap.add_argument("--transformers-python", nargs="*", default=[])
    ap.add_argument("families", nargs="*")
    a = ap.parse_args()
    texts = [json.loads(line) for line in open(a.texts, encoding="utf-8") if line.strip()]
    assert len(texts) == 99, a.texts
    texts += [{"id": f"own-{i}", "text": t, "own": True} for i, t in enumerate(OWN_TEXTS)]
    names = a.families or sorted(p.name for p in FIXTURES.iterdir() if (p / "tokenizer.json").exists())
    for name in names:
        write_family(FIXTURES / name, texts, a.transformers_python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
