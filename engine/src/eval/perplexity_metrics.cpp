#include "lmscope/eval/perplexity_metrics.h"

#include <cmath>
#include <numbers>

namespace lmscope::eval {

void PerplexityTotals::add_document(double document_loglik, std::int64_t document_words, std::int64_t document_bytes,
                                    std::int64_t document_tokens) {
  loglik += document_loglik;
  words += document_words;
  bytes += document_bytes;
  tokens += document_tokens;
}

double PerplexityTotals::word_perplexity() const { return std::exp(-loglik / static_cast<double>(words)); }
double PerplexityTotals::byte_perplexity() const { return std::exp(-loglik / static_cast<double>(bytes)); }
double PerplexityTotals::bits_per_byte() const { return -loglik / (static_cast<double>(bytes) * std::numbers::ln2); }
double PerplexityTotals::token_perplexity() const { return std::exp(-loglik / static_cast<double>(tokens)); }

}  // namespace lmscope::eval
