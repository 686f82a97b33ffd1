#include "common/json_parse.h"

#include <gtest/gtest.h>

#include <string>

namespace outpost {
namespace {

using namespace std::string_literals;

std::string nestedArrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(ParseJson, ParsesOneValue) {
  auto parsed = parseJson(R"({"a": [1, 2.5, "x", null, true]} )");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ((*parsed)["a"][2], "x");
}

TEST(ParseJson, TakesTheDeepestAllowedNestingAndRefusesOneLevelMore) {
  EXPECT_TRUE(parseJson(nestedArrays(kMaxJsonDepth)));
  const auto too_deep = parseJson(nestedArrays(kMaxJsonDepth + 1));
  ASSERT_FALSE(too_deep);
  EXPECT_EQ(too_deep.error().kind, ErrorKind::kInvalidArgument);
  ASSERT_EQ(too_deep.error().fields.size(), 1u);
  EXPECT_EQ(too_deep.error().fields[0].field, "body");
  EXPECT_EQ(too_deep.error().fields[0].detail, "nests deeper than 64 levels");
}

TEST(ParseJson, NamesTheTopLevelFieldADeepValueSitsUnder) {
  const std::string order = R"({"customerId":"c","items":[{"productId":"p","quantity":1}],)"
                            R"("metadata":{"a":)" +
                            nestedArrays(2500) + "}}";
  const auto parsed = parseJson(order);
  ASSERT_FALSE(parsed);
  ASSERT_EQ(parsed.error().fields.size(), 1u);
  EXPECT_EQ(parsed.error().fields[0].field, "metadata");
}

TEST(ParseJson, RefusesNestingFarPastTheLimitWithoutBuildingIt) {
  // 300,000 levels: the depth of the inflated gzip body that crashed the node.
  std::string objects;
  for (int i = 0; i < 300000; ++i) objects += R"({"a":)";
  for (const auto& text : {nestedArrays(300000), objects}) {
    const auto parsed = parseJson(text);
    ASSERT_FALSE(parsed);
    ASSERT_EQ(parsed.error().fields.size(), 1u) << parsed.error().message;
    EXPECT_EQ(parsed.error().fields[0].detail, "nests deeper than 64 levels");
  }
}

TEST(ParseJson, RefusesAnythingAfterTheValue) {
  EXPECT_FALSE(parseJson(R"({"a":1} {"b":2})"));
  EXPECT_FALSE(parseJson(R"({"a":1}x)"));
  EXPECT_TRUE(parseJson("{\"a\":1}\r\n\t "));
}

TEST(ParseJson, RefusesANulByteAnywhere) {
  const auto trailing = parseJson("{\"a\":1}\0 this is not JSON"s);
  ASSERT_FALSE(trailing);
  EXPECT_NE(trailing.error().message.find("NUL"), std::string::npos);
  EXPECT_FALSE(parseJson("{\"a\":\"x\0y\"}"s));
  EXPECT_FALSE(parseJson("\0"s));
}

TEST(ParseJson, SaysWhereTheSyntaxBreaks) {
  const auto parsed = parseJson(R"({"a": tru})");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message.find("[json.exception"), std::string::npos);
  EXPECT_NE(parsed.error().message.find("column"), std::string::npos) << parsed.error().message;
  EXPECT_FALSE(parseJson(""));
}

TEST(ParseJsonOrDiscarded, GivesADiscardedValueForWhatParseJsonRefuses) {
  EXPECT_TRUE(parseJsonOrDiscarded(nestedArrays(100)).is_discarded());
  EXPECT_TRUE(parseJsonOrDiscarded("<html>").is_discarded());
  EXPECT_TRUE(parseJsonOrDiscarded(R"({"id":"d-1"})").is_object());
}

}  // namespace
}  // namespace outpost
