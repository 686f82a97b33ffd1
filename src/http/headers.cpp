#include "http/headers.h"

#include "common/text.h"
#include "http/request_parser.h"
#include "idempotency/idempotency.h"

namespace outpost::http {

std::string bearerToken(const httplib::Request& request) {
  const std::string header = request.get_header_value("Authorization");
  const auto space = header.find(' ');
  if (space == std::string::npos ||
      !equalsIgnoreCase(std::string_view(header).substr(0, space), "Bearer")) {
    return {};
  }
  const auto token = header.find_first_not_of(' ', space);
  return token == std::string::npos ? std::string() : header.substr(token);
}

Result<std::optional<std::string>> readIdempotencyKey(const httplib::Request& request) {
  if (!request.has_header("Idempotency-Key")) return std::optional<std::string>();
  std::string key = request.get_header_value("Idempotency-Key");
  if (key.empty() || !isValidUtf8(key) || utf8Length(key) > idempotency::kMaxKeyLength) {
    return Error(ErrorKind::kInvalidArgument,
                 "Idempotency-Key must be 1 to 255 characters of UTF-8",
                 {{"Idempotency-Key", "must be 1 to 255 characters of UTF-8"}});
  }
  return std::optional<std::string>(std::move(key));
}

}  // namespace outpost::http
