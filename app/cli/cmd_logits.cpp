#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "lmscope/error.h"
#include "lmscope/input_file.h"
#include "lmscope/json_input.h"
#include "lmscope/output_file.h"
#include "lmscope/model.h"
#include "lmscope/safetensors.h"

namespace lmscope::cli {

namespace {

// --batch-file: a JSON array of token lists, each scored from an empty state; writes logits [N, Lmax, V] (rows past
// a sequence's length are zero) and lengths [N]. Lets a script check many windows with one model load.
int logits_batch(const Args& args, const std::string& out) {
  const auto path = args.required("batch-file");
  const auto j = parse_json_input(read_input_file(path, "the batch file", kMaxTextFileBytes), path);
  if (!j.is_array() || j.empty()) throw BadInput(args.required("batch-file") + ": expected a JSON array of token lists");
  std::vector<std::vector<std::int32_t>> seqs;
  std::size_t Lmax = 0;
  for (std::size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_array() || j[i].empty())
      throw BadInput(args.required("batch-file") + ": element " + std::to_string(i) + " is not a non-empty list of ids");
    std::vector<std::int32_t> ids;
    for (const auto& v : j[i]) {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > INT32_MAX)
        throw BadInput(args.required("batch-file") + ": element " + std::to_string(i) + " holds a non-id " + v.dump());
      ids.push_back(static_cast<std::int32_t>(v.get<std::int64_t>()));
    }
    Lmax = std::max(Lmax, ids.size());
    seqs.push_back(std::move(ids));
  }
  const Checkpoint ck = open_checkpoint(args);
  const auto model = load_model(ck, load_options_from_args(args));
  const auto V = static_cast<std::size_t>(model->spec().vocab_size);
  std::vector<float> all(seqs.size() * Lmax * V, 0.0f);
  std::vector<std::int64_t> lengths;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    const auto logits = compute_logits(*model, seqs[i]);
    std::copy(logits.begin(), logits.end(), all.begin() + static_cast<std::ptrdiff_t>(i * Lmax * V));
    lengths.push_back(static_cast<std::int64_t>(seqs[i].size()));
  }
  const auto N = static_cast<std::int64_t>(seqs.size());
  write_safetensors(out,
                    {tensor_f32("logits", {N, static_cast<std::int64_t>(Lmax), static_cast<std::int64_t>(V)}, all),
                     tensor_i64("lengths", {N}, lengths)},
                    {{"model", ck.dir().string()}, {"backend", model->backend_name()}});
  std::fprintf(stderr, "wrote %s: logits [%lld, %zu, %zu]\n", out.c_str(), static_cast<long long>(N), Lmax, V);
  return 0;
}

}  // namespace

int cmd_logits(const Argv& argv) {
  Args args("logits", argv, {"model", "tokens", "tokens-file", "batch-file", "out", "backend", "rope", "dtype", "force-family"},
            {"hidden", "allow-nonfinite"});
  const std::string out = args.required("out");
  OutputFile::check_target(out, "--out");  // refused before the model loads when it cannot be written
  if (args.has("batch-file")) {
    if (args.has("tokens") || args.has("tokens-file") || args.flag("hidden"))
      throw BadInput("logits: --batch-file replaces --tokens/--tokens-file and has no --hidden");
    return logits_batch(args, out);
  }
  const auto ids = tokens_from_args(args);
  const Checkpoint ck = open_checkpoint(args);
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
