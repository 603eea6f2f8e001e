#include "models/output_head.h"

#include "lmscope/error.h"
#include "models/kept_logits.h"

namespace lmscope {

void check_targets(const AppendOutput& out, std::size_t appended) {
  if (!out.targets.empty() && out.targets.size() != appended)
    throw BadInput("scoring needs one target per appended token: got " + std::to_string(out.targets.size()) + " targets for " +
                   std::to_string(appended) + " tokens");
  if (!out.targets.empty() && (out.target_logprobs == nullptr || out.target_is_greedy == nullptr))
    throw InternalError("targets given without target_logprobs/target_is_greedy outputs");
}

void emit_outputs(Backend& b, const OutputHead& head, const Tensor& x, const AppendOutput& out) {
  const std::int64_t n = x.rows(), H = x.cols(), V = head.lm_head.rows();
  const bool want_logits = out.logits != nullptr, want_scores = !out.targets.empty(), keep = out.kept_logits != nullptr;
  if (!want_logits && !want_scores && !keep && out.hidden == nullptr && out.next_token == nullptr) return;
  // Only the last row is needed when that is all the caller asks for.
  const bool all_rows = out.hidden != nullptr || want_scores || keep || (want_logits && !out.last_only);
  const Tensor rows = all_rows ? x : x.slice_rows(n - 1, 1);
  Tensor normed = b.alloc(b.activation_dtype(), {rows.rows(), H});
  apply_norm(b, head.norm_kind, head.final_norm, head.norm_eps, rows, normed);
  if (out.hidden) {
    out.hidden->emplace_back(static_cast<std::size_t>(n * H));
    b.download(normed, out.hidden->back());
  }
  // Full float32 logits of some rows (soft-capped as the model defines them).
  auto logits_of = [&](const Tensor& h) {
    Tensor logits = b.alloc(DType::F32, {h.rows(), V});
    b.linear(h, head.lm_head, nullptr, logits);
    if (head.logit_softcap > 0) b.softcap(logits, head.logit_softcap);
    return logits;
  };
  if (want_logits) {
    const Tensor logits = logits_of(out.last_only ? normed.slice_rows(normed.rows() - 1, 1) : normed);
    out.logits->resize(static_cast<std::size_t>(logits.numel()));
    b.download(logits, *out.logits);
  }
  if (keep) *out.kept_logits = std::make_shared<KeptLogits>(b, logits_of(normed));
  if (want_scores) {
    out.target_logprobs->assign(static_cast<std::size_t>(n), 0.0);
    out.target_is_greedy->assign(static_cast<std::size_t>(n), 0);
    b.token_logprobs(normed, head.lm_head, out.targets, *out.target_logprobs, *out.target_is_greedy, head.logit_softcap);
  }
  if (out.next_token) b.token_argmax(normed.slice_rows(normed.rows() - 1, 1), head.lm_head, head.logit_softcap, {out.next_token, 1});
}

}  // namespace lmscope
