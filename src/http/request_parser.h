// RequestParser: reads one HTTP/1.1 request (RFC 9112) from bytes as they arrive, with
// every limit of SPEC §8 applied to what is actually received, whatever the framing:
// the request line, the header section, and the body after chunked decoding. It does no
// I/O and keeps no clock, so the connection that feeds it decides about time, and a fuzzer
// can drive it directly. One parser per request; not shared between threads.
//
// It is stricter than cpp-httplib where the difference matters to a node on a shop LAN:
// a header value is kept as sent (never percent-decoded; only the whitespace around it
// is dropped; a NUL or other control byte in it is 400), Content-Length and
// Transfer-Encoding together are 400 (the request smuggling shape), a Content-Encoding
// other than identity is 415 (nothing is inflated, so there is nothing to bomb), chunk
// framing counts toward a budget as large as the body's, and a request with neither
// length nor chunked framing has an empty body.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::http {

struct RequestLimits {
  std::size_t max_request_line = 8192;   // longer: 414
  std::size_t max_header_line = 8192;    // one header line: 431
  std::size_t max_header_bytes = 16384;  // all header lines (and trailers) together: 431
  std::size_t max_headers = 100;         // 431
  std::size_t max_body = 64 * 1024;      // decoded bytes: 413
};

struct RequestHeader {
  std::string name;   // as sent
  std::string value;  // as sent, without the whitespace around it; may be empty
};

struct ParsedRequest {
  std::string method;
  std::string target;
  std::string version;  // "HTTP/1.1" or "HTTP/1.0"
  std::vector<RequestHeader> headers;
  std::string body;  // decoded: chunked framing removed
  bool keep_alive = true;
  bool expects_continue = false;  // Expect: 100-continue, HTTP/1.1, and a body follows

  // The first header of that name (names compare case-insensitively), or nullptr.
  const std::string* header(std::string_view name) const;
};

// Why a request was refused; `status` is a 4xx the connection answers before closing.
struct RequestError {
  int status = 400;
  std::string detail;
};

class RequestParser {
 public:
  enum class State {
    kIncomplete,       // feed it more bytes
    kHeadersComplete,  // the header section is in and a body follows: the caller may
                       // answer 100 Continue now; feed() goes on with the body
    kComplete,         // request() holds the whole request
    kFailed,           // error() says why; nothing more is read
  };

  explicit RequestParser(RequestLimits limits = {}) : limits_(limits) {}

  // Takes bytes from `input` and returns how many it used; it stops at the end of the
  // request (the rest belongs to the next one, when a client pipelines), at the end of
  // the header section, and at an error.
  std::size_t feed(std::string_view input);

  State state() const { return state_; }
  const ParsedRequest& request() const { return request_; }
  ParsedRequest& request() { return request_; }
  const RequestError& error() const { return error_; }

 private:
  enum class Phase {
    kRequestLine,
    kHeaders,
    kBody,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kDone,
  };

  // Gathers one line into line_; true once its LF has arrived.
  bool takeLine(std::string_view input, std::size_t& used, std::size_t limit, int too_long_status,
                const char* what);
  void onRequestLine();
  void onHeaderLine();
  void onHeadersEnd();
  void takeChunkEnd(char c);
  void onChunkSizeLine();
  void onTrailerLine();
  void takeBody(std::string_view input, std::size_t& used);
  std::size_t headerBytesLeft() const {
    return header_bytes_ >= limits_.max_header_bytes ? 0 : limits_.max_header_bytes - header_bytes_;
  }
  void fail(int status, std::string detail);
  void complete();

  RequestLimits limits_;
  State state_ = State::kIncomplete;
  Phase phase_ = Phase::kRequestLine;
  std::string line_;
  std::size_t skipped_ = 0;        // bytes of empty lines before the request line
  std::size_t framing_bytes_ = 0;  // chunk-size lines and the CRLFs after chunk data
  std::size_t header_bytes_ = 0;
  std::size_t header_count_ = 0;
  std::size_t body_left_ = 0;  // of the Content-Length body, or of the current chunk
  ParsedRequest request_;
  RequestError error_;
};

// The request as cpp-httplib is to read it: the request line, the Connection header that
// says what keep_alive says in the words cpp-httplib compares exactly ("close",
// "Keep-Alive"), "Content-Length: <decoded size>", and the body. The headers themselves
// are not in it: the connection gives them to cpp-httplib as parsed (cpp-httplib would
// percent-decode each value and drop the empty ones), leaving out the ones it consumed.
std::string normalizedRequest(const ParsedRequest& request);

// The headers the connection has dealt with and no handler sees: the framing
// (Content-Length, Transfer-Encoding), Content-Encoding (identity) and Expect, and Range
// and If-Range, which no API answer honours.
bool isConsumedByConnection(std::string_view name);

// Whether `a` and `b` are equal ignoring ASCII case.
bool equalsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace outpost::http
