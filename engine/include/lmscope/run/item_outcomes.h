// Per-item outcomes of a stored task run, for paired comparisons of two models or settings on the same items
// (McNemar for right/wrong outcomes, a paired bootstrap for continuous ones). The results store keeps every work
// unit's result; this reads them back and names each outcome by item, so two runs of one task configuration can be
// matched item by item. What a unit holds differs by task; the outcomes read are:
//   multiple choice (hellaswag, piqa, ...):   acc, acc_norm (0/1), loglik of the gold choice, per item
//   lambada_openai:                           acc (the continuation is the greedy one, 0/1), loglik, per item
//   recall:                                   contains (0/1), per item
//   passkey:                                  found@L (0/1), per length L, item = depth and trial
//   wikitext:                                 bits_per_byte, per document
//   ppl_vs_length, longppl:                   nll@L (mean negative log-likelihood per token), per unit / document
// Other tasks have no per-item outcomes here (the answer says so).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmscope::run {

class ResultsStore;

struct ItemOutcome {
  std::string name;              // "acc", "loglik", "found@1024", "nll@2048", ...
  bool binary = false;           // 0/1 outcomes (McNemar applies)
  bool lower_is_better = false;  // nll, bits per byte
  std::vector<std::string> items;  // item ids, in unit order ("17", "L=1024 depth=0.5 trial=2", "unit 3")
  std::vector<double> values;      // one per item
};

struct ItemOutcomes {
  std::string run_key, task, alias;
  std::int64_t unit_count = 0, units_stored = 0;
  bool complete = false;  // aggregated and every unit stored
  std::vector<ItemOutcome> outcomes;
  std::string note;  // why there are none, when there are none
};

// The outcomes of one task run. BadInput naming the run key when the store does not hold it.
ItemOutcomes read_item_outcomes(const ResultsStore& store, const std::string& run_key);
// The same from a task name and its units' results (unit index → the unit's stored JSON), for tests.
std::vector<ItemOutcome> item_outcomes_of_units(const std::string& task,
                                                const std::vector<std::pair<std::int64_t, nlohmann::json>>& units,
                                                std::string* note = nullptr);
nlohmann::json to_json(const ItemOutcomes& o);

}  // namespace lmscope::run
