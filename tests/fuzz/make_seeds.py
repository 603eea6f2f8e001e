#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/): small inputs of our own, one per shape the
target should start from. Rerun after changing it: python3 tests/fuzz/make_seeds.py"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None, pad=True):
    header, blob, off = {}, b"", 0
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        blob += raw
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


# --- safetensors ---
put("safetensors", "f32_bf16_f16", safetensors([("w", "F32", [2, 2], f32(1, -2, 3.5, 0)),
                                                ("b", "BF16", [3], b"\x80\x3f\x00\x40\x40\x40"),
                                                ("h", "F16", [1], b"\x00\x3c")], {"format": "pt"}))
put("safetensors", "empty_and_scalar", safetensors([("e", "F32", [0, 4], b""), ("s", "F32", [], f32(7))]))
put("safetensors", "ints", safetensors([("ids", "I64", [2], struct.pack("<2q", 1, 300000)),
                                        ("m", "BOOL", [3], b"\x01\x00\x01")], pad=False))
put("safetensors", "nan", safetensors([("w", "F32", [2], f32(float("nan"), 1))]))

# --- config.json, one per family, and RoPE variants (after a NUL: a run-time override) ---
llama = {"model_type": "llama", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 48,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8,
         "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": True,
         "bos_token_id": 1, "eos_token_id": [2, 3]}
put("config", "llama", json.dumps(llama))
for rope in [{"rope_type": "linear", "factor": 2.0}, {"rope_type": "dynamic", "factor": 2.0},
             {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16, "beta_fast": 32},
             {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
              "original_max_position_embeddings": 16},
             {"rope_type": "longrope", "short_factor": [1.0] * 4, "long_factor": [2.0] * 4,
              "original_max_position_embeddings": 16}]:
    put("config", "llama_" + rope["rope_type"], json.dumps(dict(llama, rope_scaling=rope)))
put("config", "llama_v5_rope", json.dumps(dict(llama, rope_parameters={"rope_type": "ntk", "factor": 2.0,
                                                                        "rope_theta": 500000.0})))
put("config", "llama_override", json.dumps(llama) + "\0yarn:factor=4,original_max=16,beta_fast=16")
fla = {"vocab_size": 64, "hidden_size": 32, "num_hidden_layers": 2, "num_heads": 4, "norm_eps": 1e-6}
put("config", "fla_transformer", json.dumps(dict(fla, model_type="transformer", num_kv_heads=2, window_size=16)))
put("config", "delta_net", json.dumps(dict(fla, model_type="delta_net", use_short_conv=True, conv_size=4,
                                           qk_activation="silu", qk_norm="l2")))
put("config", "gated_deltanet_h1", json.dumps(dict(fla, model_type="gated_deltanet", head_dim=8, expand_v=2,
                                                   attn={"layers": [1], "num_heads": 4, "window_size": 8})))
put("config", "bitnet", json.dumps(dict(fla, model_type="bitnet")))
put("config", "mamba_hf", json.dumps({"model_type": "mamba", "vocab_size": 64, "hidden_size": 32,
                                      "num_hidden_layers": 2, "state_size": 8, "expand": 2, "conv_kernel": 4,
                                      "time_step_rank": 4, "layer_norm_epsilon": 1e-5}))
put("config", "mamba2_hf", json.dumps({"model_type": "mamba2", "vocab_size": 64, "hidden_size": 32,
                                       "num_hidden_layers": 2, "num_heads": 4, "head_dim": 16, "n_groups": 2,
                                       "state_size": 8, "expand": 2, "chunk_size": 16, "layer_norm_epsilon": 1e-5}))
put("config", "gla", json.dumps(dict(fla, model_type="gla", num_heads=2, intermediate_size=48)))
put("config", "retnet", json.dumps(dict(fla, model_type="retnet", num_heads=2)))
put("config", "hgrn2", json.dumps(dict(fla, model_type="hgrn2", expand_ratio=16)))
put("config", "samba", json.dumps({"model_type": "samba", "vocab_size": 64, "hidden_size": 32, "num_hidden_layers": 2,
                                   "state_size": 8, "norm_eps": 1e-5, "attn": {"layers": [1], "num_heads": 4,
                                                                               "window_size": 8}}))

# --- run specs ---
spec = {"lmscope_run": 1, "name": "seed", "models": ["m", {"path": "b", "name": "bytes", "tokenizer": "bytes"}],
        "rope": [None, "linear:factor=2", {"type": "yarn", "factor": [2, 4], "original_max_position_embeddings": 16}],
        "tasks": ["passkey", {"task": "throughput", "batch": [1, 2], "seq": 16, "repeats": 1},
                  {"task": "passkey", "lengths": [300], "depths": [0, 0.5, 1], "trials": 2, "max_new_tokens": 8},
                  {"task": "wikitext", "data": "wiki.raw"}],
        "backend": "cpu", "seed": 7, "limit": 3, "max_length": 128, "batch_size": 2}
put("run_spec", "spec", json.dumps(spec))
put("run_spec", "minimal", json.dumps({"models": ["m"], "tasks": ["passkey"]}))

# --- worker requests ---
put("worker_request", "ping", json.dumps({"id": 1, "cmd": "ping"}))
put("worker_request", "inspect", json.dumps({"id": "a", "cmd": "inspect", "model": "m"}))
put("worker_request", "run", json.dumps({"id": [1, {"x": None}], "cmd": "run", "spec": spec, "store": "s.sqlite",
                                         "shard": "0/2", "base_dir": "d"}))
put("worker_request", "history", json.dumps({"cmd": "history", "store": "s.sqlite"}))
put("worker_request", "cancel", json.dumps({"cmd": "cancel"}))

# --- data files: a selector byte, a task byte, then the text ---
text = "The tide came in over the sand. A gull circled twice above the harbour wall."
put("data_files", "jsonl", b"\0\0" + (json.dumps({"text": text}) + "\n\n" + json.dumps({"text": "x"}) + "\n").encode())
put("data_files", "json_list", b"\1\0" + json.dumps([text, {"text": "two"}]).encode())
put("data_files", "corpus_jsonl", b"\2\0" + (json.dumps({"text": text}) + "\n").encode())
put("data_files", "wikitext", b"\3\0" + (" = Note 1 = \n " + text + " @-@ ( it ) \n = = Part = = \n more \" text \" .\n"
                                         " = Note 2 = \n end ; here \n").encode())
records = {"hellaswag": {"activity_label": "Baking", "ctx_a": "A man kneads dough.", "ctx_b": "he",
                         "endings": ["bakes it.", "eats it.", "sells it.", "drops it."], "label": "0"},
           "piqa": {"goal": "Keep bread fresh", "sol1": "Wrap it.", "sol2": "Wet it.", "label": 0},
           "arc_easy": {"question": "Which is a liquid?", "choices": {"text": ["water", "stone"], "label": ["A", "B"]},
                        "answerKey": "A"},
           "winogrande": {"sentence": "The cup fell because _ was slippery.", "option1": "the cup",
                          "option2": "the table", "answer": "1"},
           "boolq": {"passage": "The sea is salty.", "question": "is the sea salty", "label": True},
           "copa": {"premise": "The glass broke.", "choice1": "It fell.", "choice2": "It was full.",
                    "question": "cause", "label": 0},
           "sciq": {"question": "What do plants need?", "distractor1": "salt", "distractor2": "sand",
                    "distractor3": "oil", "correct_answer": "light", "support": "Plants need light."},
           "social_iqa": {"context": "Ann gave Bob a gift.", "question": "How would Bob feel?", "answerA": "happy",
                          "answerB": "angry", "answerC": "bored", "label": "1"}}
order = ["hellaswag", "piqa", "arc_easy", "arc_challenge", "winogrande", "boolq", "copa", "sciq", "social_iqa"]
for i, task in enumerate(order):
    if task in records:
        put("data_files", "mc_" + task, bytes([4, i]) + (json.dumps(records[task]) + "\n").encode())
put("data_files", "lambada", b"\5\0" + (json.dumps({"text": text}) + "\n").encode())
put("data_files", "text", b"\6\0" + ("  [title] A  story [x] of  \u00e9t\u00e9  " + text).encode())

# --- tokenizers: a byte-level BPE of our own (256 byte symbols and a few merges) ---
def byte_symbols():
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, n = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + n)
            n += 1
    return table


sym = byte_symbols()
vocab = {sym[b]: b + 3 for b in range(256)}
merges = [("t", "h"), ("th", "e"), ("\u0120", "t"), ("a", "n"), ("i", "n")]
for a, b in merges:
    vocab[a + b] = len(vocab) + 3
tok = {"version": "1.0", "truncation": None, "padding": None,
       "added_tokens": [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                         "normalized": False, "special": True} for i, c in enumerate(["<unk>", "<s>", "</s>"])],
       "normalizer": None,
       "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
       "post_processor": None,
       "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
       "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                 "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                 "vocab": vocab, "merges": [a + " " + b for a, b in merges]}}
put("tokenizer", "bpe", b"\0" + json.dumps(tok, ensure_ascii=False).encode() + b"\0the thin man <s> said \xc3\xa9")
put("tokenizer", "sentencepiece_garbage", b"\1\x0a\x05\x0a\x01a\x15\x00\x00\x80\x3f\0abc")
