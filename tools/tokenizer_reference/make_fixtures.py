#!/usr/bin/env python3
"""Builds small tokenizer.json fixtures, one per checkpoint family, into tests/fixtures/tokenizers/<family>/.

Each fixture has the family's pipeline (normalizer, pre-tokenizer, BPE options, decoder, post-processor, added
tokens with their flags, tokenizer_config.json) as the published checkpoints ship it, but a small vocabulary that
the Hugging Face `tokenizers` library trains here on text we own: resources/demo/harbour.txt plus generated text
(generated_text below). The published files themselves are not ours to commit.

    pip install tokenizers
    python3 tools/tokenizer_reference/make_fixtures.py        # then write_reference.py

Deterministic for one tokenizers version (reference_meta.json records it; tests/fixtures/tokenizers/README.md).
"""
import json
import random
import sys
from pathlib import Path

from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "tokenizers"

QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
               r"\s*[\r\n]+|\s+(?!\S)|\s+")
CL100K_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                r"\s*[\r\n]+|\s+(?!\S)|\s+")


def generated_text(seed=19):
    """Our own multilingual filler: invented words in several scripts, numbers, code, whitespace runs, emoji."""
    rng = random.Random(seed)
    syll = {
        "latin": ["ka", "lo", "mer", "ti", "sun", "dra", "vel", "or", "ine", "bas", "qu", "ent", "ro", "al"],
        "accent": ["é", "è", "ü", "ñ", "ø", "ß", "å", "ç", "ô", "ī", "ł", "ž", "ő"],
        "cyrillic": ["ка", "ло", "мир", "ти", "сун", "дра", "вел", "ор", "ин", "бас", "ен", "ро"],
        "greek": ["κα", "λο", "μερ", "τι", "συν", "δρα", "βελ", "ορ", "ιν", "ας"],
        "cjk": list("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长"),
        "kana": list("あいうえおかきくけこさしすせそたちつてとなにぬねのアイウエオカキクケコサシスセソ"),
        "hangul": list("가나다라마바사아자차카타파하한국어글"),
        "arabic": ["سل", "ام", "كت", "اب", "مد", "ينة", "بح", "ر"],
    }
    emoji = ["🙂", "🚢", "🌊", "👩‍👩‍👧", "🇳🇴", "❤️", "✨"]
    out = []
    for _ in range(1200):
        kind = rng.choice(list(syll) + ["digits", "code", "space", "emoji", "contraction"])
        if kind == "digits":
            out.append(rng.choice(["", "$", "#", "No. "]) + str(rng.randint(0, 10 ** rng.randint(1, 9))) +
                       rng.choice(["", ".5", ",000", "%", " km"]))
        elif kind == "code":
            name = "".join(rng.choice(syll["latin"]) for _ in range(2))
            out.append(rng.choice([f"\n    def {name}(x):\n        return x ** 2\n",
                                   f"\n\tif ({name} != NULL) {{ {name}++; }}\n", f" {name}_{rng.randint(0, 99)}=[1, 2]; "]))
        elif kind == "space":
            out.append(rng.choice(["  ", "   ", "\t", "\n\n", "\r\n", "\n \n", "      ", " \u00a0 "]))
        elif kind == "emoji":
            out.append(" " + rng.choice(emoji))
        elif kind == "contraction":
            out.append(" " + rng.choice(["don't", "It's", "WE'LL", "they've", "I'd", "she'S", "you're"]))
        else:
            n = rng.randint(1, 4)
            word = "".join(rng.choice(syll[kind]) for _ in range(n))
            if kind == "latin" and rng.random() < 0.3:
                word = word.capitalize()
            if kind == "latin" and rng.random() < 0.3:
                word += rng.choice(syll["accent"])
            out.append((" " if kind not in ("cjk", "kana") else "") + word + rng.choice(["", "", ",", ".", "!", "?"]))
    return "".join(out)


def training_lines():
    text = (ROOT / "resources" / "demo" / "harbour.txt").read_text(encoding="utf-8") + "\n" + generated_text()
    return [line for line in text.split("\n")]


def added(id_, content, special=True, normalized=None, lstrip=False, rstrip=False):
    return {"id": id_, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": rstrip,
            "normalized": (not special) if normalized is None else normalized, "special": special}


def template(bos=None, eos=None, ids=None):
    single = ([{"SpecialToken": {"id": bos, "type_id": 0}}] if bos else []) + [{"Sequence": {"id": "A", "type_id": 0}}] + \
             ([{"SpecialToken": {"id": eos, "type_id": 0}}] if eos else [])
    pair = single + ([{"SpecialToken": {"id": bos, "type_id": 1}}] if bos else []) + [{"Sequence": {"id": "B", "type_id": 1}}] + \
        ([{"SpecialToken": {"id": eos, "type_id": 1}}] if eos else [])
    special = {t: {"id": t, "ids": [ids[t]], "tokens": [t]} for t in (bos, eos) if t}
    return {"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": special}


BYTE_LEVEL = lambda regex: {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": regex}
SPM_DECODER = {"type": "Sequence", "decoders": [
    {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"},
    {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}


def train_byte_level(vocab_size, specials, pre):
    """Byte-level BPE trained with the family's own pre-tokenizer; returns (vocab dict, merges list)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(pre)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_lines(), trainer)
    m = json.loads(tok.to_str())["model"]
    return m["vocab"], m["merges"]


def train_sentencepiece_style(vocab_size, specials, byte_tokens_at):
    """A Llama-2-style BPE ('▁' for spaces, byte fallback): merges learned on Metaspace words; the 256 <0xXX> byte
    tokens are put at byte_tokens_at, after the leading specials, as Llama/Mistral/Gemma vocabularies have them."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False, limit_alphabet=400)
    tok.train_from_iterator(training_lines(), trainer)
    m = json.loads(tok.to_str())["model"]
    learned = sorted((t for t in m["vocab"] if t not in specials), key=lambda t: m["vocab"][t])
    order = specials[:byte_tokens_at] + [f"<0x{b:02X}>" for b in range(256)] + specials[byte_tokens_at:] + learned
    return {t: i for i, t in enumerate(order)}, m["merges"]


def bpe(vocab, merges, **options):
    m = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
         "fuse_unk": False, "byte_fallback": False, "ignore_merges": False}
    m.update(options)
    m.update({"vocab": vocab, "merges": merges})
    return m


def document(model, normalizer, pre_tokenizer, post_processor, decoder, added_tokens):
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added_tokens, "normalizer": normalizer,
            "pre_tokenizer": pre_tokenizer, "post_processor": post_processor, "decoder": decoder, "model": model}


def spm_family(name, vocab_size, specials, extra_added, normalizer, pre_tokenizer, bos, add_bos, config, byte_tokens_at=3):
    vocab, merges = train_sentencepiece_style(vocab_size, specials, byte_tokens_at)
    next_id = len(vocab)
    added_tokens = [added(vocab[s], s) for s in specials]
    for spec in extra_added:
        content, kw = spec
        if content in vocab:
            added_tokens.append(added(vocab[content], content, **kw))
        else:
            added_tokens.append(added(next_id, content, **kw))
            next_id += 1
    post = template(bos=bos if add_bos else None, ids=vocab)
    return document(bpe(vocab, merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True), normalizer, pre_tokenizer,
                    post, SPM_DECODER if name != "gemma2" else {"type": "Sequence", "decoders": SPM_DECODER["decoders"][:3]},
                    added_tokens), config


def byte_level_family(vocab_size, specials_added, pre, pre_json, normalizer, post, first_special_id=None):
    contents = [c for c, _ in specials_added]
    vocab, merges = train_byte_level(vocab_size, [], pre)
    next_id = len(vocab) if first_special_id is None else first_special_id
    added_tokens = []
    for content, kw in specials_added:
        added_tokens.append(added(next_id, content, **kw))
        next_id += 1
    assert not set(contents) & set(vocab)
    return document(bpe(vocab, merges), normalizer, pre_json, post, BYTE_LEVEL(True), added_tokens)


LEGACY_NORMALIZER = {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                                         {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}


def families():
    bl = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    qwen_split = pre_tokenizers.Split(Regex(QWEN2_REGEX), behavior="isolated")
    qwen_pre = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": QWEN2_REGEX}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}
    qwen_post = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    qwen_added = [("<|endoftext|>", {}), ("<|im_start|>", {}), ("<|im_end|>", {}), ("<|object_ref_start|>", {}),
                  ("<|vision_pad|>", {}), ("<tool_call>", {"special": False, "normalized": False}),
                  ("</tool_call>", {"special": False, "normalized": False}),
                  ("<|fim_prefix|>", {"special": False, "normalized": False}),
                  ("<|fim_middle|>", {"special": False, "normalized": False})]
    out = {}

    # Qwen2 / Qwen2.5: NFC, the Qwen regex split, ByteLevel without its own regex; no BOS, EOS <|endoftext|>.
    out["qwen2"] = (byte_level_family(1800, qwen_added, [qwen_split, bl], qwen_pre, {"type": "NFC"}, qwen_post),
                    {"tokenizer_class": "Qwen2Tokenizer", "add_bos_token": False, "add_prefix_space": False,
                     "bos_token": None, "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "unk_token": None,
                     "errors": "replace", "split_special_tokens": False}, {"model_type": "qwen2"})
    # Qwen3: the same pipeline, <think> tags as non-special added tokens, EOS <|im_end|>.
    out["qwen3"] = (byte_level_family(1600, qwen_added + [("<think>", {"special": False, "normalized": False}),
                                                          ("</think>", {"special": False, "normalized": False})],
                                      [qwen_split, bl], qwen_pre, {"type": "NFC"}, qwen_post),
                    {"tokenizer_class": "Qwen2Tokenizer", "add_bos_token": False, "add_prefix_space": False,
                     "bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "unk_token": None,
                     "errors": "replace", "split_special_tokens": False}, {"model_type": "qwen3"})
    # GPT-NeoX / Pythia: NFC, ByteLevel with GPT-2's regex; whitespace runs as normalized non-special added tokens.
    neox_added = [("<|endoftext|>", {}), ("<|padding|>", {})] + \
        [(" " * n, {"special": False, "normalized": True}) for n in range(24, 1, -1)] + \
        [("\t" * n, {"special": False, "normalized": True}) for n in (4, 3, 2)]
    out["gpt-neox"] = (byte_level_family(1700, neox_added, [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)],
                                         BYTE_LEVEL(True), {"type": "NFC"}, BYTE_LEVEL(True), first_special_id=None),
                       {"tokenizer_class": "GPTNeoXTokenizer", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
                        "unk_token": "<|endoftext|>", "add_prefix_space": False}, {"model_type": "gpt_neox"})
    # OLMo 2 (dolma2, cl100k-style): Split(Removed, invert) + ByteLevel; no post-processor.
    olmo_added = [("<|extra_id_0|>", {"special": False, "normalized": False}), ("<|endoftext|>", {}),
                  ("<|fim_prefix|>", {}), ("|||PHONE_NUMBER|||", {"special": False, "normalized": False}),
                  ("|||EMAIL_ADDRESS|||", {"special": False, "normalized": False}), ("<|pad|>", {})]
    out["olmo2"] = (byte_level_family(1700, olmo_added, [pre_tokenizers.Split(Regex(CL100K_REGEX),
                                                                                behavior="removed", invert=True), bl],
                                      {"type": "Sequence", "pretokenizers": [
                                          {"type": "Split", "pattern": {"Regex": CL100K_REGEX}, "behavior": "Removed", "invert": True},
                                          BYTE_LEVEL(False)]}, None, None),
                    {"tokenizer_class": "GPT2Tokenizer", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
                     "pad_token": "<|pad|>", "unk_token": "<|endoftext|>", "add_bos_token": False, "add_eos_token": False},
                    {"model_type": "olmo2"})
    # SmolLM / SmolLM2: every digit alone, then ByteLevel with GPT-2's regex.
    smol_added = [("<|endoftext|>", {}), ("<|im_start|>", {}), ("<|im_end|>", {}), ("<repo_name>", {}), ("<file_sep>", {})]
    out["smollm"] = (byte_level_family(1500, smol_added, [pre_tokenizers.Digits(individual_digits=True),
                                                          pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)],
                                       {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True},
                                                                              BYTE_LEVEL(True)]}, None, BYTE_LEVEL(True)),
                     {"tokenizer_class": "GPT2Tokenizer", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
                      "unk_token": "<|endoftext|>", "add_prefix_space": False}, {"model_type": "llama"})

    llama_specials = ["<unk>", "<s>", "</s>"]
    # TinyLlama (Llama 2's tokenizer.json): the legacy normalizer (prepend '▁', spaces to '▁'), no pre-tokenizer.
    out["tinyllama"] = spm_family("tinyllama", 1200, llama_specials, [], LEGACY_NORMALIZER, None, "<s>", True,
                                  {"tokenizer_class": "LlamaTokenizer", "add_bos_token": True, "add_eos_token": False,
                                   "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "legacy": False}) + \
        ({"model_type": "llama"},)
    # Mistral (v0.3 conversion, non-legacy): no normalizer, Metaspace(prepend first, no split).
    out["mistral"] = spm_family("mistral", 1300, llama_specials,
                                [("[INST]", {}), ("[/INST]", {}), ("[TOOL_CALLS]", {})], None,
                                {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False},
                                "<s>", True, {"tokenizer_class": "LlamaTokenizer", "add_bos_token": True,
                                              "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
                                              "unk_token": "<unk>", "legacy": False}) + ({"model_type": "mistral"},)
    # Phi-3 / Phi-3.5: the legacy normalizer; chat tokens with rstrip; </s> non-special with rstrip; no BOS.
    phi_added = [("<|endoftext|>", {}), ("<|assistant|>", {"rstrip": True}), ("<|placeholder1|>", {"rstrip": True}),
                 ("<|system|>", {"rstrip": True}), ("<|end|>", {"rstrip": True}), ("<|user|>", {"rstrip": True})]
    doc, cfg = spm_family("phi3", 1250, llama_specials, phi_added, LEGACY_NORMALIZER, None, "<s>", False,
                          {"tokenizer_class": "LlamaTokenizer", "add_bos_token": False, "add_eos_token": False,
                           "bos_token": "<s>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
                           "unk_token": "<unk>", "legacy": False})
    for t in doc["added_tokens"]:
        if t["content"] == "</s>":
            t.update({"special": False, "rstrip": True})
    out["phi3"] = (doc, cfg, {"model_type": "phi3"})
    # Gemma 2: spaces to '▁' without a prefix, Split(" ", MergedWithPrevious) as transformers' converter writes it,
    # BOS <bos>; many added tokens: chat turns, unused slots, newline runs and HTML tags (non-special, not normalized).
    gemma_specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>"] + \
        [f"<unused{i}>" for i in range(4)]
    gemma_extra = [("\n\n", {"special": False, "normalized": False}), ("\n\n\n", {"special": False, "normalized": False}),
                   ("<table>", {"special": False, "normalized": False}), ("</td>", {"special": False, "normalized": False}),
                   ("<h1>", {"special": False, "normalized": False}), ("  ", {"special": False, "normalized": False})]
    doc, cfg = spm_family("gemma2", 1400, gemma_specials, gemma_extra, {"type": "Replace", "pattern": {"String": " "},
                                                                          "content": "\u2581"},
                          {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious", "invert": False},
                          "<bos>", True, {"tokenizer_class": "GemmaTokenizer", "add_bos_token": True,
                                          "add_eos_token": False, "bos_token": "<bos>", "eos_token": "<eos>",
                                          "pad_token": "<pad>", "unk_token": "<unk>"}, byte_tokens_at=len(gemma_specials))
    out["gemma2"] = (doc, cfg, {"model_type": "gemma2"})
    return out


def main():
    for name, (doc, cfg, config) in families().items():
        text = json.dumps(doc, ensure_ascii=False, indent=1)
        Tokenizer.from_str(text)  # the library itself must accept the file
        d = OUT / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "tokenizer.json").write_text(text + "\n", encoding="utf-8")
        (d / "tokenizer_config.json").write_text(json.dumps(cfg, indent=1) + "\n", encoding="utf-8")
        (d / "config.json").write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
        print(f"{name}: {len(text)} bytes, vocab {len(doc['model']['vocab'])}, {len(doc['added_tokens'])} added tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
