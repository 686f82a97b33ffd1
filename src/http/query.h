// Small pieces every route uses: query parameters of list pages, and JSON answers.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <optional>
#include <string>

#include "outpost/result.h"

namespace outpost::http {

inline constexpr int kMaxPageSize = 500;
inline constexpr int kDefaultPageSize = 50;

// `limit`: an integer from 1 to kMaxPageSize, or an error naming the field.
Result<int> parseLimit(const std::string& text);

// A whole non-negative decimal integer, or nullopt.
std::optional<std::int64_t> parseNonNegative(const std::string& text);

void writeJson(httplib::Response& response, int status, const std::string& body);

}  // namespace outpost::http
