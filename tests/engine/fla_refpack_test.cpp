// Golden tests: the flash-linear-attention cases of ../shared/refpack against fla's own float32 outputs, with the
// fla tolerances of refpack/README.md (fla's Triton kernels round through TF32): logits within 3e-2 max abs, mean
// NLL within 1e-3; hidden states in transformers' layout; greedy continuation exact through token-by-token decoding
// (the recurrent form of the linear mixers, the KV cache or sliding-window ring of attention layers).
#include <gtest/gtest.h>

#include "support/refpack_family_check.h"
#include "support/refpack_params.h"

namespace lmscope {
namespace {

// (case, backend): the CUDA variants skip without a GPU.
class RefpackFla : public testing::TestWithParam<test::CaseAndBackend> {};

TEST_P(RefpackFla, MatchesTheReference) {
  const auto& [name, backend] = GetParam();
  test::expect_refpack_case_matches(name, backend, 3e-2);
}

INSTANTIATE_TEST_SUITE_P(Refpack, RefpackFla,
                         testing::Combine(testing::Values("fla-delta_net", "fla-gated_deltanet", "fla-gated_deltanet-h1",
                                                          "fla-bitnet", "fla-transformer"),
                                          testing::Values("cpu", "cuda")),
                         test::case_and_backend_name);

}  // namespace
}  // namespace lmscope
