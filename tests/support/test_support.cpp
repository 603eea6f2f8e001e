#include "support/test_support.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace lmscope::test {

namespace fs = std::filesystem;

fs::path shared_dir() {
  if (const char* env = std::getenv("LMSCOPE_SHARED")) return env;
  const fs::path p = LMSCOPE_SHARED_DIR;
  return fs::exists(p) ? fs::canonical(p) : fs::path();
}

fs::path refpack_case(const std::string& name) {
  const fs::path s = shared_dir();
  if (s.empty()) return {};
  const fs::path p = s / "refpack" / name;
  return fs::exists(p) ? p : fs::path();
}

fs::path fixture_case(const std::string& name) { return fs::path(LMSCOPE_SOURCE_DIR) / "tests" / "fixtures" / "refcases" / name; }

TempDir::TempDir() {
  std::random_device rd;
  path = fs::temp_directory_path() / ("lmscope-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

nlohmann::json tiny_llama_config(const nlohmann::json& patch) {
  nlohmann::json j = {
      {"model_type", "llama"}, {"vocab_size", 64}, {"hidden_size", 32}, {"intermediate_size", 48},
      {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"head_dim", 8},
      {"max_position_embeddings", 32}, {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0}, {"tie_word_embeddings", true},
      {"bos_token_id", 1}, {"eos_token_id", 2},
  };
  j.merge_patch(patch);
  return j;
}

std::vector<float> read_f32(const SafetensorsFile& f, const std::string& name) {
  const TensorView* t = f.find(name);
  if (!t) throw std::runtime_error("reference tensor missing: " + name);
  return t->to_f32();
}

std::vector<std::int32_t> read_ids(const SafetensorsFile& f, const std::string& name) {
  const TensorView* t = f.find(name);
  if (!t || t->dtype != DType::I64) throw std::runtime_error("reference ids missing or not I64: " + name);
  std::vector<std::int32_t> out(static_cast<std::size_t>(t->numel()));
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::int64_t v;
    std::memcpy(&v, t->data + 8 * i, 8);
    out[i] = static_cast<std::int32_t>(v);
  }
  return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    if (!(d <= m)) m = d;  // NaN propagates as a failure
  }
  return m;
}

double mean_nll(const std::vector<float>& logits, const std::vector<std::int32_t>& ids, std::int64_t vocab) {
  double total = 0;
  const auto V = static_cast<std::size_t>(vocab);
  for (std::size_t t = 0; t + 1 < ids.size(); ++t) {
    const float* row = logits.data() + t * V;
    double mx = row[0];
    for (std::size_t v = 1; v < V; ++v) mx = std::max<double>(mx, row[v]);
    double z = 0;
    for (std::size_t v = 0; v < V; ++v) z += std::exp(row[v] - mx);
    total -= row[static_cast<std::size_t>(ids[t + 1])] - mx - std::log(z);
  }
  return total / static_cast<double>(ids.size() - 1);
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string wikitext_notes(int documents) {
  const char* words[] = {"tide", "sand", "boats", "lifted", "baker", "shutters", "street", "bread", "gulls", "harbour"};
  std::string s;
  for (int d = 0; d < documents; ++d) {
    s += " = Note " + std::to_string(d) + " = \n ";
    for (int w = 0; w < 12 + d % 5; ++w) s += std::string(words[(d * 7 + w * 3) % 10]) + " ";
    s += ". \n";
  }
  return s;
}

}  // namespace lmscope::test
