#!/usr/bin/env python3
"""Trains lmscope's small demo models (issue 9) with PyTorch on the GPU machine, all on the same text:

  demo-llama   Llama-style Transformer (transformers LlamaForCausalLM) with a byte-level BPE tokenizer we train here
  demo-gdn     Gated DeltaNet (flash-linear-attention GatedDeltaNetForCausalLM), the same tokenizer
  demo-bytes   a byte-level Llama (vocabulary = the 256 UTF-8 byte values; BOS 1, EOS 2 are ordinary bytes)

Each is a few million parameters with a short training context (so perplexity-vs-length and passkey plots show the
models leaving the lengths they know), trained for a fixed time budget, and saved as a Hugging Face folder
(config.json, model.safetensors, tokenizer files) that lmscope loads as it is. The text is not ours and is not
saved; only weights, configs and the tokenizer are. A summary.json gives each model's held-out perplexity next to
that of the same model at initialisation (random weights).

usage: train_demo.py --text FILE.jsonl|FILE.txt [--field text] --out DIR [--minutes 3] [--models llama,gdn,bytes]
       [--device cuda] [--steps N (overrides --minutes; for a smoke test on the CPU)]
The last 5% of the documents (at least one) are held out.

On the GPU machine (torch and transformers are there, fla is not): fetch fla's wheels here with
`pip download flash-linear-attention fla-core einops --no-deps -d .whl`, carry `.whl` and the text, and run
`python3 -m pip install --no-deps .whl/*.whl` first. Checked on 2026-11-23 with --steps 30 (H100): demo-llama trains
and saves, lmscope loads the folder and its tokenizer.json reproduces the tokenizers library's ids; the GDN part
was not reached (fla went to another interpreter's site-packages through plain `pip`).
"""
import argparse, json, math, os, random, sys, time

import torch


def read_documents(path, field):
    if path.endswith('.jsonl'):
        return [json.loads(l)[field] for l in open(path, encoding='utf-8') if l.strip()]
    return [open(path, encoding='utf-8').read()]


def train_tokenizer(train_docs, vocab_size, out_dir):
    """A GPT-2 style byte-level BPE (ByteLevel pre-tokenizer and decoder), saved as tokenizer.json."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=['<unk>', '<s>', '</s>'],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(train_docs, trainer)
    os.makedirs(out_dir, exist_ok=True)
    tok.save(os.path.join(out_dir, 'tokenizer.json'))
    return tok


def write_tokenizer_config(out_dir, bos, eos, max_len):
    json.dump({'bos_token': bos, 'eos_token': eos, 'add_bos_token': True, 'add_eos_token': False,
               'model_max_length': max_len}, open(os.path.join(out_dir, 'tokenizer_config.json'), 'w'), indent=2)


def token_stream(docs, encode, bos_id):
    ids = []
    for d in docs:
        ids.append(bos_id)
        ids.extend(encode(d))
    return torch.tensor(ids, dtype=torch.long)


def batches(stream, ctx, batch, gen):
    n = stream.numel() - ctx - 1
    while True:
        starts = torch.randint(0, n, (batch,), generator=gen)
        x = torch.stack([stream[s:s + ctx + 1] for s in starts.tolist()])
        yield x


@torch.no_grad()
def heldout_ppl(model, stream, ctx, device, max_windows=64):
    model.eval()
    nll, count = 0.0, 0
    for w, s in enumerate(range(0, stream.numel() - ctx - 1, ctx)):
        if w >= max_windows:
            break
        x = stream[s:s + ctx + 1].unsqueeze(0).to(device)
        logits = model(x[:, :-1]).logits.float()
        nll += torch.nn.functional.cross_entropy(logits[0], x[0, 1:], reduction='sum').item()
        count += ctx
    model.train()
    return math.exp(nll / max(count, 1))


def build(kind, vocab, ctx):
    if kind in ('llama', 'bytes'):
        from transformers import LlamaConfig, LlamaForCausalLM
        cfg = LlamaConfig(vocab_size=vocab, hidden_size=256, intermediate_size=704, num_hidden_layers=4,
                          num_attention_heads=8, num_key_value_heads=4, head_dim=32, max_position_embeddings=ctx,
                          rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True, bos_token_id=1,
                          eos_token_id=2)
        return LlamaForCausalLM(cfg)
    if kind == 'gdn':
        from fla.models import GatedDeltaNetConfig, GatedDeltaNetForCausalLM
        cfg = GatedDeltaNetConfig(vocab_size=vocab, hidden_size=256, num_hidden_layers=4, num_heads=2, head_dim=64,
                                  expand_v=2, hidden_ratio=4, max_position_embeddings=ctx, tie_word_embeddings=True,
                                  bos_token_id=1, eos_token_id=2, fuse_cross_entropy=False,
                                  fuse_linear_cross_entropy=False, fuse_norm=False, fuse_swiglu=False)
        return GatedDeltaNetForCausalLM(cfg)
    raise ValueError(kind)


def train_one(kind, name, train_s, held_s, vocab, ctx, args, out_dir, tok_dir):
    torch.manual_seed(1234)
    model = build(kind, vocab, ctx).to(args.device)
    params = sum(p.numel() for p in model.parameters())
    ppl0 = heldout_ppl(model, held_s, ctx, args.device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1)
    gen = torch.Generator().manual_seed(1)
    it = batches(train_s, ctx, args.batch, gen)
    t0, step = time.time(), 0
    budget = args.minutes * 60
    total = args.steps or 10 ** 9
    while step < total and (args.steps or time.time() - t0 < budget):
        frac = min(1.0, (time.time() - t0) / budget) if not args.steps else step / total
        lr = args.lr * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g['lr'] = lr
        x = next(it).to(args.device)
        with torch.autocast(device_type='cuda', dtype=torch.bfloat16, enabled=args.device == 'cuda'):
            logits = model(x[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, vocab), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 200 == 0:
            print(f'{name} step {step} loss {loss.item():.3f} ({time.time() - t0:.0f} s)', flush=True)
    ppl = heldout_ppl(model, held_s, ctx, args.device)
    folder = os.path.join(out_dir, name)
    model.to(torch.float32).save_pretrained(folder, safe_serialization=True)
    for f in ('tokenizer.json', 'tokenizer_config.json'):
        if tok_dir and os.path.exists(os.path.join(tok_dir, f)):
            with open(os.path.join(tok_dir, f), 'rb') as src, open(os.path.join(folder, f), 'wb') as dst:
                dst.write(src.read())
    return {'model': name, 'family': kind, 'parameters': params, 'context': ctx, 'steps': step,
            'seconds': round(time.time() - t0, 1), 'heldout_ppl': ppl, 'heldout_ppl_random_init': ppl0,
            'vocab_size': vocab}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--text', required=True)
    ap.add_argument('--field', default='text')
    ap.add_argument('--out', required=True)
    ap.add_argument('--minutes', type=float, default=3.0)
    ap.add_argument('--steps', type=int, default=0)
    ap.add_argument('--models', default='llama,gdn,bytes')
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--vocab', type=int, default=2048)
    args = ap.parse_args()
    docs = read_documents(args.text, args.field)
    random.Random(0).shuffle(docs)
    n_held = max(1, len(docs) // 20)
    held, train = docs[:n_held], docs[n_held:]
    os.makedirs(args.out, exist_ok=True)
    summary = []
    kinds = args.models.split(',')
    tok_dir = os.path.join(args.out, '_tokenizer')
    if 'llama' in kinds or 'gdn' in kinds:
        tok = train_tokenizer(train, args.vocab, tok_dir)
        write_tokenizer_config(tok_dir, '<s>', '</s>', 256)
        enc = lambda s: tok.encode(s).ids  # noqa: E731
        train_s, held_s = token_stream(train, enc, 1), token_stream(held, enc, 1)
        for kind in ('llama', 'gdn'):
            if kind in kinds:
                summary.append(train_one(kind, f'demo-{kind}', train_s, held_s, tok.get_vocab_size(), 256, args,
                                         args.out, tok_dir))
    if 'bytes' in kinds:
        enc = lambda s: list(s.encode('utf-8'))  # noqa: E731
        train_s, held_s = token_stream(train, enc, 1), token_stream(held, enc, 1)
        summary.append(train_one('bytes', 'demo-bytes', train_s, held_s, 256, 512, args, args.out, None))
    json.dump({'text': os.path.basename(args.text), 'documents': len(docs), 'held_out_documents': n_held,
               'device': args.device, 'torch': torch.__version__, 'models': summary},
              open(os.path.join(args.out, 'summary.json'), 'w'), indent=2)
    print(json.dumps(summary, indent=2))


if __name__ == '__main__':
    sys.exit(main())
