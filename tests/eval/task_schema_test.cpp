// The task schema is the one description of the tasks: it is well formed, make_task and task_names follow it, and
// for every task and every setting whose default is a value, the task resolves exactly that value when the setting
// is absent (its configuration equals the one with the default given explicitly) and the setting reaches the
// configuration (another value changes it), so a default cannot drift between the schema and the task.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "lmscope/error.h"
#include "lmscope/eval/task.h"
#include "lmscope/eval/task_schema.h"
#include "lmscope/tokenizer.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

using nlohmann::json;
using eval::SettingType;

const char* kText =
    "The harbour lies at the mouth of a small river. Boats come in with the tide and leave before dark. In winter "
    "the quay is quiet; in summer it is full of visitors, nets and gulls. An old mill stands beside the river. Its "
    "wheel turned for two hundred years, grinding wheat for the village. The mill was rebuilt after a flood. ";

// A record of each multiple-choice task in its dataset's layout.
const std::map<std::string, std::string>& mc_records() {
  static const std::map<std::string, std::string> r{
      {"hellaswag", R"({"ctx_a": "A man is sitting on a roof.", "ctx_b": "he", "activity_label": "Roof shingle removal", "endings": ["is using wrap to wrap a pair of skis.", "starts pulling up roofing on a roof."], "label": "1"})"},
      {"piqa", R"({"goal": "Keep bread fresh", "sol1": "Wrap it in a cloth.", "sol2": "Leave it in the rain.", "label": 0})"},
      {"arc_easy", R"({"question": "Which is a liquid?", "choices": {"text": ["water", "stone"], "label": ["A", "B"]}, "answerKey": "A"})"},
      {"arc_challenge", R"({"question": "Which is a gas?", "choices": {"text": ["steam", "ice"], "label": ["1", "2"]}, "answerKey": "1"})"},
      {"winogrande", R"({"sentence": "The cup fell off the table because _ was slippery.", "option1": "the cup", "option2": "the table", "answer": "1"})"},
      {"boolq", R"({"passage": "The sea is salty.", "question": "is the sea salty", "label": 1})"},
      {"copa", R"({"premise": "The glass broke.", "choice1": "It fell on the floor.", "choice2": "It was full of water.", "question": "cause", "label": 0})"},
      {"sciq", R"({"question": "What do plants need?", "distractor1": "salt", "distractor2": "sand", "distractor3": "oil", "correct_answer": "light", "support": "Plants need light."})"},
      {"social_iqa", R"({"context": "Ann gave Bob a gift.", "question": "How would Bob feel?", "answerA": "happy", "answerB": "angry", "answerC": "bored", "label": "1"})"}};
  return r;
}

class TaskSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text;
    for (int i = 0; i < 60; ++i) text += kText;  // ~22 KB: every default length fits in byte tokens
    test::write_text(tmp.path / "text.txt", text);
    for (const auto& [name, record] : mc_records()) test::write_text(tmp.path / (name + ".jsonl"), record + "\n" + record + "\n");
    test::write_text(tmp.path / "lambada.jsonl", R"({"text": "The boats came in with the evening tide"})" "\n");
    test::write_text(tmp.path / "swde.jsonl", R"({"text": "The river is called the", "value": "Wye"})" "\n");
    tokenizer = make_byte_tokenizer(1, 2);
    env.tokenizer = tokenizer.get();
    env.prefix_token = 1;
    env.max_length = 4096;
  }

  // The settings a task cannot do without, pointing at the files above.
  json minimal(const eval::TaskSchema& t) const {
    json s{{"task", t.name}};
    const auto file = [&](const std::string& f) { return (tmp.path / f).string(); };
    for (const auto& d : t.settings) {
      const bool needed = d.required || (!d.required_if_key.empty());
      if (!needed) continue;
      if (t.name == "lambada_openai") s[d.key] = file("lambada.jsonl");
      else if (mc_records().count(t.name)) s[d.key] = file(t.name + ".jsonl");
      else if (t.name == "recall") s[d.key] = json::array({file("swde.jsonl")});
      else s[d.key] = file("text.txt");
    }
    return s;
  }

  std::unique_ptr<eval::Task> make(const json& settings) const { return eval::make_task(settings, env, tmp.path.string()); }

  test::TempDir tmp;
  std::unique_ptr<Tokenizer> tokenizer;
  eval::TaskEnv env;
};

bool fits(const eval::SettingSchema& d, double v) { return (!d.min || v >= *d.min) && (!d.max || v <= *d.max); }

TEST_F(TaskSchemaTest, EverySettingIsWellFormed) {
  std::set<std::string> names;
  ASSERT_FALSE(eval::task_schemas().empty());
  for (const auto& t : eval::task_schemas()) {
    EXPECT_TRUE(names.insert(t.name).second) << "two tasks named " << t.name;
    EXPECT_FALSE(t.description.empty()) << t.name;
    EXPECT_TRUE(t.make) << t.name;
    std::set<std::string> keys;
    for (const auto& d : t.settings) {
      const auto where = t.name + "." + d.key;
      EXPECT_TRUE(keys.insert(d.key).second) << where << " twice";
      EXPECT_FALSE(d.help.empty()) << where;
      EXPECT_FALSE(d.label.empty()) << where;
      if (!d.synonym_of.empty()) {
        ASSERT_NE(t.find(d.synonym_of), nullptr) << where;
        EXPECT_TRUE(d.default_value.is_null()) << where;
      }
      if (d.required) {
        EXPECT_TRUE(d.default_value.is_null()) << where << ": a required setting has no default";
      }
      const auto& v = d.default_value;
      if (v.is_null()) continue;
      switch (d.type) {
        case SettingType::integer: EXPECT_TRUE(v.is_number_integer() && fits(d, v.get<double>())) << where; break;
        case SettingType::number: EXPECT_TRUE(v.is_number() && fits(d, v.get<double>())) << where; break;
        case SettingType::integer_list:
        case SettingType::number_list:
          ASSERT_TRUE(v.is_array() && !v.empty()) << where;
          for (const auto& x : v)
            EXPECT_TRUE((d.type == SettingType::integer_list ? x.is_number_integer() : x.is_number()) &&
                        fits(d, x.get<double>()))
                << where;
          break;
        case SettingType::boolean: EXPECT_TRUE(v.is_boolean()) << where; break;
        case SettingType::choice:
          EXPECT_TRUE(v.is_string() && std::count(d.choices.begin(), d.choices.end(), v.get<std::string>())) << where;
          break;
        case SettingType::word_list:
          ASSERT_TRUE(v.is_array()) << where;
          for (const auto& x : v)
            EXPECT_TRUE(x.is_string() && (d.choices.empty() || std::count(d.choices.begin(), d.choices.end(), x.get<std::string>()))) << where;
          break;
        default: EXPECT_TRUE(v.is_string()) << where;
      }
    }
    // every task has the alias (its instances are named by it)
    ASSERT_NE(t.find("alias"), nullptr) << t.name;
    EXPECT_TRUE(t.find("alias")->common);
  }
  // task_names() is the schema's list, in its order
  std::vector<std::string> schema_names;
  for (const auto& t : eval::task_schemas()) schema_names.push_back(t.name);
  EXPECT_EQ(eval::task_names(), schema_names);
}

TEST_F(TaskSchemaTest, TheJsonHoldsEveryTaskGroupAndSetting) {
  const auto j = eval::task_schemas_json();
  EXPECT_EQ(j["schema_version"], 1);
  ASSERT_EQ(j["tasks"].size(), eval::task_schemas().size());
  std::set<std::string> groups;
  for (const auto& g : j["groups"]) groups.insert(g["name"].get<std::string>());
  for (const auto& t : j["tasks"]) EXPECT_TRUE(groups.count(t["group"].get<std::string>())) << t["name"];
  std::vector<std::string> common;
  for (const auto& s : j["common"]) common.push_back(s["key"]);
  EXPECT_EQ(common, (std::vector<std::string>{"alias", "limit", "max_length", "seed", "batch_size"}));
  // the throughput sequence length is the engine's 512 (the GUI once said 256)
  const auto* tp = eval::find_task_schema("throughput");
  ASSERT_NE(tp, nullptr);
  EXPECT_EQ(tp->find("seq")->default_value, json::array({512}));
  const auto seq = eval::to_json(*tp->find("seq"));
  EXPECT_EQ(seq["type"], "int_list");
  EXPECT_EQ(seq["min"], 2);
  EXPECT_TRUE(eval::to_json(*eval::find_task_schema("ppl_vs_length")->find("data"))["path"].get<bool>());
  EXPECT_EQ(eval::to_json(*eval::find_task_schema("ppl_vs_length")->find("protocol"))["choices"],
            json::array({"chunks", "sliding"}));
}

TEST_F(TaskSchemaTest, UnknownTasksAndSettingsAreRefusedByName) {
  try {
    make({{"task", "nosuchtask"}});
    FAIL() << "an unknown task was built";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("ppl_vs_length"), std::string::npos) << e.what();
  }
  for (const auto& t : eval::task_schemas()) {
    auto s = minimal(t);
    s["lenghts"] = 5;
    try {
      make(s);
      ADD_FAILURE() << t.name << " accepted an unknown setting";
    } catch (const BadInput& e) {
      EXPECT_NE(std::string(e.what()).find("unknown field 'lenghts'"), std::string::npos) << e.what();
    }
  }
}

TEST_F(TaskSchemaTest, EveryTaskBuildsFromItsRequiredSettingsAndAcceptsTheCommonOnes) {
  for (const auto& t : eval::task_schemas()) {
    auto s = minimal(t);
    EXPECT_NO_THROW(make(s)) << t.name << " " << s.dump();
    s["alias"] = "x";
    s["seed"] = 7;
    s["batch_size"] = 2;
    EXPECT_NO_THROW(make(s)) << t.name;
  }
}

// A value other than the default, in range (a shorter list, the next number, the other choice).
std::optional<json> another(const eval::SettingSchema& d) {
  const auto& v = d.default_value;
  switch (d.type) {
    case SettingType::integer: {
      const auto x = v.get<std::int64_t>();
      return fits(d, static_cast<double>(x + 1)) ? json(x + 1) : json(x - 1);
    }
    case SettingType::number: return json(v.get<double>() + 0.5);
    case SettingType::integer_list:
    case SettingType::number_list:
    case SettingType::word_list:
      if (v.size() > 1) return json(std::vector<json>(v.begin(), v.end() - 1));
      if (d.type == SettingType::integer_list) {
        const auto x = v[0].get<std::int64_t>();
        return json::array({fits(d, static_cast<double>(x + 1)) ? x + 1 : x - 1});
      }
      return std::nullopt;
    case SettingType::boolean: return json(!v.get<bool>());
    case SettingType::choice:
      for (const auto& c : d.choices)
        if (json(c) != v) return json(c);
      return std::nullopt;
    default: return std::nullopt;
  }
}

TEST_F(TaskSchemaTest, EveryDefaultIsWhatTheTaskResolvesAndReachesItsConfiguration) {
  // Settings a different value may leave out of the configuration, and why.
  const std::set<std::string> not_in_config{
      "field",           // read only from .jsonl/.json records; the data hash covers what is read
      "haystack_field",  // the same for RULER's haystack
  };
  int checked = 0;
  for (const auto& t : eval::task_schemas()) {
    const auto base = minimal(t);
    const auto plain = make(base);
    for (const auto& d : t.settings) {
      if (d.default_value.is_null()) continue;
      const auto where = t.name + "." + d.key;
      auto with = base;
      with[d.key] = d.default_value;
      const auto explicit_default = make(with);
      EXPECT_EQ(plain->config(), explicit_default->config()) << where << ": absent and default differ";
      EXPECT_EQ(plain->unit_count(), explicit_default->unit_count()) << where;
      ++checked;
      if (not_in_config.count(d.key)) continue;
      const auto other = another(d);
      if (!other) continue;
      with[d.key] = *other;
      EXPECT_NE(plain->config(), make(with)->config()) << where << ": " << other->dump() << " changes nothing in the "
                                                       << "configuration (so stored results would be reused for it)";
    }
  }
  EXPECT_GT(checked, 60);
}

}  // namespace
}  // namespace lmscope
