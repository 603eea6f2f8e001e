// Golden tests for the state-space and gated linear attention families of ../shared/refpack: transformers' Mamba and
// Mamba2 (hf-*: a float32 implementation agrees within 1e-4 on logits) and fla's Mamba, Mamba2, GLA, RetNet, HGRN2
// and Samba (fla-*: 3e-2 on logits and 1e-3 on the mean NLL, refpack/README.md). Multi-token appends run the chunked
// forms; greedy_b is reproduced through token-by-token decoding, i.e. the recurrent forms.
#include <gtest/gtest.h>

#include "support/refpack_family_check.h"
#include "support/refpack_params.h"

namespace lmscope {
namespace {

// (case, backend): the CUDA variants skip without a GPU.
class RefpackSsm : public testing::TestWithParam<test::CaseAndBackend> {};

TEST_P(RefpackSsm, MatchesTheReference) {
  const auto& [name, backend] = GetParam();
  test::expect_refpack_case_matches(name, backend, name.rfind("hf-", 0) == 0 ? 1e-4 : 3e-2);
}

INSTANTIATE_TEST_SUITE_P(Refpack, RefpackSsm,
                         testing::Combine(testing::Values("hf-mamba", "hf-mamba2", "fla-mamba", "fla-mamba2", "fla-gla",
                                                          "fla-retnet", "fla-hgrn2", "fla-samba"),
                                          testing::Values("cpu", "cuda")),
                         test::case_and_backend_name);

}  // namespace
}  // namespace lmscope
