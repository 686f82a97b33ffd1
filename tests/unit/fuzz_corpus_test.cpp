// Every input of the committed fuzz corpus (tests/fuzz/corpus) through its fuzz target's
// body, so the cases found once stay checked in the normal and sanitizer builds, without
// libFuzzer. A broken property aborts the test binary.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "fuzz/fuzz_targets.h"

namespace outpost::fuzz {
namespace {

std::size_t runCorpus(const std::string& name, void (*target)(const std::uint8_t*, std::size_t)) {
  std::size_t files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(OUTPOST_FUZZ_CORPUS) + "/" + name)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().string());
    target(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    ++files;
  }
  return files;
}

TEST(FuzzCorpus, RequestParserHoldsItsPropertiesOnEveryCorpusInput) {
  EXPECT_GE(runCorpus("request_parser", &requestParserInput), 10u);
}

TEST(FuzzCorpus, JsonBodyHoldsItsPropertiesOnEveryCorpusInput) {
  EXPECT_GE(runCorpus("json_body", &jsonBodyInput), 5u);
}

TEST(FuzzCorpus, QueryStringHoldsItsPropertiesOnEveryCorpusInput) {
  EXPECT_GE(runCorpus("query_string", &queryStringInput), 10u);
}

TEST(FuzzCorpus, HeaderValuesHoldsItsPropertiesOnEveryCorpusInput) {
  EXPECT_GE(runCorpus("header_values", &headerValuesInput), 15u);
}

TEST(FuzzCorpus, ConfigHoldsItsPropertiesOnEveryCorpusInput) {
  EXPECT_GE(runCorpus("config", &configInput), 20u);
}

TEST(FuzzCorpus, SnsAnswerHoldsItsPropertiesOnEveryCorpusInput) {
  EXPECT_GE(runCorpus("sns_answer", &snsAnswerInput), 10u);
}

TEST(FuzzCorpus, SqsAnswerHoldsItsPropertiesOnEveryCorpusInput) {
  EXPECT_GE(runCorpus("sqs_answer", &sqsAnswerInput), 10u);
}

TEST(FuzzCorpus, ProductAnswerHoldsItsPropertiesOnEveryCorpusInput) {
  EXPECT_GE(runCorpus("product_answer", &productAnswerInput), 10u);
}

TEST(FuzzCorpus, DeliveryAnswerHoldsItsPropertiesOnEveryCorpusInput) {
  EXPECT_GE(runCorpus("delivery_answer", &deliveryAnswerInput), 15u);
}

}  // namespace
}  // namespace outpost::fuzz
