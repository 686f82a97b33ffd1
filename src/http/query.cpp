#include "http/query.h"

#include <cctype>
#include <charconv>

#include "common/json_parse.h"
#include "http/problem.h"

namespace outpost::http {

std::optional<std::int64_t> parseNonNegative(const std::string& text) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

Result<int> parseLimit(const std::string& text) {
  const auto value = parseNonNegative(text);
  if (!value || *value < 1 || *value > kMaxPageSize) {
    const std::string detail = "must be an integer from 1 to " + std::to_string(kMaxPageSize);
    return Error(ErrorKind::kInvalidArgument, "limit " + detail, {{"limit", detail}});
  }
  return static_cast<int>(*value);
}

Result<PageQuery> parsePageQuery(const httplib::Request& request, const PageQueryRules& rules) {
  PageQuery query;
  std::vector<FieldError> errors;
  for (const auto& [name, value] : request.params) {
    if (name == "status" && rules.is_status != nullptr) {
      if (rules.is_status(value)) {
        query.status = value;
      } else {
        errors.push_back({"status", std::string("must be one of ") + rules.statuses});
      }
    } else if (name == "limit") {
      auto limit = parseLimit(value);
      if (limit) {
        query.limit = *limit;
      } else {
        errors.push_back(limit.error().fields.front());
      }
    } else if (name == "after") {
      if (rules.is_cursor(value)) {
        query.after = value;
      } else {
        errors.push_back({"after", "must be the 'next' cursor of a previous page"});
      }
    } else {
      errors.push_back({name, "unknown query parameter"});
    }
  }
  if (!errors.empty()) return Error(ErrorKind::kInvalidArgument, "invalid query", errors);
  return query;
}

namespace {

// Media types are case-insensitive (RFC 9110 §8.3.1): "Application/JSON; charset=utf-8".
bool isJsonMediaType(const std::string& content_type) {
  std::string media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.pop_back();
  for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return media == "application/json" || (media.size() > 5 && media.ends_with("+json"));
}

}  // namespace

Result<nlohmann::json> readJsonBody(const httplib::Request& request) {
  if (request.has_header("Content-Type") &&
      !isJsonMediaType(request.get_header_value("Content-Type"))) {
    return Error::invalidArgument("Content-Type must be application/json");
  }
  auto body = parseJson(request.body);
  if (!body && body.error().fields.empty()) {
    return Error::invalidArgument("the request body is not valid JSON: " + body.error().message);
  }
  return body;
}

void writeJson(httplib::Response& response, int status, const std::string& body) {
  response.status = status;
  response.set_content(body, kJsonContentType);
}

}  // namespace outpost::http
