#include "http/guarded_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "http/problem.h"

namespace outpost::http {
namespace {

// Real time, not the injected Clock: every wait here is a poll() on a socket, which only
// real time ends.
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kReceiveChunk = 16 * 1024;
// What a lingering close reads at most before it gives up on a client that keeps sending.
constexpr std::size_t kMaxLingerBytes = 1024 * 1024;
constexpr const char* kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

enum class Wait { kReady, kTimedOut, kClosing };

int millisecondsUntil(SteadyClock::time_point deadline) {
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  return static_cast<int>(std::clamp<std::int64_t>(left, 0, 60'000));
}

void addressOf(const sockaddr_storage& address, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    port = ntohs(v6.sin6_port);
  } else {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    port = ntohs(v4.sin_port);
  }
  ip = text;
}

}  // namespace

// One accepted socket: buffered reading of whole requests, and writing with a timeout.
class ServerConnection {
 public:
  struct Read {
    enum Kind { kRequest, kRefused, kEnded } kind;
    RequestError error;  // for kRefused
  };

  ServerConnection(int fd, const ConnectionOptions& options, int wake_fd)
      : fd_(fd), options_(options), wake_fd_(wake_fd) {
    if (options_.tls) {
      // OpenSSL reads and writes whole records: it must never block the worker. Every
      // wait is this connection's own poll() with its deadline.
      ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
      tls_ = std::make_unique<TlsSession>(*options_.tls, fd_);
    }
  }

  // For a TLS connection: the handshake. The connection's first byte starts the first
  // request's deadline, so handshake and request together get the 5 s (SPEC §8). A client
  // whose first byte is no TLS record gets a plain 400 saying the port takes HTTPS.
  bool establish() {
    if (!tls_) return true;
    // Idle time until the first byte, as before any request.
    const auto idle_deadline = SteadyClock::now() + options_.keep_alive_idle;
    if (wait(POLLIN, idle_deadline, true) != Wait::kReady) return false;
    started_ = SteadyClock::now();
    first_request_started_ = true;
    const auto deadline = started_ + options_.request_deadline;
    if (!startsWithTlsRecord()) {
      tls_.reset();  // the answer goes in clear: the client reads nothing else
      refuse({400, "this port takes HTTPS only: send the request to https://"}, "");
      return false;
    }
    while (true) {
      const TlsResult result = tls_->handshake();
      if (result.step == TlsStep::kDone) return true;
      if (result.step == TlsStep::kClosed) return false;
      const short events = result.step == TlsStep::kWantRead ? POLLIN : POLLOUT;
      if (wait(events, deadline, true) != Wait::kReady) return false;
    }
  }

  // Reads the next request into `parser`: kEnded when the client closed, stayed idle past
  // the keep-alive wait, or the server is closing connections; kRefused when the request
  // is one the node does not take or missed its deadline.
  Read readRequest(RequestParser& parser) {
    if (!std::exchange(first_request_started_, false)) {
      if (!awaitRequestStart()) return {Read::kEnded, {}};
      started_ = SteadyClock::now();
    }
    const auto deadline = started_ + options_.request_deadline;
    while (true) {
      buffer_.erase(0, parser.feed(buffer_));
      switch (parser.state()) {
        case RequestParser::State::kComplete:
          return {Read::kRequest, {}};
        case RequestParser::State::kFailed:
          return {Read::kRefused, parser.error()};
        case RequestParser::State::kHeadersComplete:
          if (!send(kContinue, std::strlen(kContinue))) return {Read::kEnded, {}};
          continue;
        case RequestParser::State::kIncomplete:
          break;
      }
      // The deadline holds however the bytes come: a client that keeps the socket busy
      // is cut off as surely as one that goes quiet.
      const Wait waited = wait(POLLIN, deadline, true);
      if (waited == Wait::kTimedOut) return {Read::kRefused, timedOut()};
      if (waited == Wait::kClosing || receive() == Received::kClosed) return {Read::kEnded, {}};
      if (SteadyClock::now() >= deadline) return {Read::kRefused, timedOut()};
    }
  }

  // Writes all of `data`, waiting at most the write timeout for the client to take it.
  bool send(const char* data, std::size_t size) {
    const auto deadline = SteadyClock::now() + options_.write_timeout;
    if (tls_) return sendTls(data, size, deadline);
    while (size > 0) {
      const ssize_t sent = ::send(fd_, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent > 0) {
        data += sent;
        size -= static_cast<std::size_t>(sent);
      } else if (sent < 0 && errno == EINTR) {
        continue;
      } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (wait(POLLOUT, deadline, false) != Wait::kReady) return false;
      } else {
        return false;
      }
    }
    return true;
  }

  bool sendTls(const char* data, std::size_t size, SteadyClock::time_point deadline) {
    while (size > 0) {
      const TlsResult result = tls_->write(data, size);
      if (result.step == TlsStep::kDone) {
        data += result.bytes;
        size -= result.bytes;
        continue;
      }
      if (result.step == TlsStep::kClosed) return false;
      const short events = result.step == TlsStep::kWantRead ? POLLIN : POLLOUT;
      if (wait(events, deadline, false) != Wait::kReady) return false;
    }
    return true;
  }

  bool writable() {
    return wait(POLLOUT, SteadyClock::now() + options_.write_timeout, false) == Wait::kReady;
  }

  // Answers a refused request and leaves the connection to be closed.
  void refuse(const RequestError& error, const std::string& method) {
    const std::string answer = refusalAnswer(error, method == "HEAD");
    send(answer.data(), answer.size());
    lingerOnClose();
    if (options_.on_refused) {
      options_.on_refused(method, error.status,
                          std::chrono::duration<double>(SteadyClock::now() - started_).count());
    }
  }

  // Closes the socket. When the client may still be sending (a refused request, pipelined
  // requests after the last answer), the node first closes its own side and reads on for a
  // moment: closing with unread bytes would reset the connection, and a reset can destroy
  // the answer before the client reads it.
  void close() {
    if (tls_) tls_->close();
    if (linger_ || !buffer_.empty()) {
      ::shutdown(fd_, SHUT_WR);
      const auto deadline = SteadyClock::now() + options_.linger;
      std::size_t drained = 0;
      char scratch[4096];
      while (drained < kMaxLingerBytes && wait(POLLIN, deadline, false) == Wait::kReady) {
        const ssize_t got = ::recv(fd_, scratch, sizeof scratch, 0);
        if (got <= 0) break;
        drained += static_cast<std::size_t>(got);
      }
    }
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
  }

  // The client may still be sending when the connection closes: see close().
  void lingerOnClose() { linger_ = true; }

  void peer(std::string& ip, int& port) const { address(&getpeername, ip, port); }
  void local(std::string& ip, int& port) const { address(&getsockname, ip, port); }
  int fd() const { return fd_; }

 private:
  // Waits for `events` on the socket until `deadline`. With `stop_on_close`, a server
  // closing its connections ends the wait too; a write in progress is not cut short.
  Wait wait(short events, SteadyClock::time_point deadline, bool stop_on_close) const {
    if ((events & POLLIN) != 0 && tls_ && tls_->hasBufferedInput()) return Wait::kReady;
    while (true) {
      pollfd fds[2] = {{fd_, events, 0}, {wake_fd_, POLLIN, 0}};
      const int ready = ::poll(fds, stop_on_close ? 2 : 1, millisecondsUntil(deadline));
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) return Wait::kClosing;
      if (stop_on_close && fds[1].revents != 0) return Wait::kClosing;
      if (fds[0].revents != 0) return Wait::kReady;  // an error or hang-up shows in recv/send
      if (SteadyClock::now() >= deadline) return Wait::kTimedOut;
    }
  }

  // Waits, within the keep-alive idle time, for the first byte of a request. Empty lines
  // between requests (a client's stray CRLF after a body) are idle time too, so they
  // neither start a request's deadline nor keep an idle connection open.
  bool awaitRequestStart() {
    const auto idle_deadline = SteadyClock::now() + options_.keep_alive_idle;
    while (true) {
      const auto start = buffer_.find_first_not_of("\r\n");
      buffer_.erase(0, start == std::string::npos ? buffer_.size() : start);
      if (!buffer_.empty()) return true;
      if (wait(POLLIN, idle_deadline, true) != Wait::kReady) return false;
      if (receive() == Received::kClosed) return false;
    }
  }

  // Whether the bytes waiting begin a TLS handshake record (content type 22), read
  // without taking them off the socket.
  bool startsWithTlsRecord() const {
    constexpr unsigned char kHandshakeRecord = 0x16;
    unsigned char first = 0;
    ssize_t got;
    do {
      got = ::recv(fd_, &first, 1, MSG_PEEK);
    } while (got < 0 && errno == EINTR);
    return got == 1 && first == kHandshakeRecord;
  }

  enum class Received { kBytes, kNothingYet, kClosed };

  // Appends what the socket has to buffer_. kNothingYet: TLS took bytes that end no
  // record yet. Read through the stack, so an idle connection's buffer is only as large
  // as the requests it was sent, not a receive chunk.
  Received receive() {
    char chunk[kReceiveChunk];
    if (tls_) {
      const TlsResult result = tls_->read(chunk, sizeof chunk);
      if (result.step == TlsStep::kDone) {
        buffer_.append(chunk, result.bytes);
        return Received::kBytes;
      }
      return result.step == TlsStep::kWantRead ? Received::kNothingYet : Received::kClosed;
    }
    ssize_t got;
    do {
      got = ::recv(fd_, chunk, sizeof chunk, 0);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) return Received::kClosed;
    buffer_.append(chunk, static_cast<std::size_t>(got));
    return Received::kBytes;
  }

  RequestError timedOut() const {
    return {408, "the request did not arrive in full within " +
                     std::to_string(options_.request_deadline.count()) + " ms"};
  }

  using NameFunction = int (*)(int, sockaddr*, socklen_t*);
  void address(NameFunction name, std::string& ip, int& port) const {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (name(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      addressOf(address, ip, port);
    }
  }

  int fd_;
  const ConnectionOptions& options_;
  int wake_fd_;
  std::string buffer_;  // received and not yet parsed: the start of the next request
  SteadyClock::time_point started_{};
  bool linger_ = false;
  std::unique_ptr<TlsSession> tls_;  // none for plain HTTP
  // The handshake began the first request: its deadline runs from there.
  bool first_request_started_ = false;
};

namespace {

// What cpp-httplib reads a request from: the normalized request in memory. Answers go
// straight to the connection.
class ReplayStream final : public httplib::Stream {
 public:
  ReplayStream(std::string request, ServerConnection& connection)
      : request_(std::move(request)), connection_(connection) {}

  bool is_readable() const override { return offset_ < request_.size(); }
  bool is_writable() const override { return connection_.writable(); }
  ssize_t read(char* ptr, size_t size) override {
    const std::size_t n = std::min(size, request_.size() - offset_);
    std::memcpy(ptr, request_.data() + offset_, n);
    offset_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    return connection_.send(ptr, size) ? static_cast<ssize_t>(size) : -1;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    connection_.peer(ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    connection_.local(ip, port);
  }
  socket_t socket() const override { return connection_.fd(); }

 private:
  std::string request_;
  std::size_t offset_ = 0;
  ServerConnection& connection_;
};

// Gives cpp-httplib the headers as parsed, in place of the few it read from the
// normalized request: values as sent (cpp-httplib would percent-decode them, and drop the
// empty ones), without the ones the connection consumed. Its own REMOTE_ADDR etc. stay
// first, so a client's header of that name never shadows them.
void installHeaders(httplib::Request& request, const ParsedRequest& parsed) {
  request.headers.erase("Connection");
  for (const auto& header : parsed.headers) {
    if (!isConsumedByConnection(header.name)) request.headers.emplace(header.name, header.value);
  }
}

}  // namespace

std::string refusalAnswer(const RequestError& error, bool head_request) {
  httplib::Response response;
  writeProblem(response, error.status, error.detail);
  if (error.status == 415) response.set_header("Accept-Encoding", "identity");
  std::string out =
      "HTTP/1.1 " + std::to_string(error.status) + " " + problemTitle(error.status) + "\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  if (!head_request) out += response.body;
  return out;
}

GuardedServer::GuardedServer(ConnectionOptions options)
    // Without an eventfd (the process is out of descriptors) closeConnections() cannot wake
    // idle connections; they end by their keep-alive timeout instead.
    : options_(std::move(options)), wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

GuardedServer::~GuardedServer() {
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void GuardedServer::closeConnections() {
  closing_ = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(wake_fd_, &one, sizeof one);
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  ServerConnection connection(sock, options_, wake_fd_);
  try {
    if (connection.establish()) serveConnection(connection);
  } catch (const std::exception& e) {
    // cpp-httplib's worker threads catch nothing: an escape here would end the process.
    if (options_.on_failure) options_.on_failure(e.what());
  }
  connection.close();
  return true;
}

void GuardedServer::serveConnection(ServerConnection& connection) {
  for (std::size_t served = 0; served < options_.max_requests_per_connection; ++served) {
    if (closing_) {
      // The last answer promised keep-alive; a request the client sent since must not
      // meet a reset.
      if (served > 0) connection.lingerOnClose();
      return;
    }
    RequestParser parser(options_.limits);
    const auto read = connection.readRequest(parser);
    if (read.kind == ServerConnection::Read::kEnded) return;
    if (read.kind == ServerConnection::Read::kRefused) {
      connection.refuse(read.error, parser.request().method);
      return;
    }
    const ParsedRequest& request = parser.request();
    const bool last =
        served + 1 == options_.max_requests_per_connection || closing_ || !request.keep_alive;
    ReplayStream stream(normalizedRequest(request), connection);
    bool closed_by_request = false;
    const bool written =
        process_request(stream, last, closed_by_request,
                        [&](httplib::Request& req) { installHeaders(req, request); });
    if (!written || closed_by_request || last) return;
  }
}

}  // namespace outpost::http
