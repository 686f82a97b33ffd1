#include "http/request_parser.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <optional>

namespace outpost::http {
namespace {

// A chunk-size line is hex digits and, rarely, an extension nobody here reads.
constexpr std::size_t kMaxChunkSizeLine = 128;
// Significant digits (leading zeros aside): past any limit, and short of an overflow.
constexpr std::size_t kMaxChunkSizeDigits = 15;
constexpr std::size_t kMaxContentLengthDigits = 18;

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// RFC 9110 §5.6.2: the characters of a token (a method, a header name).
bool isTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool isToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), isTokenChar);
}

// A request-target is visible ASCII: no space, no control byte, nothing above 0x7E.
bool isTargetChar(char c) { return c > 0x20 && c < 0x7F; }

bool isOws(char c) { return c == ' ' || c == '\t'; }

std::string_view trimOws(std::string_view text) {
  while (!text.empty() && isOws(text.front())) text.remove_prefix(1);
  while (!text.empty() && isOws(text.back())) text.remove_suffix(1);
  return text;
}

// The comma-separated elements of a list-valued header, trimmed; empty ones dropped.
std::vector<std::string_view> listElements(std::string_view value) {
  std::vector<std::string_view> elements;
  while (true) {
    const auto comma = value.find(',');
    const auto element = trimOws(value.substr(0, comma));
    if (!element.empty()) elements.push_back(element);
    if (comma == std::string_view::npos) return elements;
    value.remove_prefix(comma + 1);
  }
}

std::string_view withoutLeadingZeros(std::string_view digits) {
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  return digits;
}

bool allDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string bodyTooLarge(std::size_t max_body) {
  return "request body exceeds " + std::to_string(max_body / 1024) + " KiB";
}

// Framing and content headers, gathered once the header section is in.
struct Framing {
  bool chunked = false;
  std::optional<std::uint64_t> length;
  bool expect_continue = false;
};

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

const std::string* ParsedRequest::header(std::string_view name) const {
  for (const auto& header : headers) {
    if (equalsIgnoreCase(header.name, name)) return &header.value;
  }
  return nullptr;
}

std::size_t RequestParser::feed(std::string_view input) {
  if (state_ == State::kHeadersComplete) state_ = State::kIncomplete;
  std::size_t used = 0;
  while (state_ == State::kIncomplete && used < input.size()) {
    switch (phase_) {
      case Phase::kRequestLine:
        if (takeLine(input, used, limits_.max_request_line, 414, "the request line")) {
          onRequestLine();
        }
        break;
      case Phase::kHeaders:
        if (takeLine(input, used, headerBytesLeft(), 431, "the header section")) {
          onHeaderLine();
        }
        break;
      case Phase::kBody:
      case Phase::kChunkData:
        takeBody(input, used);
        break;
      case Phase::kChunkSize:
        if (takeLine(input, used, kMaxChunkSizeLine, 400, "a chunk-size line")) {
          framing_bytes_ += line_.size() + 2;
          onChunkSizeLine();
        }
        break;
      case Phase::kChunkDataEnd:
        ++framing_bytes_;
        takeChunkEnd(input[used++]);
        break;
      case Phase::kTrailers:
        if (takeLine(input, used, headerBytesLeft(), 431, "the header section")) {
          onTrailerLine();
        }
        break;
      case Phase::kDone:
        return used;
    }
  }
  return used;
}

bool RequestParser::takeLine(std::string_view input, std::size_t& used, std::size_t limit,
                             int too_long_status, const char* what) {
  const char* begin = input.data() + used;
  const std::size_t available = input.size() - used;
  const void* lf = std::memchr(begin, '\n', available);
  const std::size_t take = lf != nullptr ? static_cast<const char*>(lf) - begin + 1 : available;
  if (line_.size() + take > limit) {
    fail(too_long_status,
         std::string(what) + " is longer than " +
             std::to_string(too_long_status == 431 ? limits_.max_header_bytes : limit) + " bytes");
    return false;
  }
  line_.append(begin, take);
  used += take;
  if (lf == nullptr) return false;
  line_.pop_back();
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  return true;
}

void RequestParser::onRequestLine() {
  // RFC 9112 §2.2: empty lines before a request line are ignored (a client's stray CRLF
  // after its previous body); they count toward the request line's limit.
  if (line_.empty()) {
    skipped_ += 2;
    if (skipped_ > limits_.max_request_line) fail(400, "no request line, only empty lines");
    return;
  }
  // cpp-httplib reads the line again, ended by CRLF, and has the same limit.
  if (line_.size() + 2 > limits_.max_request_line) {
    return fail(414, "the request line is longer than " + std::to_string(limits_.max_request_line) +
                         " bytes");
  }
  const std::string_view line(line_);
  const auto first = line.find(' ');
  const auto second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos) {
    return fail(400, "the request line must be 'METHOD TARGET HTTP/1.1'");
  }
  const auto method = line.substr(0, first);
  const auto target = line.substr(first + 1, second - first - 1);
  const auto version = line.substr(second + 1);
  if (!isToken(method)) return fail(400, "the request method is not a token");
  if (target.empty() || !std::all_of(target.begin(), target.end(), isTargetChar)) {
    return fail(400, "the request target must be visible ASCII");
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return fail(400, "only HTTP/1.1 and HTTP/1.0 are served");
  }
  request_.method = method;
  request_.target = target;
  request_.version = version;
  request_.keep_alive = version == "HTTP/1.1";
  line_.clear();
  phase_ = Phase::kHeaders;
}

void RequestParser::onHeaderLine() {
  if (line_.empty()) return onHeadersEnd();
  header_bytes_ += line_.size() + 2;
  if (++header_count_ > limits_.max_headers) {
    return fail(431, "more than " + std::to_string(limits_.max_headers) + " header fields");
  }
  if (isOws(line_.front())) return fail(400, "folded header lines (obs-fold) are not accepted");
  const std::string_view line(line_);
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || !isToken(line.substr(0, colon))) {
    return fail(400, "a header line is not 'Name: value'");
  }
  const auto name = line.substr(0, colon);
  const auto value = trimOws(line.substr(colon + 1));
  if (line.size() + 2 > limits_.max_header_line) {
    return fail(431, "header " + std::string(name) + " is longer than " +
                         std::to_string(limits_.max_header_line) + " bytes");
  }
  for (char c : value) {
    if (c == '\0') return fail(400, "header " + std::string(name) + " holds a NUL byte");
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) {
      return fail(400, "header " + std::string(name) + " holds a control character");
    }
  }
  request_.headers.push_back({std::string(name), std::string(value)});
  line_.clear();
}

void RequestParser::onHeadersEnd() {
  line_.clear();
  Framing framing;
  bool transfer_encoding = false;
  bool close = false;       // "Connection: close" wins over any other option
  bool keep_alive = false;  // "Connection: keep-alive": only HTTP/1.0 needs it
  for (const auto& [name, value] : request_.headers) {
    if (equalsIgnoreCase(name, "Transfer-Encoding")) {
      transfer_encoding = true;
      for (auto coding : listElements(value)) {
        if (framing.chunked || !equalsIgnoreCase(coding, "chunked")) {
          return fail(400, "Transfer-Encoding must be chunked alone, not '" + value + "'");
        }
        framing.chunked = true;
      }
    } else if (equalsIgnoreCase(name, "Content-Length")) {
      for (auto element : listElements(value)) {
        if (!allDigits(element)) return fail(400, "Content-Length must be a whole number");
        const auto digits = withoutLeadingZeros(element);
        if (digits.size() > kMaxContentLengthDigits) {
          return fail(413, bodyTooLarge(limits_.max_body));
        }
        const std::uint64_t length = std::stoull(std::string(digits));
        if (framing.length && *framing.length != length) {
          return fail(400, "Content-Length is given twice, with different values");
        }
        framing.length = length;
      }
      if (!framing.length) return fail(400, "Content-Length must be a whole number");
    } else if (equalsIgnoreCase(name, "Content-Encoding")) {
      for (auto coding : listElements(value)) {
        if (!equalsIgnoreCase(coding, "identity")) {
          return fail(
              415, "Content-Encoding '" + value + "' is not accepted; send the body uncompressed");
        }
      }
    } else if (equalsIgnoreCase(name, "Expect")) {
      if (!equalsIgnoreCase(value, "100-continue")) {
        return fail(417, "Expect '" + value + "' cannot be met; only 100-continue is known");
      }
      framing.expect_continue = true;
    } else if (equalsIgnoreCase(name, "Connection")) {
      for (auto option : listElements(value)) {
        close |= equalsIgnoreCase(option, "close");
        keep_alive |= equalsIgnoreCase(option, "keep-alive");
      }
    }
  }
  request_.keep_alive = !close && (request_.version == "HTTP/1.1" || keep_alive);
  if (transfer_encoding && !framing.chunked) {
    return fail(400, "Transfer-Encoding must be chunked alone");
  }
  if (transfer_encoding && request_.version == "HTTP/1.0") {
    return fail(400, "Transfer-Encoding is not part of HTTP/1.0");
  }
  if (framing.chunked && framing.length) {
    return fail(400, "Content-Length and Transfer-Encoding together are not accepted");
  }
  if (framing.length && *framing.length > limits_.max_body) {
    return fail(413, bodyTooLarge(limits_.max_body));
  }
  const auto length = static_cast<std::size_t>(framing.length.value_or(0));
  if (!framing.chunked && length == 0) return complete();
  if (framing.chunked) {
    phase_ = Phase::kChunkSize;
  } else {
    phase_ = Phase::kBody;
    body_left_ = length;
    request_.body.reserve(length);
  }
  // RFC 9110 §10.1.1: an HTTP/1.0 client never gets a 1xx answer.
  request_.expects_continue = framing.expect_continue && request_.version == "HTTP/1.1";
  if (request_.expects_continue) state_ = State::kHeadersComplete;
}

void RequestParser::takeBody(std::string_view input, std::size_t& used) {
  const std::size_t take = std::min(body_left_, input.size() - used);
  request_.body.append(input.data() + used, take);
  used += take;
  body_left_ -= take;
  if (body_left_ > 0) return;
  if (phase_ == Phase::kBody) return complete();
  phase_ = Phase::kChunkDataEnd;
}

void RequestParser::takeChunkEnd(char c) {
  if (c == '\r' && line_.empty()) {
    line_.push_back(c);
  } else if (c == '\n') {
    line_.clear();
    phase_ = Phase::kChunkSize;
  } else {
    fail(400, "a chunk's data is not followed by CRLF");
  }
}

void RequestParser::onChunkSizeLine() {
  if (framing_bytes_ > limits_.max_body) {
    return fail(413, "the chunked framing exceeds " + std::to_string(limits_.max_body / 1024) +
                         " KiB (chunks too small)");
  }
  const std::string_view line(line_);
  std::size_t digits = 0;
  std::size_t significant = 0;
  std::uint64_t size = 0;
  while (digits < line.size() && hexValue(line[digits]) >= 0) {
    if (size > 0 || line[digits] != '0') ++significant;
    if (significant > kMaxChunkSizeDigits) return fail(413, bodyTooLarge(limits_.max_body));
    size = size * 16 + static_cast<std::uint64_t>(hexValue(line[digits]));
    ++digits;
  }
  const auto rest = trimOws(line.substr(digits));
  if (digits == 0 || (!rest.empty() && rest.front() != ';')) {
    return fail(400, "a chunk-size line is not hexadecimal digits");
  }
  line_.clear();
  if (size == 0) {
    phase_ = Phase::kTrailers;
    return;
  }
  if (size > limits_.max_body - request_.body.size()) {
    return fail(413, bodyTooLarge(limits_.max_body));
  }
  body_left_ = static_cast<std::size_t>(size);
  phase_ = Phase::kChunkData;
}

void RequestParser::onTrailerLine() {
  // Trailer fields are read past and dropped: no route reads them.
  if (line_.empty()) return complete();
  header_bytes_ += line_.size() + 2;
  if (++header_count_ > limits_.max_headers) {
    return fail(431, "more than " + std::to_string(limits_.max_headers) + " header fields");
  }
  line_.clear();
}

void RequestParser::fail(int status, std::string detail) {
  state_ = State::kFailed;
  error_ = {status, std::move(detail)};
}

void RequestParser::complete() {
  line_.clear();
  phase_ = Phase::kDone;
  state_ = State::kComplete;
}

bool isConsumedByConnection(std::string_view name) {
  static constexpr std::string_view kConsumed[] = {
      "Content-Length", "Transfer-Encoding", "Content-Encoding", "Expect", "Range", "If-Range"};
  return std::any_of(std::begin(kConsumed), std::end(kConsumed),
                     [&](std::string_view consumed) { return equalsIgnoreCase(name, consumed); });
}

std::string normalizedRequest(const ParsedRequest& request) {
  std::string out;
  out.reserve(96 + request.target.size() + request.body.size());
  out.append(request.method).append(" ").append(request.target).append(" ");
  out.append(request.version).append("\r\n");
  if (!request.keep_alive) {
    out.append("Connection: close\r\n");
  } else if (request.version == "HTTP/1.0") {
    out.append("Connection: Keep-Alive\r\n");
  }
  out.append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n\r\n");
  out.append(request.body);
  return out;
}

}  // namespace outpost::http
