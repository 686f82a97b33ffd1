// What every fuzz target body uses to check its properties: a broken one aborts, naming
// itself, so that libFuzzer keeps the input and the corpus test fails.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace outpost::fuzz {

[[noreturn]] inline void broken(const char* property) {
  std::fprintf(stderr, "fuzz property broken: %s\n", property);
  std::abort();
}

inline void check(bool holds, const char* property) {
  if (!holds) broken(property);
}

}  // namespace outpost::fuzz
