#include "fuzz/fuzz_targets.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "common/json_parse.h"
#include "fuzz/fuzz_check.h"
#include "http/request_parser.h"
#include "orders/order_json.h"

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

}  // namespace outpost::fuzz
