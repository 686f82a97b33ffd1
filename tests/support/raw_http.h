// Test support: a raw TCP connection to the node, for the requests no HTTP library sends
// (a NUL in a header, a body after a wrong length, pipelining, a drip), and a reader of
// the answers exactly as they come off the socket.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace outpost::testing {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string header(const std::string& lower_case_name) const {
    auto it = headers.find(lower_case_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class RawConnection {
 public:
  // Connects to 127.0.0.1:port; nullptr if nothing accepts.
  static std::unique_ptr<RawConnection> open(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // False when the node has closed or reset the connection.
  bool send(std::string_view bytes);
  // Closes the sending side: the node reads the end of the stream.
  void finishSending();
  // The next answer (a 100 Continue counts as one), its body read by Content-Length;
  // nullopt when the connection closes, nothing whole arrives within `limit`, or an answer
  // other than a 1xx has no Content-Length.
  std::optional<RawResponse> readResponse(
      std::chrono::milliseconds limit = std::chrono::seconds(10));
  // Whether the node closes the connection within `limit` without sending another byte
  // that is not part of an answer already read.
  bool closesWithin(std::chrono::milliseconds limit);
  // Whether the node sends something (kept for readResponse) or closes within `limit`.
  bool heardWithin(std::chrono::milliseconds limit);

 private:
  explicit RawConnection(int fd) : fd_(fd) {}
  // Receives into buffer_ until `deadline`; false on close, reset or timeout.
  bool receiveMore(std::chrono::steady_clock::time_point deadline);

  int fd_;
  std::string buffer_;
};

// One request and its answer on a fresh connection.
std::optional<RawResponse> rawExchange(int port, std::string_view request);

// `data` compressed in the gzip format (zlib), as a till would send Content-Encoding: gzip.
std::string gzipCompress(std::string_view data);

// `body` in chunked framing (RFC 9112 §7.1), `chunk` bytes a chunk, with the last chunk.
std::string chunkedBody(std::string_view body, std::size_t chunk);

// A valid order whose metadata nests `depth` arrays ({"a":[[[...]]]}), and one whose
// metadata holds a string of `bytes` bytes: the hostile bodies of SPEC §8.
std::string orderWithDeepMetadata(std::size_t depth);
std::string orderWithLargeMetadata(std::size_t bytes);

}  // namespace outpost::testing
