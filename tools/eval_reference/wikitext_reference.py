#!/usr/bin/env python3
"""Independent computation of lm-eval's WikiText preprocessing on ../shared/data/wikitext-2-raw/wiki.test.raw, with
Python's own `re` (the rules as eval-spec.md states them): document split, word/byte counts of the original page,
and an FNV-1a 64-bit hash of each detokenised page. The C++ tests compare against these numbers.

usage: python3 tools/eval_reference/wikitext_reference.py [PATH]
"""
import re, sys


def detokenize(string):
    string = string.replace("s '", "s'")
    string = re.sub(r"/' [0-9]/", r"/'[0-9]/", string)
    string = string.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".")
    for p in (":", ";", ".", "!", "?", ","):
        string = string.replace(" " + p + " ", p + " ")
    string = re.sub(r"\(\s*([^\)]*?)\s*\)", r"(\1)", string)
    string = re.sub(r"\[\s*([^\]]*?)\s*\]", r"[\1]", string)
    string = re.sub(r"{\s*([^}]*?)\s*}", r"{\1}", string)
    string = re.sub(r"\"\s*([^\"]*?)\s*\"", r'"\1"', string)
    string = re.sub(r"'\s*([^']*?)\s*'", r"'\1'", string)
    string = string.replace("= = = =", "====").replace("= = =", "===").replace("= =", "==")
    string = string.replace(" \u00b0 ", "\u00b0").replace(" \n", "\n").replace("\n ", "\n")
    string = string.replace(" N ", " 1 ").replace(" 's", "'s")
    return string


def fnv1a(data: bytes) -> int:
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else '../shared/data/wikitext-2-raw/wiki.test.raw'
    lines = open(path, encoding='utf-8', newline='').read().splitlines(keepends=True)
    docs = []
    for line in lines:
        if re.match(r"^ = [^=].* = $", line.rstrip('\n')) or not docs:
            docs.append('')
        docs[-1] += line
    words = sum(len(re.split(r"\s+", d)) for d in docs)
    nbytes = sum(len(d.encode('utf-8')) for d in docs)
    h = fnv1a(b''.join(detokenize(d).encode('utf-8') for d in docs))
    print(f"documents {len(docs)} words {words} bytes {nbytes} detokenized_fnv1a 0x{h:016x}")
    first_words = len(re.split(r"\s+", docs[0]))
    print(f"first document: words {first_words} bytes {len(docs[0].encode('utf-8'))}")


if __name__ == '__main__':
    main()
