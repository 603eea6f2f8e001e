#include "lmscope/rope.h"

#include <charconv>
#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>

#include "lmscope/error.h"

namespace lmscope {
namespace {

constexpr std::pair<RopeType, std::string_view> kNames[] = {
    {RopeType::Default, "default"}, {RopeType::Linear, "linear"},     {RopeType::Dynamic, "dynamic"},
    {RopeType::Yarn, "yarn"},       {RopeType::LongRope, "longrope"}, {RopeType::Llama3, "llama3"},
    {RopeType::Ntk, "ntk"},
};

std::int64_t original_context(const RopeConfig& c) {
  return c.original_max_position_embeddings.value_or(c.max_position_embeddings);
}

std::string number_text(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

double need(const std::optional<double>& v, std::string_view key, const RopeConfig& c) {
  if (!v) throw BadInput("RoPE " + std::string(rope_type_name(c.type)) + ": parameter '" + std::string(key) + "' is required");
  return *v;
}

// YaRN's attention temperature: 0.1 * mscale * ln(scale) + 1 for scale > 1.
double yarn_mscale(double scale, double mscale) { return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0; }

}  // namespace

std::string_view rope_type_name(RopeType t) {
  for (const auto& [type, name] : kNames)
    if (type == t) return name;
  return "?";
}

std::optional<RopeType> rope_type_from_name(std::string_view name) {
  if (name == "su") return RopeType::LongRope;  // LongRoPE's name in early Phi-3 configs
  for (const auto& [type, n] : kNames)
    if (n == name) return type;
  return std::nullopt;
}

std::string rope_type_list() {
  std::string s;
  for (const auto& [type, name] : kNames) s += (s.empty() ? "" : ", ") + std::string(name);
  return s;
}

std::int64_t rope_rotary_dim(const RopeConfig& cfg, std::int64_t head_dim) {
  auto d = static_cast<std::int64_t>(static_cast<double>(head_dim) * cfg.partial_rotary_factor);
  return d - d % 2;
}

void validate_rope(const RopeConfig& c, std::int64_t head_dim) {
  const std::string who = "RoPE " + std::string(rope_type_name(c.type)) + ": ";
  if (!(c.theta > 0) || !std::isfinite(c.theta)) throw BadInput(who + "theta must be > 0, got " + std::to_string(c.theta));
  if (!(c.partial_rotary_factor > 0 && c.partial_rotary_factor <= 1))
    throw BadInput(who + "partial_rotary_factor must be in (0, 1], got " + std::to_string(c.partial_rotary_factor));
  const std::int64_t dim = rope_rotary_dim(c, head_dim);
  if (dim < 2) throw BadInput(who + "rotary dimension " + std::to_string(dim) + " is too small (head_dim " + std::to_string(head_dim) + ")");
  if (c.max_position_embeddings <= 0) throw BadInput(who + "max_position_embeddings must be > 0");
  if (c.original_max_position_embeddings && *c.original_max_position_embeddings <= 0)
    throw BadInput(who + "original_max_position_embeddings must be > 0");
  // Every parameter is a finite number in a range where the formulas give finite, positive frequencies (a factor of
  // 1e-308 or a NaN beta would otherwise load and turn every logit into NaN).
  auto in_range = [&](const std::optional<double>& v, const char* key, double lo, double hi) {
    if (v && !(std::isfinite(*v) && *v >= lo && *v <= hi))
      throw BadInput(who + key + " must be a number from " + number_text(lo) + " to " + number_text(hi) + ", got " +
                     number_text(*v));
  };
  in_range(c.factor, "factor", kMinRopeFactor, kMaxRopeFactor);
  in_range(c.attention_factor, "attention_factor", 1e-3, 1e3);
  in_range(c.low_freq_factor, "low_freq_factor", 1e-6, 1e6);
  in_range(c.high_freq_factor, "high_freq_factor", 1e-6, 1e6);
  in_range(c.beta_fast, "beta_fast", 1e-6, 1e6);
  in_range(c.beta_slow, "beta_slow", 1e-6, 1e6);
  in_range(c.mscale, "mscale", -1e3, 1e3);
  in_range(c.mscale_all_dim, "mscale_all_dim", -1e3, 1e3);
  if (c.theta > 1e12) throw BadInput(who + "theta must be at most 1e12, got " + number_text(c.theta));
  switch (c.type) {
    case RopeType::Default:
      break;
    case RopeType::Linear:
    case RopeType::Dynamic:
    case RopeType::Ntk:
    case RopeType::Yarn:
      need(c.factor, "factor", c);
      if (c.type == RopeType::Ntk && dim <= 2) throw BadInput(who + "needs a rotary dimension > 2");
      if (c.type == RopeType::Yarn && c.beta_fast.value_or(32) <= c.beta_slow.value_or(1))
        throw BadInput(who + "beta_fast must be greater than beta_slow");
      break;
    case RopeType::Llama3: {
      need(c.factor, "factor", c);
      const double lo = need(c.low_freq_factor, "low_freq_factor", c);
      const double hi = need(c.high_freq_factor, "high_freq_factor", c);
      if (!c.original_max_position_embeddings) throw BadInput(who + "parameter 'original_max_position_embeddings' is required");
      if (!(lo > 0 && hi > lo)) throw BadInput(who + "need 0 < low_freq_factor < high_freq_factor");
      break;
    }
    case RopeType::LongRope: {
      const auto want = static_cast<std::size_t>(dim / 2);
      if (c.short_factor.size() != want || c.long_factor.size() != want)
        throw BadInput(who + "short_factor and long_factor need " + std::to_string(want) + " entries each (rotary_dim / 2), got " +
                       std::to_string(c.short_factor.size()) + " and " + std::to_string(c.long_factor.size()));
      for (double v : c.short_factor)
        if (!(v > 0 && std::isfinite(v))) throw BadInput(who + "short_factor entries must be finite numbers > 0");
      for (double v : c.long_factor)
        if (!(v > 0 && std::isfinite(v))) throw BadInput(who + "long_factor entries must be finite numbers > 0");
      break;
    }
  }
}

RopeFrequencies rope_frequencies(const RopeConfig& c, std::int64_t head_dim, std::int64_t seq_len) {
  validate_rope(c, head_dim);
  const std::int64_t dim = rope_rotary_dim(c, head_dim);
  const auto half = static_cast<std::size_t>(dim / 2);
  const double d = static_cast<double>(dim);
  auto base_inv = [&](double base) {
    std::vector<double> inv(half);
    for (std::size_t i = 0; i < half; ++i) inv[i] = 1.0 / std::pow(base, static_cast<double>(2 * i) / d);
    return inv;
  };

  RopeFrequencies out;
  out.inv_freq = base_inv(c.theta);
  switch (c.type) {
    case RopeType::Default:
      break;
    case RopeType::Linear:
      for (auto& f : out.inv_freq) f /= *c.factor;
      break;
    case RopeType::Ntk:
      // Static NTK-aware scaling: stretch the base so the lowest frequency is interpolated by `factor`.
      out.inv_freq = base_inv(c.theta * std::pow(*c.factor, d / (d - 2)));
      break;
    case RopeType::Dynamic: {
      const double orig = static_cast<double>(original_context(c));
      if (static_cast<double>(seq_len) > orig) {
        const double f = *c.factor;
        out.inv_freq = base_inv(c.theta * std::pow(f * static_cast<double>(seq_len) / orig - (f - 1), d / (d - 2)));
      }
      break;
    }
    case RopeType::Llama3: {
      const double f = *c.factor, lo = *c.low_freq_factor, hi = *c.high_freq_factor;
      const double old = static_cast<double>(*c.original_max_position_embeddings);
      const double low_wavelen = old / lo, high_wavelen = old / hi;
      for (auto& inv : out.inv_freq) {
        const double wavelen = 2 * std::numbers::pi / inv;
        if (wavelen > low_wavelen) {
          inv = inv / f;  // long wavelengths: interpolate fully
        } else if (wavelen >= high_wavelen) {
          const double smooth = (old / wavelen - lo) / (hi - lo);
          inv = (1 - smooth) * inv / f + smooth * inv;
        }  // short wavelengths stay as they are
      }
      break;
    }
    case RopeType::Yarn: {
      const double f = *c.factor;
      const double orig = static_cast<double>(original_context(c));
      const double beta_fast = c.beta_fast.value_or(32), beta_slow = c.beta_slow.value_or(1);
      // Dimension index at which a frequency completes `rotations` turns over the original context.
      auto correction_dim = [&](double rotations) {
        return d * std::log(orig / (rotations * 2 * std::numbers::pi)) / (2 * std::log(c.theta));
      };
      double low = correction_dim(beta_fast), high = correction_dim(beta_slow);
      if (c.truncate) {
        low = std::floor(low);
        high = std::ceil(high);
      }
      low = std::max(low, 0.0);
      high = std::min(high, d - 1);
      if (low == high) high += 0.001;  // avoid a zero-width ramp
      for (std::size_t i = 0; i < half; ++i) {
        const double ramp = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
        const double extrapolate = 1 - ramp;  // 1: keep the original frequency; 0: interpolate by f
        const double inv = out.inv_freq[i];
        out.inv_freq[i] = (inv / f) * (1 - extrapolate) + inv * extrapolate;
      }
      if (c.attention_factor) {
        out.attention_factor = *c.attention_factor;
      } else if (c.mscale && c.mscale_all_dim) {
        out.attention_factor = yarn_mscale(f, *c.mscale) / yarn_mscale(f, *c.mscale_all_dim);
      } else {
        out.attention_factor = yarn_mscale(f, 1.0);
      }
      break;
    }
    case RopeType::LongRope: {
      const std::int64_t orig = original_context(c);
      const double f = c.factor.value_or(static_cast<double>(c.max_position_embeddings) / static_cast<double>(orig));
      const auto& ext = seq_len > orig ? c.long_factor : c.short_factor;
      for (std::size_t i = 0; i < half; ++i) out.inv_freq[i] /= ext[i];
      if (c.attention_factor) {
        out.attention_factor = *c.attention_factor;
      } else {
        out.attention_factor = f <= 1.0 ? 1.0 : std::sqrt(1 + std::log(f) / std::log(static_cast<double>(orig)));
      }
      break;
    }
  }
  // What the parameters give must be usable: finite, positive frequencies and attention factor.
  for (double f : out.inv_freq)
    if (!(std::isfinite(f) && f > 0))
      throw BadInput("RoPE " + describe_rope(c) + ": these parameters give a non-finite or zero rotary frequency; "
                     "check theta, factor and the beta values");
  if (!(std::isfinite(out.attention_factor) && out.attention_factor > 0))
    throw BadInput("RoPE " + describe_rope(c) + ": these parameters give an attention factor of " +
                   number_text(out.attention_factor) + "; check mscale, mscale_all_dim and attention_factor");
  return out;
}

namespace {

double parse_number(std::string_view key, std::string_view v) {
  double out = 0;
  const auto* end = v.data() + v.size();
  auto [p, ec] = std::from_chars(v.data(), end, out);
  if (ec != std::errc() || p != end)
    throw BadInput("--rope: value of '" + std::string(key) + "' must be a number, got '" + std::string(v) + "'");
  return out;
}

// Context lengths beyond this are not lengths (and would not convert to an integer safely).
constexpr double kMaxContextLength = 1ll << 30;

std::int64_t parse_positive_int(std::string_view key, std::string_view v) {
  const double x = parse_number(key, v);
  if (!(x > 0 && x <= kMaxContextLength) || x != std::floor(x))
    throw BadInput("--rope: value of '" + std::string(key) + "' must be a positive integer up to " +
                   std::to_string(static_cast<std::int64_t>(kMaxContextLength)) + ", got '" + std::string(v) + "'");
  return static_cast<std::int64_t>(x);
}

std::vector<double> parse_list(std::string_view key, std::string_view v) {
  std::vector<double> out;
  std::size_t start = 0;
  while (start <= v.size()) {
    const std::size_t slash = v.find('/', start);
    const std::string_view item = v.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    out.push_back(parse_number(key, item));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

}  // namespace

RopeConfig apply_rope_override(const RopeConfig& base, std::string_view spec) {
  const std::size_t colon = spec.find(':');
  const std::string_view type_name = spec.substr(0, colon);
  const auto type = rope_type_from_name(type_name);
  if (!type)
    throw BadInput("--rope: unknown RoPE type '" + std::string(type_name) + "'; supported: " + rope_type_list());
  RopeConfig c;
  if (*type == base.type) {
    c = base;
  } else {
    c.type = *type;
    c.theta = base.theta;
    c.partial_rotary_factor = base.partial_rotary_factor;
    c.max_position_embeddings = base.max_position_embeddings;
    c.original_max_position_embeddings = base.original_max_position_embeddings;
  }
  if (colon != std::string_view::npos) {
    std::string_view rest = spec.substr(colon + 1);
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view kv = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      const std::size_t eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0)
        throw BadInput("--rope: expected key=value, got '" + std::string(kv) + "'");
      const std::string_view key = kv.substr(0, eq), v = kv.substr(eq + 1);
      if (key == "theta" || key == "rope_theta") c.theta = parse_number(key, v);
      else if (key == "factor") c.factor = parse_number(key, v);
      else if (key == "original_max_position_embeddings" || key == "original_max") c.original_max_position_embeddings = parse_positive_int(key, v);
      else if (key == "attention_factor") c.attention_factor = parse_number(key, v);
      else if (key == "low_freq_factor") c.low_freq_factor = parse_number(key, v);
      else if (key == "high_freq_factor") c.high_freq_factor = parse_number(key, v);
      else if (key == "beta_fast") c.beta_fast = parse_number(key, v);
      else if (key == "beta_slow") c.beta_slow = parse_number(key, v);
      else if (key == "mscale") c.mscale = parse_number(key, v);
      else if (key == "mscale_all_dim") c.mscale_all_dim = parse_number(key, v);
      else if (key == "partial_rotary_factor") c.partial_rotary_factor = parse_number(key, v);
      else if (key == "short_factor") c.short_factor = parse_list(key, v);
      else if (key == "long_factor") c.long_factor = parse_list(key, v);
      else if (key == "truncate") {
        if (v != "true" && v != "false") throw BadInput("--rope: truncate must be true or false");
        c.truncate = v == "true";
      } else {
        throw BadInput("--rope: unknown parameter '" + std::string(key) +
                       "'; known: theta, factor, original_max_position_embeddings, attention_factor, low_freq_factor, "
                       "high_freq_factor, beta_fast, beta_slow, mscale, mscale_all_dim, truncate, short_factor, "
                       "long_factor, partial_rotary_factor");
      }
    }
  }
  return c;
}

std::string describe_rope(const RopeConfig& c) {
  std::ostringstream s;
  s << rope_type_name(c.type) << " (theta " << c.theta;
  if (c.factor) s << ", factor " << *c.factor;
  if (c.original_max_position_embeddings) s << ", original context " << *c.original_max_position_embeddings;
  if (c.low_freq_factor) s << ", low_freq_factor " << *c.low_freq_factor;
  if (c.high_freq_factor) s << ", high_freq_factor " << *c.high_freq_factor;
  if (c.beta_fast) s << ", beta_fast " << *c.beta_fast;
  if (c.beta_slow) s << ", beta_slow " << *c.beta_slow;
  if (c.attention_factor) s << ", attention factor " << *c.attention_factor;
  if (!c.short_factor.empty()) s << ", " << c.short_factor.size() << " short/long factors";
  if (c.partial_rotary_factor != 1.0) s << ", partial rotary " << c.partial_rotary_factor;
  s << ")";
  return s.str();
}

}  // namespace lmscope
