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


BPE_CONTEXT = 512    # training context of demo-llama and demo-gdn, in tokens
BYTE_CONTEXT = 1024  # of demo-bytes, in bytes


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


# Passkey retrieval in lmscope's format (engine/src/eval/tasks/passkey_task.cpp: the same instruction, key sentence
# and question, our own text) but with filler sentences of its own, so the demo's passkey grid (which uses the
# engine's filler) is not the training data. A fraction of the training windows end in such an example.
PK_INSTRUCTION = ('Somewhere in the notes below there is a pass key, a number of five digits. Read carefully, '
                  'remember it, and repeat it when asked.\n')
PK_QUESTION = '\nWhat is the pass key? The pass key is'
PK_FILLER = [
    'The lighthouse keeper wrote the weather in a small blue book. ',
    'Rain drummed on the roof of the boat shed all afternoon. ',
    'A dog barked once at the end of the lane and then was quiet. ',
    'The ferry left on time although the sea was rough. ',
    'Children were flying a red kite on the hill behind the school. ',
    'The market sold apples, onions and jars of dark honey. ',
    'An old man mended nets on the steps of the post office. ',
    'Clouds moved quickly over the cliffs towards the east. ',
    'The church clock struck nine and the streets grew busy. ',
    'Someone was painting the railings of the bridge green. ',
    'A cat slept in the window of the bookshop among the maps. ',
    'The road to the next village followed the river for a mile. ',
]


def pk_key_sentence(key):
    return f'The pass key is {key}. Remember it: {key} is the pass key. '


def passkey_example(rng, encode, max_tokens, with_answer_start=False):
    """Token ids of one passkey example (instruction, filler with the key at a random depth, question, answer),
    at most max_tokens long, with a random number of filler sentences; with_answer_start: also the index where the
    answer's tokens begin."""
    key = str(rng.randint(10000, 99999))
    n = rng.randint(0, 40)
    while True:
        at = rng.randint(0, n)
        parts = [PK_INSTRUCTION]
        for i in range(n + 1):
            if i == at:
                parts.append(pk_key_sentence(key))
            if i < n:
                parts.append(rng.choice(PK_FILLER))
        prompt = ''.join(parts) + PK_QUESTION
        ids = encode(prompt + ' ' + key + '.\n')
        if len(ids) <= max_tokens or n == 0:
            cut = max(0, len(ids) - max_tokens)
            ids = ids[cut:]
            return (ids, max(0, len(encode(prompt)) - cut)) if with_answer_start else ids
        n = n * 2 // 3


def batches(stream, ctx, batch, gen, passkey=None):
    """Random windows of ctx + 1 tokens and a loss mask over their targets; with passkey = [fraction, encode,
    bos_id, answers_only], that fraction of the windows ends in a passkey example (after a BOS) preceded by ordinary
    text. answers_only (the second phase): the mask keeps only the answers' tokens, so the model learns retrieval
    without fitting the training text further. The list is read at every batch, so the caller can switch phases."""
    n = stream.numel() - ctx - 1
    rng = random.Random(7)
    while True:
        starts = torch.randint(0, n, (batch,), generator=gen)
        rows, masks = [], []
        for s in starts.tolist():
            row = stream[s:s + ctx + 1]
            mask = torch.ones(ctx)
            if passkey and rng.random() < passkey[0]:
                ids, ans = passkey_example(rng, passkey[1], ctx, with_answer_start=True)
                ex = torch.tensor([passkey[2]] + ids, dtype=torch.long)
                row = torch.cat([row[:ctx + 1 - ex.numel()], ex])
                if passkey[3]:
                    mask = torch.zeros(ctx)
                    mask[ctx + 1 - ex.numel() + 1 + ans - 1:] = 1  # targets at row positions >= the answer's first
            elif passkey and passkey[3]:
                mask = torch.zeros(ctx)
            rows.append(row)
            masks.append(mask)
        yield torch.stack(rows), torch.stack(masks)


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


@torch.no_grad()
def passkey_accuracy(model, encode, ctx, device, n=32):
    """Teacher-forced passkey retrieval on fresh examples (seeded): the share whose answer tokens are all the
    model's greedy choices."""
    model.eval()
    rng = random.Random(99)
    ok = 0
    for _ in range(n):
        ids = passkey_example(rng, encode, ctx - 1)
        text_ids = ids
        # the answer is what follows the question: find the question's last token run from the end
        q_ids = encode(PK_QUESTION)
        start = None
        for i in range(len(text_ids) - len(q_ids), -1, -1):
            if text_ids[i:i + len(q_ids)] == q_ids:
                start = i + len(q_ids)
                break
        if start is None:
            continue
        end = len(text_ids) - len(encode('.\n')) if len(text_ids) > start + 1 else len(text_ids)
        x = torch.tensor([[1] + text_ids], device=device)
        pred = model(x).logits[0].argmax(-1)
        # logits at position p (of x) predict x[p + 1] = text_ids[p]
        ok += int(all(pred[p].item() == text_ids[p] for p in range(start, max(end, start + 1))))
    model.train()
    return ok / n


def torch_chunk_gated_delta_rule(q, k, v, g, beta, scale=None, initial_state=None, output_final_state=False,
                                 use_qk_l2norm_in_kernel=False, use_beta_sigmoid_in_kernel=False,
                                 allow_neg_eigval=False, use_gate_in_kernel=False, A_log=None, dt_bias=None,
                                 state_v_first=False, cu_seqlens=None, **_):
    """The gated delta rule in its chunked (UT transform) form in plain PyTorch, written here for training the demo
    GDN: fla 0.6's Triton backward refuses Hopper with the Triton the GPU machine has (fla issue #640). Same
    arguments as fla's chunk_gated_delta_rule for what fla's GatedDeltaNet layer passes; q, k [B, T, H, K],
    v [B, T, HV, V]."""
    assert cu_seqlens is None and initial_state is None
    dt = v.dtype
    q, k, v, g, beta = (x.float() for x in (q, k, v, g, beta))
    if use_qk_l2norm_in_kernel:
        q = q * torch.rsqrt((q * q).sum(-1, keepdim=True) + 1e-6)
        k = k * torch.rsqrt((k * k).sum(-1, keepdim=True) + 1e-6)
    if use_beta_sigmoid_in_kernel:
        beta = beta.sigmoid()
    if allow_neg_eigval:
        beta = beta * 2
    if use_gate_in_kernel:
        g = -A_log.float().exp() * torch.nn.functional.softplus(g + dt_bias.float())
    B, T, H, K = q.shape
    HV, V = v.shape[2], v.shape[3]
    if HV != H:
        q, k = q.repeat_interleave(HV // H, dim=2), k.repeat_interleave(HV // H, dim=2)
    scale = K ** -0.5 if scale is None else scale
    C = 64
    pad = (C - T % C) % C
    if pad:
        q, k, v = (torch.nn.functional.pad(x, (0, 0, 0, 0, 0, pad)) for x in (q, k, v))
        g, beta = (torch.nn.functional.pad(x, (0, 0, 0, pad)) for x in (g, beta))
    N = (T + pad) // C
    # [B, HV, N, C, d] and [B, HV, N, C]
    q, k, v = (x.reshape(B, N, C, HV, -1).permute(0, 3, 1, 2, 4) for x in (q, k, v))
    g, beta = (x.reshape(B, N, C, HV).permute(0, 3, 1, 2) for x in (g, beta))
    G = g.cumsum(-1)
    diff = G[..., :, None] - G[..., None, :]
    lower = torch.tril(torch.ones(C, C, dtype=torch.bool, device=q.device))
    strict = torch.tril(torch.ones(C, C, dtype=torch.bool, device=q.device), -1)
    ninf = torch.tensor(float('-inf'), device=q.device)
    A = beta[..., None] * (k @ k.transpose(-1, -2)) * torch.where(strict, diff, ninf).exp()
    eye = torch.eye(C, device=q.device)
    Tm = torch.linalg.solve_triangular(eye + A, eye.expand_as(A), upper=False, unitriangular=True)
    W = Tm @ (k * (beta * G.exp())[..., None])
    U = Tm @ (v * beta[..., None])
    P = (q @ k.transpose(-1, -2)) * torch.where(lower, diff, ninf).exp()
    S = q.new_zeros(B, HV, K, V)
    outs = []
    for n in range(N):
        vp = U[:, :, n] - W[:, :, n] @ S
        outs.append(scale * ((q[:, :, n] * G[:, :, n, :, None].exp()) @ S + P[:, :, n] @ vp))
        glast = G[:, :, n, -1]
        S = S * glast.exp()[..., None, None] + (k[:, :, n] * (glast[..., None] - G[:, :, n]).exp()[..., None]).transpose(-1, -2) @ vp
    o = torch.stack(outs, 2).permute(0, 2, 3, 1, 4).reshape(B, N * C, HV, V)[:, :T]
    final = (S.transpose(-1, -2) if state_v_first else S) if output_final_state else None
    return o.to(dt), final


def build(kind, vocab, ctx):
    if kind in ('llama', 'bytes'):
        from transformers import LlamaConfig, LlamaForCausalLM
        cfg = LlamaConfig(vocab_size=vocab, hidden_size=256, intermediate_size=704, num_hidden_layers=4,
                          num_attention_heads=8, num_key_value_heads=4, head_dim=32, max_position_embeddings=ctx,
                          rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True, bos_token_id=1,
                          eos_token_id=2)
        return LlamaForCausalLM(cfg)
    if kind == 'gdn':
        import fla.layers.gated_deltanet as fla_gdn_layer
        from fla.models import GatedDeltaNetConfig, GatedDeltaNetForCausalLM
        fla_gdn_layer.chunk_gated_delta_rule = torch_chunk_gated_delta_rule
        cfg = GatedDeltaNetConfig(vocab_size=vocab, hidden_size=256, num_hidden_layers=4, num_heads=2, head_dim=64,
                                  expand_v=2, hidden_ratio=4, max_position_embeddings=ctx, tie_word_embeddings=True,
                                  bos_token_id=1, eos_token_id=2, fuse_cross_entropy=False,
                                  fuse_linear_cross_entropy=False, fuse_norm=False, fuse_swiglu=False)
        return GatedDeltaNetForCausalLM(cfg)
    raise ValueError(kind)


def check_torch_gated_delta_rule(device):
    """Our PyTorch chunked form against fla's recurrent reference, before training with it."""
    from fla.ops.gated_delta_rule.naive import naive_recurrent_gated_delta_rule
    gen = torch.Generator(device='cpu').manual_seed(0)
    B, T, H, K, V = 2, 150, 2, 32, 48
    q, k = (torch.randn(B, T, H, K, generator=gen) for _ in range(2))
    v = torch.randn(B, T, H, V, generator=gen)
    a, b = torch.randn(B, T, H, generator=gen), torch.randn(B, T, H, generator=gen)
    A_log, dt_bias = torch.randn(H, generator=gen) * 0.5, torch.randn(H, generator=gen) * 0.5
    q, k, v, a, b, A_log, dt_bias = (x.to(device) for x in (q, k, v, a, b, A_log, dt_bias))
    ours, _ = torch_chunk_gated_delta_rule(q, k, v, a, b, use_qk_l2norm_in_kernel=True, use_beta_sigmoid_in_kernel=True,
                                           use_gate_in_kernel=True, A_log=A_log, dt_bias=dt_bias)
    g = -A_log.exp() * torch.nn.functional.softplus(a + dt_bias)
    qn = q * torch.rsqrt((q * q).sum(-1, keepdim=True) + 1e-6)
    kn = k * torch.rsqrt((k * k).sum(-1, keepdim=True) + 1e-6)
    ref, _ = naive_recurrent_gated_delta_rule(qn, kn, v, b.sigmoid(), g)
    err = (ours - ref).abs().max().item()
    print(f'torch chunked gated delta rule vs fla naive recurrent: max |diff| {err:.2e}', flush=True)
    if err > 1e-3:
        raise SystemExit('the PyTorch gated delta rule disagrees with fla; not training with it')


def train_one(kind, name, train_s, held_s, vocab, ctx, args, out_dir, tok_dir, encode):
    if kind == 'gdn':
        check_torch_gated_delta_rule(args.device)
    torch.manual_seed(1234)
    model = build(kind, vocab, ctx).to(args.device)
    params = sum(p.numel() for p in model.parameters())
    ppl0 = heldout_ppl(model, held_s, ctx, args.device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1)
    gen = torch.Generator().manual_seed(1)
    passkey = [args.passkey_fraction, encode, 1, False] if args.passkey_fraction else None
    it = batches(train_s, ctx, args.batch, gen, passkey)
    # Two phases: text and passkey examples mixed until the held-out perplexity stops improving (`patience`
    # evaluations in a row), then, from the best of those weights, passkey examples only with the loss on the
    # answers (the text is small and a longer first phase only memorises it).
    phase, best_lm, stale = 1, (float('inf'), None), 0
    # The text is small, so the model would start to memorise it: keep the weights with the best held-out
    # perplexity (measured every eval_every seconds). The clock starts after the first step (kernel compilation).
    best = (float('inf'), None, 0, (True, float('inf')))
    t0, step, next_eval = None, 0, 0.0
    budget = args.minutes * 60
    total = args.steps or 10 ** 9
    while step < total and (args.steps or t0 is None or time.time() - t0 < budget):
        if t0 is not None and not args.steps and time.time() - t0 >= next_eval:
            ppl = heldout_ppl(model, held_s, ctx, args.device)
            acc = passkey_accuracy(model, encode, ctx, args.device) if args.passkey_fraction else 1.0
            # the best held-out perplexity among the checkpoints that retrieve the passkey (acc >= 0.9) without
            # losing much of their language model (ppl within max_ppl_ratio of the best seen), else among all
            retrieves = acc >= 0.9 and ppl <= args.max_ppl_ratio * min(best_lm[0], ppl)
            key = (not retrieves, ppl)
            if best[1] is None or key < best[3]:
                best = (ppl, {k: v.detach().clone() for k, v in model.state_dict().items()}, step, key)
            if phase == 1 and passkey:
                if ppl < best_lm[0]:
                    best_lm, stale = (ppl, {k: v.detach().clone() for k, v in model.state_dict().items()}), 0
                else:
                    stale += 1
                if stale >= args.patience:
                    phase, passkey[0], passkey[3] = 2, 1.0, True
                    model.load_state_dict(best_lm[1])
                    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1)
                    print(f'{name} step {step}: phase 2 (passkey answers only) from the weights with held-out ppl '
                          f'{best_lm[0]:.2f}', flush=True)
            print(f'{name} step {step} held-out ppl {ppl:.2f} passkey {acc:.2f} (kept: step {best[2]}, '
                  f'ppl {best[0]:.2f}, passkey {"ok" if not best[3][0] else "no"})', flush=True)
            next_eval += args.eval_every
        frac = (min(1.0, (time.time() - t0) / budget) if t0 is not None else 0.0) if not args.steps else step / total
        lr = args.lr * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        if phase == 2:
            lr = args.lr * 0.25
        for g in opt.param_groups:
            g['lr'] = lr
        x, mask = next(it)
        x, mask = x.to(args.device), mask.to(args.device)
        with torch.autocast(device_type='cuda', dtype=torch.bfloat16, enabled=args.device == 'cuda'):
            logits = model(x[:, :-1]).logits
        nll = torch.nn.functional.cross_entropy(logits.float().reshape(-1, vocab), x[:, 1:].reshape(-1), reduction='none')
        loss = (nll * mask.reshape(-1)).sum() / mask.sum().clamp(min=1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if t0 is None:
            t0 = time.time()
            print(f'{name}: first step done ({params / 1e6:.2f} M parameters); training for {args.minutes} min', flush=True)
        if step % 500 == 0:
            print(f'{name} step {step} loss {loss.item():.3f} ({time.time() - t0:.0f} s)', flush=True)
    ppl = heldout_ppl(model, held_s, ctx, args.device)
    kept = step
    if best[1] is not None:
        model.load_state_dict(best[1])
        ppl, kept = best[0], best[2]
    acc = passkey_accuracy(model, encode, ctx, args.device) if args.passkey_fraction else None
    folder = os.path.join(out_dir, name)
    # bf16 on disk: half the size; lmscope computes in fp32 on the CPU and bf16 on the GPU either way
    model.to(torch.bfloat16).save_pretrained(folder, safe_serialization=True)
    for f in ('tokenizer.json', 'tokenizer_config.json'):
        if tok_dir and os.path.exists(os.path.join(tok_dir, f)):
            with open(os.path.join(tok_dir, f), 'rb') as src, open(os.path.join(folder, f), 'wb') as dst:
                dst.write(src.read())
    return {'model': name, 'family': kind, 'parameters': params, 'context': ctx, 'steps': step,
            'kept_step': kept, 'passkey_teacher_forced_accuracy': acc,
            'seconds': round(time.time() - (t0 or time.time()), 1), 'heldout_ppl': ppl, 'heldout_ppl_random_init': ppl0,
            'vocab_size': vocab, 'passkey_fraction': args.passkey_fraction}


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
    ap.add_argument('--passkey-fraction', type=float, default=0.4)
    ap.add_argument('--eval-every', type=float, default=15.0)
    ap.add_argument('--patience', type=int, default=3)
    ap.add_argument('--max-ppl-ratio', type=float, default=2.0,
                    help='a passkey-capable checkpoint is preferred only within this factor of the best perplexity')
    ap.add_argument('--tokenizer', help='a folder with tokenizer.json to reuse instead of training one')
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
        if args.tokenizer:
            from tokenizers import Tokenizer
            tok_dir = args.tokenizer
            tok = Tokenizer.from_file(os.path.join(tok_dir, 'tokenizer.json'))
        else:
            tok = train_tokenizer(train, args.vocab, tok_dir)
            write_tokenizer_config(tok_dir, '<s>', '</s>', BPE_CONTEXT)
        enc = lambda s: tok.encode(s).ids  # noqa: E731
        train_s, held_s = token_stream(train, enc, 1), token_stream(held, enc, 1)
        for kind in ('llama', 'gdn'):
            if kind in kinds:
                summary.append(train_one(kind, f'demo-{kind}', train_s, held_s, tok.get_vocab_size(), BPE_CONTEXT,
                                         args, args.out, tok_dir, enc))
    if 'bytes' in kinds:
        enc = lambda s: list(s.encode('utf-8'))  # noqa: E731
        train_s, held_s = token_stream(train, enc, 1), token_stream(held, enc, 1)
        summary.append(train_one('bytes', 'demo-bytes', train_s, held_s, 256, BYTE_CONTEXT, args, args.out, None, enc))
    json.dump({'text': os.path.basename(args.text), 'documents': len(docs), 'held_out_documents': n_held,
               'device': args.device, 'torch': torch.__version__, 'models': summary},
              open(os.path.join(args.out, 'summary.json'), 'w'), indent=2)
    print(json.dumps(summary, indent=2))


if __name__ == '__main__':
    sys.exit(main())
