#include "support/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <stdexcept>

namespace outpost::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string lowerCase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The head of an answer: status line and headers, or nullopt when it does not parse.
std::optional<RawResponse> parseHead(std::string_view head) {
  RawResponse response;
  const auto line_end = head.find("\r\n");
  const auto status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.substr(0, 9) != "HTTP/1.1 ") return std::nullopt;
  response.status = std::stoi(std::string(status_line.substr(9, 3)));
  std::size_t at = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (at < head.size()) {
    auto end = head.find("\r\n", at);
    if (end == std::string_view::npos) end = head.size();
    const auto line = head.substr(at, end - at);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      response.headers[lowerCase(std::string(line.substr(0, colon)))] = std::string(value);
    }
    at = end + 2;
  }
  return response;
}

}  // namespace

std::unique_ptr<RawConnection> RawConnection::open(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return nullptr;
  }
  return std::unique_ptr<RawConnection>(new RawConnection(fd));
}

RawConnection::~RawConnection() { close(fd_); }

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

void RawConnection::finishSending() { shutdown(fd_, SHUT_WR); }

bool RawConnection::receiveMore(SteadyClock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  pollfd fd{fd_, POLLIN, 0};
  if (left.count() <= 0 || poll(&fd, 1, static_cast<int>(left.count())) <= 0) return false;
  char chunk[16384];
  const ssize_t got = recv(fd_, chunk, sizeof chunk, 0);
  if (got <= 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(got));
  return true;
}

std::optional<RawResponse> RawConnection::readResponse(std::chrono::milliseconds limit) {
  const auto deadline = SteadyClock::now() + limit;
  std::size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!receiveMore(deadline)) return std::nullopt;
  }
  auto response = parseHead(std::string_view(buffer_).substr(0, head_end));
  if (!response) return std::nullopt;
  // The node frames every answer but a 1xx by Content-Length; a chunked one would be read
  // wrongly here, so it counts as no answer.
  const std::string length = response->header("content-length");
  if (length.empty() && response->status >= 200) return std::nullopt;
  const std::size_t body_size = length.empty() ? 0 : std::stoul(length);
  const std::size_t total = head_end + 4 + body_size;
  while (buffer_.size() < total) {
    if (!receiveMore(deadline)) return std::nullopt;
  }
  response->body = buffer_.substr(head_end + 4, body_size);
  buffer_.erase(0, total);
  return response;
}

bool RawConnection::closesWithin(std::chrono::milliseconds limit) {
  if (!buffer_.empty()) return false;
  pollfd fd{fd_, POLLIN, 0};
  if (poll(&fd, 1, static_cast<int>(limit.count())) <= 0) return false;
  char byte;
  const ssize_t got = recv(fd_, &byte, 1, 0);
  return got == 0 || (got < 0 && errno == ECONNRESET);
}

bool RawConnection::heardWithin(std::chrono::milliseconds limit) {
  if (!buffer_.empty()) return true;
  pollfd fd{fd_, POLLIN, 0};
  if (poll(&fd, 1, static_cast<int>(limit.count())) <= 0) return false;
  char chunk[16384];
  const ssize_t got = recv(fd_, chunk, sizeof chunk, 0);
  if (got > 0) buffer_.append(chunk, static_cast<std::size_t>(got));
  return true;
}

std::optional<RawResponse> rawExchange(int port, std::string_view request) {
  auto connection = RawConnection::open(port);
  if (!connection || !connection->send(request)) return std::nullopt;
  return connection->readResponse();
}

std::string chunkedBody(std::string_view body, std::size_t chunk) {
  std::string out;
  char size[32];
  for (std::size_t i = 0; i < body.size(); i += chunk) {
    const auto piece = body.substr(i, chunk);
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    out.append(size).append(piece).append("\r\n");
  }
  return out + "0\r\n\r\n";
}

std::string orderWithDeepMetadata(std::size_t depth) {
  return R"({"customerId":"c","items":[{"productId":"p","quantity":1}],"metadata":{"a":)" +
         std::string(depth, '[') + std::string(depth, ']') + "}}";
}

std::string orderWithLargeMetadata(std::size_t bytes) {
  return R"({"customerId":"c","items":[{"productId":"p","quantity":1}],"metadata":{"a":")" +
         std::string(bytes, 'x') + "\"}}";
}

std::string gzipCompress(std::string_view data) {
  z_stream stream{};
  // 15 window bits + 16: a gzip header and trailer rather than zlib's.
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
  out.resize(stream.total_out);
  return out;
}

}  // namespace outpost::testing
