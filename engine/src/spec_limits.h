// What a config.json may ask for, checked once for every family after it has parsed the config and before anything
// is allocated from it: the stated limits on sizes, finite positive epsilons, and — when the weights are at hand —
// agreement between the sizes and what the weight files hold (a config cannot ask for more layers than there are
// tensors, or a bigger embedding than the files store).
#pragma once

#include <cstdint>
#include <filesystem>

#include "config_fields.h"  // the stated limits (kMaxLayers, ...)
#include "lmscope/model_spec.h"

namespace lmscope {

// BadInput naming the config file and the field when a size is beyond its limit or the epsilon is not a finite
// number in (0, 1).
void check_spec_limits(const ModelSpec& spec, const ConfigFields& cfg);

// Before the family lists its tensors (a list as long as the layer count): BadInput naming the field when the
// config implies more than the weight files can hold.
void check_spec_fits_weights(const ModelSpec& spec, std::int64_t tensors_stored, std::uint64_t elements_stored,
                             const std::filesystem::path& config_file);

}  // namespace lmscope
