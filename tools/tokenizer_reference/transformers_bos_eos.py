#!/usr/bin/env python3
"""What transformers' AutoTokenizer adds around a text (add_special_tokens=True), for one tokenizer folder.
Reads a JSON list of texts on stdin; prints one JSON line: the transformers version, the tokenizer class, the
prefix/suffix ids around the tokenizers library's own ids (special tokens matched), and on how many texts
transformers' body ids equal the library's. Run it with the python of each transformers installation to compare.
"""
import json
import sys

import transformers
from tokenizers import Tokenizer
from transformers import AutoTokenizer


def main():
    folder = sys.argv[1]
    texts = json.loads(sys.stdin.read())
    tf = AutoTokenizer.from_pretrained(folder)
    lib = Tokenizer.from_file(folder + "/tokenizer.json")
    affix, same_body = None, 0
    for text in texts:
        body = lib.encode(text, add_special_tokens=False).ids
        full = tf(text)["input_ids"]
        plain = tf(text, add_special_tokens=False)["input_ids"]
        same_body += plain == body
        if not plain:
            continue  # an empty body cannot tell a prefix from a suffix
        for p in range(len(full) - len(plain) + 1):
            if full[p:p + len(plain)] == plain:
                a = [full[:p], full[p + len(plain):]]
                affix = a if affix in (None, a) else "varies"
                break
        else:
            affix = "varies"
    print(json.dumps({"version": transformers.__version__, "class": type(tf).__name__,
                      "prefix_suffix": affix, "body_equal": same_body, "texts": len(texts)}))


if __name__ == "__main__":
    main()
