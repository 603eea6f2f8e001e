// The golden check shared by the refpack tests of the linear-attention and state-space families
// (engine/fla_refpack_test.cpp, engine/ssm_refpack_test.cpp): a case's checkpoint loads with the right type, layout
// and parameter count; on `backend` in fp32 (the refpack's tolerances are float32 ones; CUDA defaults to bf16) its
// logits on ids_a and ids_b and its hidden states are within `tol` of the reference, its mean NLL within 1e-3 of
// case.json and of the reference logits', the fused scoring path gives the same mean NLL, and greedy decoding
// reproduces greedy_b token by token (the recurrent forms). Skips without ../shared or the backend.
#pragma once

#include <string>

namespace lmscope::test {

void expect_refpack_case_matches(const std::string& name, const std::string& backend, double tol);

}  // namespace lmscope::test
