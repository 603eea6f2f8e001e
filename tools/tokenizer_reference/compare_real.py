#!/usr/bin/env python3
"""One-off check of a real (published) tokenizer folder: lmscope-cli's ids against the Hugging Face `tokenizers`
library's for the 99 reference texts (with --own also our added-token texts), with special tokens as plain
text and matched, and decode round trips.
Third-party tokenizer files are checked where they lie; nothing is copied into the repository.

    python3 tools/tokenizer_reference/compare_real.py --cli build/bin/lmscope-cli DIR [DIR...]
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parents[2]


def cli_ids(cli, folder, texts_file, allow_special):
    args = [cli, "tokenize", "--tokenizer", str(Path(folder) / "tokenizer.json"), "--jsonl", texts_file, "--no-bos"]
    if allow_special:
        args.append("--allow-special")
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def cli_text(cli, folder, ids):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(ids, f)
    out = subprocess.run([cli, "detokenize", "--tokenizer", str(Path(folder) / "tokenizer.json"), "--ids-file", f.name],
                         check=True, capture_output=True).stdout
    return out[:-1].decode("utf-8", errors="replace")  # the CLI ends with a newline


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=str(ROOT / "build" / "bin" / "lmscope-cli"))
    ap.add_argument("--texts", default=str(ROOT.parent / "shared" / "data" / "tokenizers" / "texts.jsonl"))
    ap.add_argument("--decode", type=int, default=99, help="texts whose decode is compared too")
    ap.add_argument("--own", action="store_true", help="add write_reference.py's added-token texts")
    ap.add_argument("folders", nargs="+")
    a = ap.parse_args()
    texts = [json.loads(line)["text"] for line in open(a.texts, encoding="utf-8") if line.strip()]
    if a.own:
        sys.path.insert(0, str(Path(__file__).parent))
        from write_reference import OWN_TEXTS
        texts += OWN_TEXTS
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")
    a.texts = f.name
    print(f"tokenizers {tokenizers.__version__}, {len(texts)} texts")
    for folder in a.folders:
        lib = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
        report = []
        for allow in (False, True):
            lib.encode_special_tokens = not allow
            want = [lib.encode(t, add_special_tokens=False).ids for t in texts]
            got = cli_ids(a.cli, folder, a.texts, allow)
            same = sum(g == w for g, w in zip(got, want))
            report.append(f"{'special matched' if allow else 'special as text'} {same}/{len(texts)}")
            if not allow:
                plain = want
        lib.encode_special_tokens = True
        dec = sum(cli_text(a.cli, folder, ids) == lib.decode(ids, skip_special_tokens=False) for ids in plain[:a.decode])
        report.append(f"decode {dec}/{min(a.decode, len(texts))}")
        print(f"{folder}: " + ", ".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
