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

struct Corpus {
  const char* name;  // the folder under tests/fuzz/corpus, and the libFuzzer target's name
  void (*target)(const std::uint8_t*, std::size_t);
  std::size_t at_least;  // seed files, so a corpus lost by mistake fails
};

class FuzzCorpus : public ::testing::TestWithParam<Corpus> {};

TEST_P(FuzzCorpus, EveryInputHoldsItsTargetsProperties) {
  EXPECT_GE(runCorpus(GetParam().name, GetParam().target), GetParam().at_least);
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzCorpus,
                         ::testing::Values(Corpus{"request_parser", &requestParserInput, 10},
                                           Corpus{"json_body", &jsonBodyInput, 5},
                                           Corpus{"query_string", &queryStringInput, 10},
                                           Corpus{"header_values", &headerValuesInput, 15},
                                           Corpus{"config", &configInput, 20},
                                           Corpus{"sns_answer", &snsAnswerInput, 10},
                                           Corpus{"sqs_answer", &sqsAnswerInput, 10},
                                           Corpus{"product_answer", &productAnswerInput, 10},
                                           Corpus{"delivery_answer", &deliveryAnswerInput, 15}),
                         [](const ::testing::TestParamInfo<Corpus>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace outpost::fuzz
