#include "eval/char_continuation.h"

#include <algorithm>
#include <chrono>

#include "eval/utf8_chars.h"
#include "lmscope/error.h"
#include "lmscope/model.h"

namespace lmscope::eval {
namespace {

std::string as_bytes(std::span<const std::int32_t> ids) {
  std::string s;
  s.reserve(ids.size());
  for (const auto t : ids) s.push_back(static_cast<char>(t >= 0 && t < 256 ? t : 0xFF));
  return s;
}

}  // namespace

CharContinuations continue_chars(const Model& model, std::span<const std::string> prompts, std::int64_t n_chars,
                                 std::int64_t batch, const TaskEnv& env) {
  using Clock = std::chrono::steady_clock;
  if (n_chars < 1) throw BadInput("continuation: the number of characters must be >= 1");
  if (batch < 1) throw BadInput("continuation: the batch size must be >= 1");
  CharContinuations out;
  out.bytes.resize(prompts.size());
  const auto B = static_cast<std::size_t>(batch);
  // One decoder call per group, so its first calls of after_step are the group's prefills (the decoder prefills
  // every prompt of a call before its first batched step) and the time between them can be told apart.
  for (std::size_t g0 = 0; g0 < prompts.size(); g0 += B) {
    env.check_cancel();
    const std::size_t g1 = std::min(prompts.size(), g0 + B);
    std::vector<std::vector<std::int32_t>> ids(g1 - g0);
    std::vector<GreedyRequest> requests;
    for (std::size_t i = g0; i < g1; ++i) {
      if (prompts[i].empty()) throw BadInput("continuation: a prompt needs at least one byte");
      for (const unsigned char c : prompts[i]) ids[i - g0].push_back(c);
      requests.push_back({ids[i - g0], 4 * n_chars});
    }
    GreedyOptions o;
    o.max_batch = 0;  // the whole group together
    o.stop = [&](std::size_t, std::span<const std::int32_t> generated) {
      return finished_chars(as_bytes(generated)) >= static_cast<std::size_t>(n_chars);
    };
    std::size_t calls = 0;
    const auto t0 = Clock::now();
    auto prefilled = t0;
    o.after_step = [&](std::int64_t tokens) {
      if (++calls == g1 - g0) prefilled = Clock::now();
      else if (calls > g1 - g0) ++out.decode_passes;
      env.tokens_done(tokens);
      env.check_cancel();
    };
    const auto gen = generate_greedy_batch(model, requests, o);
    const auto t1 = Clock::now();
    out.prefill_seconds += std::chrono::duration<double>(prefilled - t0).count();
    out.decode_seconds += std::chrono::duration<double>(t1 - prefilled).count();
    for (std::size_t i = g0; i < g1; ++i) {
      out.bytes[i] = as_bytes(gen[i - g0]);
      out.bytes_written += static_cast<std::int64_t>(out.bytes[i].size());
    }
  }
  return out;
}

}  // namespace lmscope::eval
