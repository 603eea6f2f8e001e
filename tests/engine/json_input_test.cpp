// JSON from outside: duplicate keys, nesting beyond any real file and numbers beyond a double are BadInput naming
// the source, never a crash or a silently chosen value.
#include <gtest/gtest.h>

#include "lmscope/error.h"
#include "lmscope/json_input.h"

namespace lmscope {
namespace {

std::string parse_error(const std::string& text) {
  try {
    parse_json_input(text, "src.json");
  } catch (const BadInput& e) {
    return e.what();
  }
  return "accepted";
}

TEST(JsonInput, ParsesOrdinaryJson) {
  const auto j = parse_json_input(R"({"a": [1, 2.5, {"b": null}], "c": "d", "e": {"a": 1}})", "x");
  EXPECT_EQ(j["a"][1], 2.5);
  EXPECT_EQ(j["e"]["a"], 1);  // the same key in different objects is fine
}

TEST(JsonInput, RefusesDuplicateKeysAtAnyDepth) {
  EXPECT_NE(parse_error(R"({"a": 1, "a": 2})").find("key \"a\" appears twice"), std::string::npos);
  EXPECT_NE(parse_error(R"({"x": [{"k": 1, "k": 1}]})").find("\"k\""), std::string::npos);
}

TEST(JsonInput, RefusesDeepNestingWithoutRecursing) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const auto msg = parse_error(deep);
  EXPECT_NE(msg.find("src.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("nested deeper than 64"), std::string::npos) << msg;
  EXPECT_EQ(parse_error(std::string(64, '[') + std::string(64, ']')), "accepted");
  EXPECT_NE(parse_error(std::string(65, '[') + std::string(65, ']')), "accepted");
}

TEST(JsonInput, NumbersBeyondADoubleAndMalformedTextAreBadInput) {
  EXPECT_NE(parse_error("[1e400]").find("not valid JSON"), std::string::npos);
  EXPECT_NE(parse_error("{\"a\": ").find("src.json: not valid JSON"), std::string::npos);
  EXPECT_NE(parse_error("").find("not valid JSON"), std::string::npos);
}

TEST(JsonInput, ValidUtf8ReplacesOnlyBadSequences) {
  EXPECT_EQ(valid_utf8("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(valid_utf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate, byte by byte
}

}  // namespace
}  // namespace lmscope
