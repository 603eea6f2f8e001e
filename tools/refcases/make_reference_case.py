"""Reference cases the shared reference pack lacks, made the way ../shared/tools/make_refpack.py makes its cases
(tiny random-weight checkpoints, float32 outputs of transformers' own implementation, TF32 off).

  python3 make_reference_case.py bitnet OUTDIR
      transformers' BitNet (model_type "bitnet") with packed ternary weights: OUTDIR/hf-bitnet (quantization_config
      bitlinear, offline: U8 weights four to a byte plus weight_scale) and OUTDIR/hf-bitnet-online (autobitlinear,
      online: float weights quantised on the fly), each with reference.safetensors and case.json.
  python3 make_reference_case.py eager CASE_DIR OUT.safetensors
      the outputs of an existing case recomputed with attn_implementation="eager" (same ids). transformers' default
      SDPA attention ignores Gemma 2's attention soft-cap; eager applies it, as the model defines.

Runs on a CPU (torch from PyPI) or a GPU; needs transformers >= 5.
"""
import json, math, os, sys

import torch
from safetensors.torch import load_file, save_file

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = "cuda" if torch.cuda.is_available() else "cpu"
SEED = 1234
V, H, NL = 256, 128, 2


def outputs(model, ids_a, ids_b):
    """logits_a, hidden_a, logits_b and greedy_b (by full re-evaluation, no cache), as the shared pack has them."""
    ref = {"ids_a": ids_a[0].clone(), "ids_b": ids_b[0].clone()}
    with torch.no_grad():
        oa = model(ids_a.to(dev), output_hidden_states=True)
        ref["logits_a"] = oa.logits[0].float().cpu().contiguous()
        if oa.hidden_states is not None:
            ref["hidden_a"] = torch.stack([h[0].float() for h in oa.hidden_states]).cpu().contiguous()
        ref["logits_b"] = model(ids_b.to(dev)).logits[0].float().cpu().contiguous()
        seq = ids_b.to(dev)
        for _ in range(16):
            seq = torch.cat([seq, model(seq).logits[:, -1].argmax(-1, keepdim=True)], 1)
        ref["greedy_b"] = seq[0, ids_b.shape[1]:].cpu().contiguous()
    return ref


def mean_nll(ref):
    lp = torch.log_softmax(ref["logits_a"].double(), -1)
    return -lp[:-1].gather(1, ref["ids_a"][1:, None]).mean().item()


def perturb(model, seed):
    """Random weights on the scale of a trained model's (as the shared pack's cases)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p.shape[1]))
                if "embed" in n:
                    p.mul_(math.sqrt(p.shape[1]) * 0.2)
            elif p.dim() == 1 and "norm" in n:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))


def pack_ternary(t):
    """transformers' 2-bit layout: row i·R + r of the [4R, C] ternary matrix in bits 2i of packed row r, as value + 1."""
    rows = t.shape[0] // 4
    u = (t + 1).to(torch.uint8)
    packed = torch.zeros((rows, t.shape[1]), dtype=torch.uint8)
    for i in range(4):
        packed |= u[i * rows:(i + 1) * rows] << (2 * i)
    return packed


def bitnet_case(out_dir, name, linear_class, mode):
    from transformers import AutoModelForCausalLM, BitNetConfig, BitNetForCausalLM
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(SEED)
    quant = {"quant_method": "bitnet", "linear_class": linear_class, "quantization_mode": mode}
    kw = dict(vocab_size=V, hidden_size=H, intermediate_size=2 * H + 64, num_hidden_layers=NL, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-5, tie_word_embeddings=False,
              bos_token_id=1, eos_token_id=2)
    plain = BitNetForCausalLM(BitNetConfig(**kw)).float()  # float linears: the weights before quantisation
    perturb(plain, SEED + 5)
    sd = {k: v.detach().float().contiguous() for k, v in plain.state_dict().items()}
    if mode == "offline":
        # absmean ternary quantisation per matrix (what BitNet b1.58 trains with), stored packed with its scale;
        # BitLinear divides the product by weight_scale, AutoBitLinear multiplies it
        for k in [k for k in sd if k.endswith("_proj.weight")]:
            w = sd[k]
            s = 1.0 / w.abs().mean().clamp(min=1e-5)
            sd[k] = pack_ternary((w * s).round().clamp(-1, 1))
            scale = s if linear_class == "bitlinear" else 1.0 / s
            sd[k[: -len("weight")] + "weight_scale"] = torch.tensor([float(scale)], dtype=torch.float32)
    cfg = BitNetConfig(**kw, quantization_config=quant)
    cfg.architectures = ["BitNetForCausalLM"]
    cfg.save_pretrained(d)
    save_file(sd, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).to(dev).eval()
    g = torch.Generator().manual_seed(SEED + 7)
    ids_a = torch.randint(0, V, (1, 200), generator=g)
    ids_b = torch.randint(0, V, (1, 37), generator=g)
    ref = outputs(model, ids_a, ids_b)
    save_file(ref, os.path.join(d, "reference.safetensors"))
    n_params = sum(v.numel() * (4 if v.dtype == torch.uint8 else 1) for k, v in sd.items() if not k.endswith("weight_scale"))
    info = {"family_lib": "hf", "model_type": "bitnet", "n_params": n_params, "mean_nll_a": mean_nll(ref),
            "quantization_config": quant, "transformers": __import__("transformers").__version__,
            "torch": torch.__version__, "device": dev}
    json.dump(info, open(os.path.join(d, "case.json"), "w"), indent=1)
    print(f"{name}: params={n_params} nll_a={info['mean_nll_a']:.4f}")


def eager_reference(case_dir, out_file):
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(case_dir, dtype=torch.float32, attn_implementation="eager").to(dev).eval()
    ids = load_file(os.path.join(case_dir, "reference.safetensors"))
    ref = outputs(model, ids["ids_a"][None], ids["ids_b"][None])
    ref.pop("hidden_a", None)
    save_file(ref, out_file, metadata={"attn_implementation": "eager",
                                        "transformers": __import__("transformers").__version__, "torch": torch.__version__})
    print(f"{out_file}: mean_nll_a={mean_nll(ref):.6f}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "bitnet":
        bitnet_case(sys.argv[2], "hf-bitnet", "bitlinear", "offline")
        bitnet_case(sys.argv[2], "hf-bitnet-online", "autobitlinear", "online")
    elif len(sys.argv) == 4 and sys.argv[1] == "eager":
        eager_reference(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
