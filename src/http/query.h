// Small pieces every route uses: query parameters of list pages, and JSON answers.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <nlohmann/json.hpp>
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

// ?status=&limit=&after= of a list page, checked: unknown parameters are errors too.
struct PageQuery {
  std::optional<std::string> status;
  int limit = kDefaultPageSize;
  std::optional<std::string> after;
};

struct PageQueryRules {
  bool (*is_status)(const std::string&);  // nullptr: the list has no status filter
  const char* statuses;                   // for the error: "PENDING, SENT, FAILED"
  bool (*is_cursor)(const std::string&);
};

// Every bad parameter is listed in the error's fields.
Result<PageQuery> parsePageQuery(const httplib::Request& request, const PageQueryRules& rules);

void writeJson(httplib::Response& response, int status, const std::string& body);

// The request's JSON body; an error when it is not JSON, or is sent as another media type.
Result<nlohmann::json> readJsonBody(const httplib::Request& request);

}  // namespace outpost::http
