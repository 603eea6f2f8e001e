// Llama-style decoder: pre-norm blocks of grouped-query softmax attention with RoPE and a SwiGLU MLP.
// Two checkpoint layouts share it: transformers' LlamaForCausalLM and flash-linear-attention's `transformer`
// (Transformer++). They differ only in tensor names and config field names.
#include <cmath>
#include <string>

#include "lmscope/error.h"
#include "models/family.h"
#include "models/output_head.h"
#include "models/rope_tables.h"

namespace lmscope {
namespace {

// Tensor names of one layout.
struct DecoderNames {
  std::string embed, final_norm, lm_head;
  std::string layer_prefix;  // followed by the layer index and '.'
  std::string attn_norm, q, k, v, o, mlp_norm, gate, up, down;
};

const DecoderNames kTransformersNames{"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight", "model.layers.",
                                      "input_layernorm.weight", "self_attn.q_proj", "self_attn.k_proj",
                                      "self_attn.v_proj", "self_attn.o_proj", "post_attention_layernorm.weight",
                                      "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
const DecoderNames kFlaNames{"model.embeddings.weight", "model.norm.weight", "lm_head.weight", "model.layers.",
                             "attn_norm.weight", "attn.q_proj", "attn.k_proj", "attn.v_proj", "attn.o_proj",
                             "mlp_norm.weight", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};

const DecoderNames& names_for(const ModelSpec& s) { return s.layout == "fla" ? kFlaNames : kTransformersNames; }

std::vector<ExpectedTensor> decoder_tensors(const ModelSpec& s) {
  const auto& n = names_for(s);
  const std::int64_t H = s.hidden_size, qd = s.num_heads * s.head_dim, kvd = s.num_kv_heads * s.head_dim,
                     I = s.intermediate_size;
  std::vector<ExpectedTensor> t{{n.embed, {s.vocab_size, H}}};
  for (std::int64_t l = 0; l < s.num_layers; ++l) {
    const std::string p = n.layer_prefix + std::to_string(l) + ".";
    t.push_back({p + n.attn_norm, {H}});
    t.push_back({p + n.q + ".weight", {qd, H}});
    t.push_back({p + n.k + ".weight", {kvd, H}});
    t.push_back({p + n.v + ".weight", {kvd, H}});
    if (s.attention_bias) {
      t.push_back({p + n.q + ".bias", {qd}});
      t.push_back({p + n.k + ".bias", {kvd}});
      t.push_back({p + n.v + ".bias", {kvd}});
    }
    t.push_back({p + n.o + ".weight", {H, qd}});
    t.push_back({p + n.mlp_norm, {H}});
    t.push_back({p + n.gate + ".weight", {I, H}});
    t.push_back({p + n.up + ".weight", {I, H}});
    t.push_back({p + n.down + ".weight", {H, I}});
    if (s.mlp_bias) {
      t.push_back({p + n.gate + ".bias", {I}});
      t.push_back({p + n.up + ".bias", {I}});
      t.push_back({p + n.down + ".bias", {H}});
    }
  }
  t.push_back({n.final_norm, {H}});
  if (!s.tie_word_embeddings) t.push_back({n.lm_head, {s.vocab_size, H}});
  return t;
}

void check_heads(const ConfigFields& cfg, const ModelSpec& s, const std::string& heads_key, const std::string& kv_key) {
  if (s.num_heads % s.num_kv_heads != 0)
    cfg.fail(kv_key, "a divisor of " + heads_key + " (" + std::to_string(s.num_heads) + ")");
}

void parse_llama(const ConfigFields& cfg, ModelSpec& s) {
  s.family = "llama";
  s.layout = "transformers";
  s.vocab_size = cfg.positive_int("vocab_size");
  s.hidden_size = cfg.positive_int("hidden_size");
  s.num_layers = cfg.positive_int("num_hidden_layers");
  s.num_heads = cfg.positive_int("num_attention_heads");
  s.num_kv_heads = cfg.positive_int("num_key_value_heads", s.num_heads);
  check_heads(cfg, s, "num_attention_heads", "num_key_value_heads");
  if (!cfg.has("head_dim") && s.hidden_size % s.num_heads != 0)
    cfg.fail("head_dim", "a value, since hidden_size is not a multiple of num_attention_heads");
  s.head_dim = cfg.positive_int("head_dim", s.hidden_size / s.num_heads);
  s.intermediate_size = cfg.positive_int("intermediate_size");
  s.norm_eps = cfg.number("rms_norm_eps", 1e-6);
  s.tie_word_embeddings = cfg.boolean("tie_word_embeddings", false);
  s.attention_bias = cfg.boolean("attention_bias", false);
  s.mlp_bias = cfg.boolean("mlp_bias", false);
  const std::string act = cfg.string("hidden_act", "silu");
  if (act != "silu" && act != "swish") cfg.fail("hidden_act", "\"silu\" (the only activation implemented for llama)");
  if (cfg.positive_int("pretraining_tp", 1) != 1) cfg.fail("pretraining_tp", "1");
  s.max_position_embeddings = cfg.positive_int("max_position_embeddings", 2048);
  s.rope = parse_rope_config(cfg, s.max_position_embeddings);
  validate_rope(s.rope, s.head_dim);
}

void parse_fla_transformer(const ConfigFields& cfg, ModelSpec& s) {
  s.family = "llama";
  s.layout = "fla";
  s.vocab_size = cfg.positive_int("vocab_size");
  s.hidden_size = cfg.positive_int("hidden_size");
  s.num_layers = cfg.positive_int("num_hidden_layers");
  s.num_heads = cfg.positive_int("num_heads");
  s.num_kv_heads = cfg.positive_int("num_kv_heads", s.num_heads);
  check_heads(cfg, s, "num_heads", "num_kv_heads");
  if (s.hidden_size % s.num_heads != 0) cfg.fail("num_heads", "a divisor of hidden_size");
  s.head_dim = s.hidden_size / s.num_heads;
  if (cfg.has("intermediate_size")) {
    s.intermediate_size = cfg.positive_int("intermediate_size");
  } else {
    // fla's GatedMLP: 2/3 of hidden * hidden_ratio, rounded up to a multiple of 256
    const std::int64_t ratio = cfg.positive_int("hidden_ratio", 4);
    const std::int64_t i = s.hidden_size * ratio * 2 / 3;
    s.intermediate_size = 256 * ((i + 255) / 256);
  }
  s.norm_eps = cfg.number("norm_eps", 1e-6);
  s.tie_word_embeddings = cfg.boolean("tie_word_embeddings", false);
  s.attention_bias = cfg.boolean("qkv_bias", false);
  if (cfg.boolean("qk_norm", false)) cfg.fail("qk_norm", "false (query/key norm is not implemented yet)");
  if (cfg.boolean("use_l2warp", false)) cfg.fail("use_l2warp", "false (not implemented)");
  if (cfg.has("attnres_block_size")) cfg.fail("attnres_block_size", "null (not implemented)");
  if (!cfg.boolean("elementwise_affine", true)) cfg.fail("elementwise_affine", "true (norms without weights are not implemented)");
  const std::string act = cfg.string("hidden_act", "swish");
  if (act != "silu" && act != "swish") cfg.fail("hidden_act", "\"swish\"");
  if (cfg.has("window_size")) s.window_size = cfg.positive_int("window_size");
  s.max_position_embeddings = cfg.positive_int("max_position_embeddings", 2048);
  s.rope = parse_rope_config(cfg, s.max_position_embeddings);
  validate_rope(s.rope, s.head_dim);
}

// Weights of one block on the backend.
struct DecoderLayer {
  Tensor attn_norm, wq, wk, wv, wo, bq, bk, bv, mlp_norm, wgate, wup, wdown, bgate, bup, bdown;
  bool has_qkv_bias = false, has_mlp_bias = false;
};

class DecoderModel;

class DecoderSequence final : public Sequence {
 public:
  explicit DecoderSequence(const DecoderModel& m) : m_(m) {}
  void append(std::span<const std::int32_t> tokens, const AppendOutput& out) override;
  std::int64_t length() const override { return static_cast<std::int64_t>(history_.size()); }
  void reset() override {
    history_.clear();
    cached_ = 0;
  }

 private:
  void ensure_capacity(std::int64_t n);
  // Runs tokens at positions [cached_, cached_ + n) and writes logits for rows >= first_logit_row.
  void forward(std::span<const std::int32_t> tokens, std::int64_t first_logit_row, const AppendOutput& out);

  const DecoderModel& m_;
  std::vector<std::int32_t> history_;
  std::int64_t cached_ = 0;  // rows of the KV cache that hold history_
  std::int64_t capacity_ = 0;
  std::vector<Tensor> kcache_, vcache_;
  RopeTables rope_;
};

class DecoderModel final : public Model {
 public:
  DecoderModel(const Checkpoint& ck, std::shared_ptr<Backend> backend, const LoadOptions& opts)
      : spec_(ck.spec()), backend_(std::move(backend)) {
    if (!opts.rope_override.empty()) {
      spec_.rope = apply_rope_override(spec_.rope, opts.rope_override);
      validate_rope(spec_.rope, spec_.head_dim);
    }
    const auto& n = names_for(spec_);
    Backend& b = *backend_;
    embed_ = b.weight(ck.tensor(n.embed));
    final_norm_ = b.weight(ck.tensor(n.final_norm));
    lm_head_ = spec_.tie_word_embeddings ? embed_ : b.weight(ck.tensor(n.lm_head));
    for (std::int64_t l = 0; l < spec_.num_layers; ++l) {
      const std::string p = n.layer_prefix + std::to_string(l) + ".";
      DecoderLayer L;
      L.attn_norm = b.weight(ck.tensor(p + n.attn_norm));
      L.wq = b.weight(ck.tensor(p + n.q + ".weight"));
      L.wk = b.weight(ck.tensor(p + n.k + ".weight"));
      L.wv = b.weight(ck.tensor(p + n.v + ".weight"));
      L.wo = b.weight(ck.tensor(p + n.o + ".weight"));
      if (spec_.attention_bias) {
        L.has_qkv_bias = true;
        L.bq = b.weight(ck.tensor(p + n.q + ".bias"));
        L.bk = b.weight(ck.tensor(p + n.k + ".bias"));
        L.bv = b.weight(ck.tensor(p + n.v + ".bias"));
      }
      L.mlp_norm = b.weight(ck.tensor(p + n.mlp_norm));
      L.wgate = b.weight(ck.tensor(p + n.gate + ".weight"));
      L.wup = b.weight(ck.tensor(p + n.up + ".weight"));
      L.wdown = b.weight(ck.tensor(p + n.down + ".weight"));
      if (spec_.mlp_bias) {
        L.has_mlp_bias = true;
        L.bgate = b.weight(ck.tensor(p + n.gate + ".bias"));
        L.bup = b.weight(ck.tensor(p + n.up + ".bias"));
        L.bdown = b.weight(ck.tensor(p + n.down + ".bias"));
      }
      layers_.push_back(std::move(L));
    }
  }

  const ModelSpec& spec() const override { return spec_; }
  std::string backend_name() const override { return backend_->name(); }
  std::unique_ptr<Sequence> new_sequence() const override { return std::make_unique<DecoderSequence>(*this); }

  ModelSpec spec_;
  std::shared_ptr<Backend> backend_;
  Tensor embed_, final_norm_, lm_head_;
  std::vector<DecoderLayer> layers_;
};

void DecoderSequence::ensure_capacity(std::int64_t n) {
  if (n <= capacity_) return;
  Backend& b = *m_.backend_;
  const auto& s = m_.spec_;
  std::int64_t cap = std::max<std::int64_t>(capacity_ * 2, 256);
  while (cap < n) cap *= 2;
  const std::int64_t kvd = s.num_kv_heads * s.head_dim;
  for (std::size_t l = 0; l < static_cast<std::size_t>(s.num_layers); ++l) {
    Tensor k = b.alloc(DType::F32, {cap, kvd}), v = b.alloc(DType::F32, {cap, kvd});
    if (cached_ > 0) {
      b.copy_rows(kcache_[l].slice_rows(0, cached_), k, 0);
      b.copy_rows(vcache_[l].slice_rows(0, cached_), v, 0);
    }
    if (kcache_.size() <= l) {
      kcache_.push_back(k);
      vcache_.push_back(v);
    } else {
      kcache_[l] = k;
      vcache_[l] = v;
    }
  }
  capacity_ = cap;
}

void DecoderSequence::append(std::span<const std::int32_t> tokens, const AppendOutput& out) {
  const auto& s = m_.spec_;
  for (std::size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= s.vocab_size)
      throw BadInput("token id " + std::to_string(tokens[i]) + " at position " + std::to_string(length() + i) +
                     " is outside the vocabulary [0, " + std::to_string(s.vocab_size) + ")");
  check_targets(out, tokens.size());
  if (tokens.empty()) {
    if (out.logits) out.logits->clear();
    return;
  }
  const std::int64_t old_len = length();
  history_.insert(history_.end(), tokens.begin(), tokens.end());
  const std::int64_t new_len = length();
  ensure_capacity(new_len);
  // RoPE for the sequence's current length. Dynamic NTK and LongRoPE change with the length; the reference
  // (re-running the whole sequence) then rotates every key with the new frequencies, so when they change the
  // cache is rebuilt from the token history instead of mixing rotations.
  const RopeFrequencies freq = rope_frequencies(s.rope, s.head_dim, new_len);
  const bool rope_changed = !(rope_.freq == freq);
  if (rope_changed || rope_.positions < capacity_) rope_ = make_rope_tables(*m_.backend_, freq, capacity_);
  if (rope_changed && old_len > 0) {
    cached_ = 0;
    forward(history_, old_len, out);
  } else {
    forward(tokens, 0, out);
  }
}

void DecoderSequence::forward(std::span<const std::int32_t> tokens, std::int64_t first_logit_row, const AppendOutput& out) {
  Backend& b = *m_.backend_;
  const auto& s = m_.spec_;
  const std::int64_t T = static_cast<std::int64_t>(tokens.size()), H = s.hidden_size, hd = s.head_dim;
  const std::int64_t qd = s.num_heads * hd, kvd = s.num_kv_heads * hd, I = s.intermediate_size;
  const std::int64_t pos0 = cached_;

  Tensor x = b.alloc(DType::F32, {T, H});
  Tensor h = b.alloc(DType::F32, {T, H});
  Tensor q = b.alloc(DType::F32, {T, qd}), k = b.alloc(DType::F32, {T, kvd}), v = b.alloc(DType::F32, {T, kvd});
  Tensor att = b.alloc(DType::F32, {T, qd});
  Tensor o = b.alloc(DType::F32, {T, H});
  Tensor gate = b.alloc(DType::F32, {T, I}), up = b.alloc(DType::F32, {T, I});

  const std::int64_t out_rows = T - first_logit_row;
  auto capture = [&](const Tensor& t) {
    if (!out.hidden) return;
    std::vector<float> all(static_cast<std::size_t>(T * H));
    b.download(t, all);
    out.hidden->emplace_back(all.begin() + first_logit_row * H, all.end());
  };
  if (out.hidden) out.hidden->clear();

  b.embed(m_.embed_, tokens, x);
  capture(x);
  AttentionShape as{s.num_heads, s.num_kv_heads, hd, pos0, pos0 + T, s.window_size,
                    static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)))};
  for (std::size_t l = 0; l < m_.layers_.size(); ++l) {
    const DecoderLayer& L = m_.layers_[l];
    b.rmsnorm(x, L.attn_norm, static_cast<float>(s.norm_eps), h);
    b.linear(h, L.wq, L.has_qkv_bias ? &L.bq : nullptr, q);
    b.linear(h, L.wk, L.has_qkv_bias ? &L.bk : nullptr, k);
    b.linear(h, L.wv, L.has_qkv_bias ? &L.bv : nullptr, v);
    b.rope(q, s.num_heads, hd, rope_.cos, rope_.sin, pos0);
    b.rope(k, s.num_kv_heads, hd, rope_.cos, rope_.sin, pos0);
    b.copy_rows(k, kcache_[l], pos0);
    b.copy_rows(v, vcache_[l], pos0);
    b.attention(q, kcache_[l], vcache_[l], as, att);
    b.linear(att, L.wo, nullptr, o);
    b.add(x, o);
    b.rmsnorm(x, L.mlp_norm, static_cast<float>(s.norm_eps), h);
    b.linear(h, L.wgate, L.has_mlp_bias ? &L.bgate : nullptr, gate);
    b.linear(h, L.wup, L.has_mlp_bias ? &L.bup : nullptr, up);
    b.swiglu(gate, up, gate);
    b.linear(gate, L.wdown, L.has_mlp_bias ? &L.bdown : nullptr, o);
    b.add(x, o);
    if (l + 1 < m_.layers_.size()) capture(x);
  }
  cached_ = pos0 + T;
  emit_outputs(b, OutputHead{m_.final_norm_, static_cast<float>(s.norm_eps), m_.lm_head_}, x.slice_rows(first_logit_row, out_rows),
               out);
}

Family make_family(std::string model_type, std::string library,
                   std::function<void(const ConfigFields&, ModelSpec&)> parse) {
  return Family{"llama", std::move(model_type), std::move(library), std::move(parse), decoder_tensors,
                [](const Checkpoint& ck, std::shared_ptr<Backend> b, const LoadOptions& o) -> std::unique_ptr<Model> {
                  return std::make_unique<DecoderModel>(ck, std::move(b), o);
                }};
}

}  // namespace

Family llama_family() { return make_family("llama", "transformers", parse_llama); }
Family fla_transformer_family() { return make_family("transformer", "fla", parse_fla_transformer); }

}  // namespace lmscope
