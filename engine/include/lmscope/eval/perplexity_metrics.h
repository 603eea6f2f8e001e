// Weighted perplexities over documents, as lm-eval aggregates `wikitext` (no standard error for these).
#pragma once

#include <cstdint>

namespace lmscope::eval {

struct PerplexityTotals {
  double loglik = 0;  // sum of log P(target) over every scored token of every document (nats)
  std::int64_t words = 0;
  std::int64_t bytes = 0;
  std::int64_t tokens = 0;

  void add_document(double document_loglik, std::int64_t document_words, std::int64_t document_bytes,
                    std::int64_t document_tokens);
  double word_perplexity() const;  // exp(-loglik / words)
  double byte_perplexity() const;  // exp(-loglik / bytes)
  double bits_per_byte() const;    // -loglik / (bytes ln 2)
  double token_perplexity() const; // exp(-loglik / tokens)
};

}  // namespace lmscope::eval
