#include "fuzz/fuzz_targets.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/json_parse.h"
#include "common/text.h"
#include "fuzz/fuzz_check.h"
#include "http/headers.h"
#include "http/query.h"
#include "http/request_parser.h"
#include "idempotency/idempotency.h"
#include "orders/order_json.h"
#include "orders/order_status.h"
#include "outbox/outbox_admin.h"

namespace outpost::fuzz {
namespace {

// A request's normalized form (what cpp-httplib reads) must read back as the same
// request, within the same limits: cpp-httplib has the same request-line limit, and the
// form holds at most two header lines of its own.
void checkNormalizedForm(const http::ParsedRequest& request, const http::RequestLimits& limits) {
  http::RequestParser again(limits);
  const std::string normalized = http::normalizedRequest(request);
  const std::size_t used = again.feed(normalized);
  check(again.state() == http::RequestParser::State::kComplete, "normalized request parses");
  check(used == normalized.size(), "normalized request is used whole");
  check(again.request().method == request.method, "same method");
  check(again.request().target == request.target, "same target");
  check(again.request().version == request.version, "same version");
  check(again.request().keep_alive == request.keep_alive, "same keep-alive");
  check(again.request().body == request.body, "same body");
  check(again.request().headers.size() <= 2, "no header of the client's in the form");
}

int depth(const nlohmann::json& value) {
  if (!value.is_structured()) return 0;
  int deepest = 0;
  for (const auto& child : value) deepest = std::max(deepest, depth(child));
  return deepest + 1;
}

// ---- Query strings ----

bool isNumericCursor(const std::string& text) { return http::parseNonNegative(text).has_value(); }

// The rules of the three list pages, by their public checks: orders (their statuses),
// the outbox (event statuses), reviews (no status filter). The routes' own order cursor
// check is stricter than a number; a cursor here is what their predicate says.
const http::PageQueryRules kPageRules[] = {
    {orders::isKnownOrderStatus, "order statuses", isNumericCursor},
    {outbox::isEventStatus, "PENDING, SENT, FAILED", isNumericCursor},
    {nullptr, "", isNumericCursor},
};

// What cpp-httplib makes of the query string of a request target (Server::parse_request_line).
httplib::Request requestWithQuery(const std::string& query) {
  httplib::Request request;
  httplib::detail::parse_query_text(query, request.params);
  return request;
}

// The canonical form of the parameters: every byte of every name and value percent-encoded.
std::string canonicalQuery(const httplib::Params& params) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  auto encode = [&out](const std::string& text) {
    for (const unsigned char c : text) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  };
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    encode(name);
    out += '=';
    encode(value);
  }
  return out;
}

// A parameter parsePageQuery refuses, by the documented rules.
bool isBadParameter(const std::string& name, const std::string& value,
                    const http::PageQueryRules& rules) {
  if (name == "status" && rules.is_status != nullptr) return !rules.is_status(value);
  if (name == "limit") return !http::parseLimit(value);
  if (name == "after") return !rules.is_cursor(value);
  return true;
}

void checkNumberText(const std::string& text) {
  const auto number = http::parseNonNegative(text);
  if (number) {
    check(*number >= 0, "a non-negative number is not negative");
    check(http::parseNonNegative(std::to_string(*number)) == number, "a number round-trips");
  }
  const auto limit = http::parseLimit(text);
  check(limit.ok() == (number && *number >= 1 && *number <= http::kMaxPageSize),
        "a limit is a number from 1 to kMaxPageSize");
  if (!limit) {
    check(limit.error().kind == ErrorKind::kInvalidArgument, "a bad limit is invalid input");
    check(limit.error().fields.size() == 1 && limit.error().fields[0].field == "limit",
          "a bad limit names the field");
  }
}

// ---- Header values ----

// The value as the node's request reader hands it to the handlers (guarded_server.cpp), or
// nullopt when the reader refuses a request that carries it (a NUL or control byte, ...).
std::optional<std::string> valueAsRead(std::string_view value) {
  http::RequestParser parser{http::RequestLimits{}};
  parser.feed("GET / HTTP/1.1\r\nX-Value: " + std::string(value) + "\r\n\r\n");
  if (parser.state() != http::RequestParser::State::kComplete) return std::nullopt;
  const std::string* read = parser.request().header("X-Value");
  return read != nullptr ? std::optional<std::string>(*read) : std::nullopt;
}

bool isJsonMediaTypeAccepted(const std::string& content_type) {
  httplib::Request request;
  request.headers.emplace("Content-Type", content_type);  // as sent: set_header drops CR/LF
  request.body = "{}";
  const auto body = http::readJsonBody(request);
  if (!body) {
    check(body.error().kind == ErrorKind::kInvalidArgument, "a refused body is invalid input");
    return false;
  }
  check(body->is_object() && body->empty(), "the body read is the body sent");
  return true;
}

std::string asciiUpper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::string bearerTokenOf(const std::string& authorization) {
  httplib::Request request;
  request.headers.emplace("Authorization", authorization);
  return http::bearerToken(request);
}

// Code points in UTF-8 that nlohmann::json's own (strict) writer accepts: an oracle for
// isValidUtf8, which is written independently of it.
bool nlohmannAcceptsUtf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}
}  // namespace

void requestParserInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return;
  // The first byte: the size of the pieces the network delivers (its low 6 bits), and
  // whether the node's own limits apply (bit 7) or small ones, which the fuzzer reaches
  // with short inputs.
  const std::size_t step = 1 + (data[0] & 0x3f);
  const bool node_limits = (data[0] & 0x80) != 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  http::RequestLimits limits;
  if (!node_limits) {
    limits.max_request_line = 256;
    limits.max_header_line = 128;
    limits.max_header_bytes = 512;
    limits.max_headers = 8;
    limits.max_body = 1024;
  }
  std::size_t offset = 0;
  while (offset < input.size()) {
    http::RequestParser parser(limits);
    while (offset < input.size() &&
           (parser.state() == http::RequestParser::State::kIncomplete ||
            parser.state() == http::RequestParser::State::kHeadersComplete)) {
      const auto piece = input.substr(offset, step);
      const std::size_t used = parser.feed(piece);
      check(used <= piece.size(), "feed uses at most what it is given");
      check(used > 0 || parser.state() != http::RequestParser::State::kIncomplete,
            "feed makes progress or stops");
      offset += used;
    }
    check(parser.request().body.size() <= limits.max_body, "body within the limit");
    if (parser.state() == http::RequestParser::State::kFailed) {
      const int status = parser.error().status;
      check(status >= 400 && status < 500, "a refusal is a 4xx");
      check(!parser.error().detail.empty(), "a refusal says why");
      return;
    }
    if (parser.state() != http::RequestParser::State::kComplete) return;
    checkNormalizedForm(parser.request(), limits);
  }
}

void jsonBodyInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parseJson(text);
  if (!parsed) {
    check(parsed.error().kind == ErrorKind::kInvalidArgument, "a refusal is invalid input");
    return;
  }
  check(depth(*parsed) <= kMaxJsonDepth, "nesting within the limit");
  const std::string dumped = parsed->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const auto again = parseJson(dumped);
  check(static_cast<bool>(again), "a dump parses again");
  auto order = orders::parseNewOrder(*parsed);
  if (order) check(!order->customer_id.empty(), "a taken order has a customer");
}

void queryStringInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return;
  const http::PageQueryRules& rules = kPageRules[data[0] % std::size(kPageRules)];
  const std::string query(reinterpret_cast<const char*>(data) + 1, size - 1);
  const httplib::Request request = requestWithQuery(query);
  const auto page = http::parsePageQuery(request, rules);
  std::size_t bad = 0;
  const std::string* last_limit = nullptr;
  for (const auto& [name, value] : request.params) {
    checkNumberText(value);
    if (isBadParameter(name, value, rules)) ++bad;
    if (name == "limit") last_limit = &value;
  }
  if (!page) {
    check(page.error().kind == ErrorKind::kInvalidArgument, "a refused query is invalid input");
    check(page.error().fields.size() == bad && bad > 0, "every bad parameter is named, once");
    for (const auto& field : page.error().fields) {
      check(request.params.count(field.field) > 0, "a named parameter was sent");
    }
    return;
  }
  check(bad == 0, "a taken query has no bad parameter");
  check(page->limit >= 1 && page->limit <= http::kMaxPageSize, "the limit is within its range");
  check(last_limit != nullptr ? page->limit == *http::parseLimit(*last_limit)
                              : page->limit == http::kDefaultPageSize,
        "the limit is the last one sent, or the default");
  check(!page->status || (rules.is_status != nullptr && rules.is_status(*page->status)),
        "a status is one the page knows");
  check(!page->after || rules.is_cursor(*page->after), "a cursor is one the page takes");
  const auto again = http::parsePageQuery(requestWithQuery(canonicalQuery(request.params)), rules);
  check(again && again->limit == page->limit && again->status == page->status &&
            again->after == page->after,
        "the canonical form reads back to the same page");
}

void headerValuesInput(const std::uint8_t* data, std::size_t size) {
  const auto read = valueAsRead(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!read) return;
  const std::string& value = *read;

  // Authorization.
  const std::string token = bearerTokenOf(value);
  if (!token.empty()) {
    const auto space = value.find(' ');
    check(space != std::string::npos && http::equalsIgnoreCase(value.substr(0, space), "Bearer"),
          "a token comes with the Bearer scheme");
    check(value.ends_with(token), "the token is the rest of the value, as sent");
    check(token.front() != ' ', "the token starts after the spaces");
  }
  const std::string rest = value.substr(std::min(value.find_first_not_of(' '), value.size()));
  check(bearerTokenOf("Bearer " + rest) == rest, "a Bearer token round-trips");
  check(bearerTokenOf("bEARER   " + rest) == rest, "the scheme is case-insensitive");
  check(bearerTokenOf("Basic " + rest).empty(), "another scheme gives no token");

  // Idempotency-Key.
  httplib::Request request;
  request.headers.emplace("Idempotency-Key", value);
  const auto key = http::readIdempotencyKey(request);
  const bool valid_utf8 = isValidUtf8(value);
  check(valid_utf8 == nlohmannAcceptsUtf8(value), "isValidUtf8 agrees with nlohmann::json");
  if (valid_utf8) {
    const auto points =
        std::count_if(value.begin(), value.end(), [](char c) { return (c & 0xc0) != 0x80; });
    check(utf8Length(value) == static_cast<std::size_t>(points), "utf8Length counts code points");
  }
  if (key) {
    check(key->has_value() && **key == value, "a key is taken exactly as sent");
    check(!value.empty() && valid_utf8 && utf8Length(value) <= idempotency::kMaxKeyLength,
          "a taken key is 1 to 255 characters of UTF-8");
  } else {
    check(key.error().kind == ErrorKind::kInvalidArgument, "a refused key is invalid input");
    check(key.error().fields.size() == 1 && key.error().fields[0].field == "Idempotency-Key",
          "a refused key names the header");
  }

  // Content-Type: the media type decides, whatever its case or parameters.
  const bool json = isJsonMediaTypeAccepted(value);
  check(isJsonMediaTypeAccepted(asciiUpper(value)) == json, "media types are case-insensitive");
  check(isJsonMediaTypeAccepted(value.substr(0, value.find(';')) + "; charset=utf-8") == json,
        "parameters do not change the media type");
  if (json) {
    std::string media = asciiUpper(value.substr(0, value.find(';')));
    while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.pop_back();
    check(media == "APPLICATION/JSON" || (media.size() > 5 && media.ends_with("+JSON")),
          "an accepted media type is application/json or +json");
  }
}

}  // namespace outpost::fuzz
