#include "config_fields.h"

#include <cmath>
#include <cstdint>

#include "lmscope/error.h"

namespace lmscope {

using json = nlohmann::json;

const nlohmann::json* ConfigFields::get(const std::string& key) const {
  if (!j_->is_object()) return nullptr;
  auto it = j_->find(key);
  if (it == j_->end() || it->is_null()) return nullptr;
  return &*it;
}

bool ConfigFields::has(const std::string& key) const { return get(key) != nullptr; }

void ConfigFields::fail(const std::string& key, const std::string& expected) const {
  const nlohmann::json* v = get(key);
  throw BadInput(file_.string() + ": field '" + prefix_ + key + "': expected " + expected +
                 (v ? ", got " + v->dump() : std::string(", but it is missing")));
}

std::int64_t ConfigFields::positive_int(const std::string& key) const {
  const nlohmann::json* v = get(key);
  // is_number_integer() includes unsigned values above int64's range; get<std::uint64_t> keeps them whole.
  if (!v || !v->is_number_integer() || (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxConfigInt)) ||
      v->get<std::int64_t>() <= 0 || v->get<std::int64_t>() > kMaxConfigInt)
    fail(key, "a positive integer (at most " + std::to_string(kMaxConfigInt) + ")");
  return v->get<std::int64_t>();
}

std::int64_t ConfigFields::bounded_int(const std::string& key, std::int64_t fallback, std::int64_t lo,
                                       std::int64_t hi) const {
  const nlohmann::json* v = get(key);
  if (!v) return fallback;
  const auto expected = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  if (!v->is_number_integer() || (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(hi)))
    fail(key, expected);
  const auto x = v->get<std::int64_t>();
  if (x < lo || x > hi) fail(key, expected);
  return x;
}

std::string ConfigFields::first_present(std::initializer_list<const char*> keys) const {
  for (const char* k : keys)
    if (has(k)) return prefix_ + k;
  return "";
}

std::int64_t ConfigFields::positive_int(const std::string& key, std::int64_t fallback) const {
  return has(key) ? positive_int(key) : fallback;
}

std::optional<std::int64_t> ConfigFields::optional_int(const std::string& key) const {
  const nlohmann::json* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer() || (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)))
    fail(key, "an integer");
  return v->get<std::int64_t>();
}

double ConfigFields::number(const std::string& key, double fallback) const {
  return optional_number(key).value_or(fallback);
}

double ConfigFields::expansion_ratio(const std::string& key, double fallback) const {
  const double r = number(key, fallback);
  if (!(r > 0) || r > static_cast<double>(kMaxWidth)) fail(key, "a positive ratio of at most " + std::to_string(kMaxWidth));
  return r;
}

std::optional<double> ConfigFields::optional_number(const std::string& key) const {
  const nlohmann::json* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_number() || !std::isfinite(v->get<double>())) fail(key, "a number");
  return v->get<double>();
}

bool ConfigFields::boolean(const std::string& key, bool fallback) const {
  const nlohmann::json* v = get(key);
  if (!v) return fallback;
  if (!v->is_boolean()) fail(key, "true or false");
  return v->get<bool>();
}

std::string ConfigFields::string(const std::string& key, const std::string& fallback) const {
  const nlohmann::json* v = get(key);
  if (!v) return fallback;
  if (!v->is_string()) fail(key, "a string");
  return v->get<std::string>();
}

std::vector<std::int64_t> ConfigFields::int_or_int_list(const std::string& key) const {
  const nlohmann::json* v = get(key);
  if (!v) return {};
  if (v->is_number_integer() && !(v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)))
    return {v->get<std::int64_t>()};
  if (!v->is_array()) fail(key, "an integer or a list of integers");
  std::vector<std::int64_t> out;
  for (const auto& e : *v) {
    if (!e.is_number_integer() || (e.is_number_unsigned() && e.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)))
      fail(key, "an integer or a list of integers");
    out.push_back(e.get<std::int64_t>());
  }
  return out;
}

ConfigFields ConfigFields::object(const std::string& key) const {
  const nlohmann::json* v = get(key);
  if (!v || !v->is_object()) fail(key, "an object");
  return ConfigFields(*v, file_, prefix_ + key + ".");
}

namespace {

std::vector<double> factor_list(const ConfigFields& block, const std::string& key) {
  if (!block.has(key)) return {};
  const json& v = block.raw()[key];
  if (!v.is_array()) block.fail(key, "a list of numbers");
  std::vector<double> out;
  for (const auto& e : v) {
    if (!e.is_number() || !std::isfinite(e.get<double>())) block.fail(key, "a list of finite numbers");
    out.push_back(e.get<double>());
  }
  return out;
}

}  // namespace

RopeConfig parse_rope_config(const ConfigFields& cfg, std::int64_t max_position_embeddings) {
  RopeConfig r;
  r.max_position_embeddings = max_position_embeddings;
  r.partial_rotary_factor = cfg.number("partial_rotary_factor", 1.0);

  const bool v5 = cfg.has("rope_parameters");
  const bool has_scaling = cfg.has("rope_scaling");
  std::optional<ConfigFields> block;
  if (v5) {
    block = cfg.object("rope_parameters");
    if (!block->has("rope_type") && !block->has("type") && !block->has("rope_theta"))
      cfg.fail("rope_parameters", "one RoPE block {rope_type, rope_theta, ...} (per-layer-type RoPE is not supported)");
    r.theta = block->number("rope_theta", cfg.number("rope_theta", 10000.0));
    r.partial_rotary_factor = block->number("partial_rotary_factor", r.partial_rotary_factor);
  } else {
    r.theta = cfg.number("rope_theta", 10000.0);
    if (has_scaling) block = cfg.object("rope_scaling");
  }
  if (block) {
    const std::string type = block->has("rope_type") ? block->string("rope_type", "default") : block->string("type", "default");
    const auto t = rope_type_from_name(type);
    if (!t) block->fail(block->has("rope_type") ? "rope_type" : "type", "one of " + rope_type_list());
    r.type = *t;
    r.factor = block->optional_number("factor");
    r.attention_factor = block->optional_number("attention_factor");
    r.low_freq_factor = block->optional_number("low_freq_factor");
    r.high_freq_factor = block->optional_number("high_freq_factor");
    r.beta_fast = block->optional_number("beta_fast");
    r.beta_slow = block->optional_number("beta_slow");
    r.mscale = block->optional_number("mscale");
    r.mscale_all_dim = block->optional_number("mscale_all_dim");
    r.truncate = block->boolean("truncate", true);
    r.short_factor = factor_list(*block, "short_factor");
    r.long_factor = factor_list(*block, "long_factor");
    if (block->has("original_max_position_embeddings"))
      r.original_max_position_embeddings = block->positive_int("original_max_position_embeddings");
  }
  // Phi-3 style: the pretrained context sits at the top level of config.json.
  if (!r.original_max_position_embeddings && cfg.has("original_max_position_embeddings"))
    r.original_max_position_embeddings = cfg.positive_int("original_max_position_embeddings");
  return r;
}

}  // namespace lmscope
