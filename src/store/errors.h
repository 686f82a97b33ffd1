// The one place where SQLite failures become outpost errors. No SQLite exception leaves
// store/: every entry point runs its work through guard().
#pragma once

#include <SQLiteCpp/Exception.h>

#include <exception>
#include <type_traits>

#include "outpost/result.h"

namespace outpost::store {

// BUSY past the timeout, I/O errors, a full disk, a read-only or corrupt file, a file that
// cannot be opened: the store is unusable (kUnavailable, the database breaker's business).
// A constraint violation is a conflict. Anything else is a bug (kInternal).
Error classifySqliteError(int extended_code, const char* message);
Error classifyException(const std::exception& e);

// What guard() returns for work returning R: R itself if it is a Result, else Result<R>.
template <typename R>
using GuardResult =
    std::conditional_t<std::is_convertible_v<Error, R> && !std::is_same_v<R, Error>, R, Result<R>>;

// Runs `work` and turns any exception into an Error. `work` returns a T or a Result<T>.
template <typename F>
auto guard(F&& work) {
  using Out = GuardResult<std::invoke_result_t<F>>;
  try {
    return Out(work());
  } catch (const SQLite::Exception& e) {
    return Out(classifySqliteError(e.getExtendedErrorCode(), e.what()));
  } catch (const std::exception& e) {
    return Out(classifyException(e));
  }
}

}  // namespace outpost::store
