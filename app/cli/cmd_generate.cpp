// generate: greedy continuation of a prompt. Token ids in, ids out (--tokens / --tokens-file), or text in through
// the checkpoint's tokenizer and text out, streamed as it is decoded (--prompt / --prompt-file; --ids prints ids).
#include <algorithm>
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "lmscope/error.h"
#include "lmscope/input_file.h"
#include "lmscope/json_input.h"
#include "lmscope/model.h"

namespace lmscope::cli {

// Tokens one generate call may ask for (each appends to the KV cache).
constexpr std::int64_t kMaxNewTokens = 1 << 16;
constexpr std::int64_t kDefaultNewTokensForText = 64;

int cmd_generate(const Argv& argv) {
  Args args("generate", argv,
            {"model", "tokens", "tokens-file", "prompt", "prompt-file", "tokenizer", "stop", "max-new", "backend", "rope",
             "dtype", "force-family"},
            {"stop-at-eos", "ids", "allow-nonfinite"});
  const int inputs = args.has("tokens") + args.has("tokens-file") + args.has("prompt") + args.has("prompt-file");
  if (inputs != 1)
    throw BadInput("give exactly one of --prompt TEXT, --prompt-file FILE, --tokens 1,2,3 and --tokens-file ids.json");
  const bool text_in = args.has("prompt") || args.has("prompt-file");
  if (!text_in && (args.has("stop") || args.has("tokenizer")))
    throw BadInput("--stop and --tokenizer go with a text prompt (--prompt or --prompt-file)");
  if (!text_in && !args.has("max-new")) throw BadInput("option --max-new N (N >= 0) is required");
  const std::int64_t max_new = args.integer_in("max-new", kDefaultNewTokensForText, 0, kMaxNewTokens);

  std::unique_ptr<Tokenizer> tokenizer;
  std::vector<std::int32_t> ids;
  if (text_in) {
    tokenizer = tokenizer_from_args(args);
    const std::string text = args.has("prompt") ? args.required("prompt")
                                                : read_input_file(args.required("prompt-file"), "the prompt file", kMaxTextFileBytes);
    ids = tokenizer->encode(text);  // the tokenizer's own BOS rule, as transformers encodes a prompt
    if (ids.empty()) throw BadInput("the prompt is empty");
  } else {
    ids = tokens_from_args(args);
  }
  const Checkpoint ck = open_checkpoint(args);
  const auto model = load_model(ck, load_options_from_args(args));
  for (auto id : ids)
    if (id < 0 || id >= ck.spec().vocab_size)
      throw BadInput("token id " + std::to_string(id) + " is outside the model's vocabulary (0.." +
                     std::to_string(ck.spec().vocab_size - 1) + ")");

  GreedyOptions o;
  // Text generation stops at EOS as transformers' generate does; id generation only with --stop-at-eos.
  if (text_in || args.flag("stop-at-eos")) {
    for (auto e : ck.spec().eos_token_ids) o.stop_ids.push_back(static_cast<std::int32_t>(e));
    if (tokenizer && tokenizer->eos_id()) o.stop_ids.push_back(*tokenizer->eos_id());
  }
  const std::string stop = args.get("stop", "");
  const bool stream = text_in && !args.flag("ids");
  // The ids whose text is shown: a final EOS is not.
  auto visible = [&](std::span<const std::int32_t> ids) {
    const bool eos = !ids.empty() && std::find(o.stop_ids.begin(), o.stop_ids.end(), ids.back()) != o.stop_ids.end();
    return eos ? ids.first(ids.size() - 1) : ids;
  };
  std::string shown;  // text printed so far (streaming), to cut at a stop string that spans tokens
  if (text_in) {
    // Printed as decoded, held back while it could still be the start of the stop string.
    o.stop = [&](std::size_t, std::span<const std::int32_t> generated) {
      const std::string text = tokenizer->decode(visible(generated));
      const auto cut = stop.empty() ? std::string::npos : text.find(stop);
      if (stream) {
        std::size_t ready = cut != std::string::npos ? cut : complete_utf8_prefix(text);
        if (cut == std::string::npos && !stop.empty())  // a partial stop string at the end is not shown yet
          for (std::size_t k = std::min(stop.size() - 1, ready); k > 0; --k)
            if (text.compare(ready - k, k, stop, 0, k) == 0) {
              ready -= k;
              break;
            }
        if (ready > shown.size()) {
          std::fwrite(text.data() + shown.size(), 1, ready - shown.size(), stdout);
          std::fflush(stdout);
          shown.assign(text, 0, ready);
        }
      }
      return cut != std::string::npos;
    };
  }
  const std::vector<GreedyRequest> request{{ids, max_new}};
  auto out = generate_greedy_batch(*model, request, o).front();

  if (!stream) {
    std::printf("%s\n", ids_json(out).c_str());
    return 0;
  }
  // What the last step held back (an incomplete character, a partial stop string that never completed).
  std::string text = tokenizer->decode(visible(out));
  if (!stop.empty() && text.find(stop) != std::string::npos) text.resize(text.find(stop));
  text = valid_utf8(text);
  if (text.size() > shown.size() && text.compare(0, shown.size(), shown) == 0) std::fputs(text.c_str() + shown.size(), stdout);
  std::fputs("\n", stdout);
  return 0;
}

}  // namespace lmscope::cli
