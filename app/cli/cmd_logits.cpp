#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "lmscope/error.h"
#include "lmscope/model.h"
#include "lmscope/safetensors.h"

namespace lmscope::cli {

int cmd_logits(const Argv& argv) {
  Args args("logits", argv, {"model", "tokens", "tokens-file", "out", "backend", "rope", "dtype"}, {"hidden"});
  const auto ids = tokens_from_args(args);
  const std::string out = args.required("out");
  const Checkpoint ck = Checkpoint::open(args.required("model"));
  const auto model = load_model(ck, load_options_from_args(args));
  const auto& s = model->spec();
  std::vector<std::vector<float>> hidden;
  const auto logits = compute_logits(*model, ids, args.flag("hidden") ? &hidden : nullptr);
  const auto T = static_cast<std::int64_t>(ids.size());
  std::vector<TensorToWrite> tensors{tensor_f32("logits", {T, s.vocab_size}, logits)};
  if (args.flag("hidden")) {
    std::vector<float> flat;
    for (const auto& h : hidden) flat.insert(flat.end(), h.begin(), h.end());
    tensors.push_back(tensor_f32("hidden", {static_cast<std::int64_t>(hidden.size()), T, s.hidden_size}, flat));
  }
  std::vector<std::int64_t> ids64(ids.begin(), ids.end());
  tensors.push_back(tensor_i64("ids", {T}, ids64));
  write_safetensors(out, tensors, {{"model", ck.dir().string()}, {"backend", model->backend_name()}, {"rope", describe_rope(s.rope)}});
  std::fprintf(stderr, "wrote %s: logits [%lld, %lld]\n", out.c_str(), static_cast<long long>(T),
               static_cast<long long>(s.vocab_size));
  return 0;
}

}  // namespace lmscope::cli
