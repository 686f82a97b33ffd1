// libFuzzer target: see fuzz_targets.h. Built by scripts/fuzz.sh (clang, -DOUTPOST_FUZZ=ON).
#include "fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  outpost::fuzz::requestParserInput(data, size);
  return 0;
}
