#include "lmscope/run/item_outcomes.h"

#include <cmath>
#include <map>
#include <numbers>

#include "lmscope/error.h"
#include "lmscope/run/results_store.h"

namespace lmscope::run {
namespace {

// Outcomes collected in first-seen order of their names.
class Collector {
 public:
  void add(const std::string& name, bool binary, bool lower, std::string item, double v) {
    auto [it, fresh] = index_.try_emplace(name, out_.size());
    if (fresh) out_.push_back({name, binary, lower, {}, {}});
    auto& o = out_[it->second];
    o.items.push_back(std::move(item));
    o.values.push_back(v);
  }
  std::vector<ItemOutcome> take() { return std::move(out_); }

 private:
  std::map<std::string, std::size_t> index_;
  std::vector<ItemOutcome> out_;
};

bool number(const nlohmann::json& j, const char* key) { return j.is_object() && j.contains(key) && j[key].is_number(); }

std::string short_number(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

std::vector<ItemOutcome> item_outcomes_of_units(const std::string& task,
                                                const std::vector<std::pair<std::int64_t, nlohmann::json>>& units,
                                                std::string* note) {
  Collector c;
  for (const auto& [u, r] : units) {
    if (r.is_array()) {
      // items of a unit: multiple choice, lambada, recall
      for (const auto& it : r) {
        if (!it.is_object() || !it.contains("item")) continue;
        const std::string id = it["item"].is_number_integer() ? std::to_string(it["item"].get<std::int64_t>()) : it["item"].dump();
        if (number(it, "acc")) c.add("acc", true, false, id, it["acc"].get<double>());
        if (task == "lambada_openai" && number(it, "is_greedy")) c.add("acc", true, false, id, it["is_greedy"].get<double>());
        if (number(it, "acc_norm")) c.add("acc_norm", true, false, id, it["acc_norm"].get<double>());
        if (number(it, "contains")) c.add("contains", true, false, id, it["contains"].get<double>());
        if (number(it, "loglik")) {
          c.add("loglik", false, false, id, it["loglik"].get<double>());
        } else if (it.contains("loglik") && it["loglik"].is_array() && number(it, "gold")) {
          // multiple choice: the log-likelihood of the gold choice
          const auto g = it["gold"].get<std::int64_t>();
          if (g >= 0 && g < static_cast<std::int64_t>(it["loglik"].size()) && it["loglik"][g].is_number())
            c.add("loglik", false, false, id, it["loglik"][g].get<double>());
        }
      }
    } else if (r.is_object() && r.contains("trials") && r["trials"].is_array() && number(r, "length")) {
      // passkey: one cell (length × depth), its trials
      const auto L = r["length"].get<std::int64_t>();
      const std::string depth = number(r, "depth") ? short_number(r["depth"].get<double>()) : "?";
      std::int64_t t = 0;
      for (const auto& tr : r["trials"]) {
        if (tr.is_object() && tr.contains("found") && tr["found"].is_boolean())
          c.add("found@" + std::to_string(L), true, false, "depth=" + depth + " trial=" + std::to_string(t),
                tr["found"].get<bool>() ? 1.0 : 0.0);
        ++t;
      }
    } else if (number(r, "nll") && number(r, "tokens") && number(r, "length")) {
      // ppl_vs_length (a unit of windows at one length), longppl (a document at one length)
      const double tokens = r["tokens"].get<double>();
      if (tokens <= 0) continue;
      const std::string id = number(r, "document") ? "document " + std::to_string(r["document"].get<std::int64_t>())
                                                   : "unit " + std::to_string(u);
      c.add("nll@" + std::to_string(r["length"].get<std::int64_t>()), false, true, id, r["nll"].get<double>() / tokens);
    } else if (number(r, "loglik") && number(r, "bytes")) {
      // wikitext: a document
      const double bytes = r["bytes"].get<double>();
      if (bytes <= 0) continue;
      c.add("bits_per_byte", false, true, "document " + std::to_string(u),
            -r["loglik"].get<double>() / bytes / std::numbers::ln2);
    }
  }
  auto out = c.take();
  if (out.empty() && note)
    *note = units.empty() ? "no units of this task run are stored"
                          : "task " + task + " stores no per-item outcomes that can be compared item by item";
  return out;
}

ItemOutcomes read_item_outcomes(const ResultsStore& store, const std::string& run_key) {
  ItemOutcomes o;
  o.run_key = run_key;
  bool found = false;
  bool aggregated = false;
  for (const auto& r : store.task_runs()) {
    if (r.run_key != run_key) continue;
    found = true;
    o.task = r.task;
    o.alias = r.alias.empty() ? r.task : r.alias;
    o.unit_count = r.unit_count;
    aggregated = !r.results.is_null();
    break;
  }
  if (!found) throw BadInput("results store " + store.path().string() + " holds no task run " + run_key);
  std::vector<std::pair<std::int64_t, nlohmann::json>> units;
  for (auto& [i, u] : store.units(run_key)) {
    if (i < 0 || i >= o.unit_count) continue;
    units.emplace_back(i, std::move(u.result));
  }
  o.units_stored = static_cast<std::int64_t>(units.size());
  o.complete = aggregated && o.units_stored == o.unit_count;
  o.outcomes = item_outcomes_of_units(o.task, units, &o.note);
  return o;
}

nlohmann::json to_json(const ItemOutcomes& o) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& x : o.outcomes)
    list.push_back({{"name", x.name}, {"binary", x.binary}, {"lower_is_better", x.lower_is_better},
                    {"items", x.items}, {"values", x.values}});
  nlohmann::json j{{"run_key", o.run_key}, {"task", o.task}, {"alias", o.alias}, {"unit_count", o.unit_count},
                   {"units_stored", o.units_stored}, {"complete", o.complete}, {"outcomes", list}};
  if (!o.note.empty()) j["note"] = o.note;
  return j;
}

}  // namespace lmscope::run
