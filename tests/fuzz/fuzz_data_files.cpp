// libFuzzer target: the evaluation data readers over arbitrary text. The first byte picks the reader: JSON lines,
// a .json list of documents, a .jsonl corpus, the WikiText raw file (split, detokenised, words counted), a
// multiple-choice task's records (the second byte picks the task), LAMBADA records, or the text helpers.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "eval/task_data.h"
#include "lmscope/error.h"
#include "lmscope/eval/multiple_choice.h"
#include "lmscope/eval/wikitext.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace lmscope;
  if (size < 2) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  try {
    switch (data[0] % 7) {
      case 0:
        eval::parse_jsonl(text, "data.jsonl");
        break;
      case 1:
        eval::documents_from_text(text, "docs.json", "text");
        break;
      case 2:
        eval::documents_from_text(text, "docs.jsonl", "text");
        break;
      case 3:
        for (const auto& doc : eval::split_wikitext_documents(text)) {
          eval::wikitext_detokenize(doc);
          eval::count_words_like_lm_eval(doc);
        }
        break;
      case 4: {
        const auto& tasks = eval::multiple_choice_tasks();
        const auto& task = tasks[data[1] % tasks.size()];
        for (const auto& record : eval::parse_jsonl(text, task + ".jsonl"))
          eval::make_multiple_choice_item(task, record, task + ".jsonl");
        break;
      }
      case 5:
        for (const auto& record : eval::parse_jsonl(text, "lambada.jsonl")) eval::make_lambada_request(record, "lambada.jsonl");
        break;
      default:
        valid_utf8(text);
        eval::python_len(text);
        eval::hellaswag_preprocess(text);
        break;
    }
  } catch (const BadInput&) {
  }
  return 0;
}
