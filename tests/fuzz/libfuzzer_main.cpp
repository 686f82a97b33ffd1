// The libFuzzer entry point of every target (see fuzz_targets.h): tests/fuzz/CMakeLists.txt
// compiles it once a target, with OUTPOST_FUZZ_BODY naming that target's body.
#include "fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  outpost::fuzz::OUTPOST_FUZZ_BODY(data, size);
  return 0;
}
