// GuardedServer: cpp-httplib's Server, with the reading of requests taken over.
//
// cpp-httplib 0.11 checks Content-Length but not what a chunked or compressed body adds up
// to, percent-decodes header values, honours Range on every answer, times each read rather
// than the request, and answers early errors without reading the body, so the rest of it
// is read as the next request. Here each connection reads whole requests itself with a
// RequestParser (every limit on the bytes received, a deadline for the whole request from
// its first byte), answers what it refuses with problem+json and closes, and hands each
// complete request to cpp-httplib's process_request() in a normalized form (see
// normalizedRequest), so routing, handlers, the error handler and the logger work as
// before. Pipelined requests are answered in order: bytes after a request stay for the
// next one. With a TlsContext the same reading and writing go through a TlsSession
// (tls.h), under the same deadlines.
//
// process_and_close_socket() runs on the server's worker threads, one connection each.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "http/request_parser.h"
#include "http/tls.h"

namespace outpost::http {

struct ConnectionOptions {
  RequestLimits limits;
  // When set, every connection is TLS (SPEC §8): the connection's first byte starts the
  // first request's deadline, handshake included, and a first byte that begins no TLS
  // record is answered 400 in plain HTTP.
  std::shared_ptr<const TlsContext> tls;
  // SPEC §8: headers and body must all arrive within this, counted from the first byte.
  std::chrono::milliseconds request_deadline{5000};
  // How long a keep-alive connection may sit idle between requests.
  std::chrono::milliseconds keep_alive_idle{2000};
  std::chrono::milliseconds write_timeout{3000};
  std::size_t max_requests_per_connection = 100000;
  // After a refused request the node closes its side and reads what the client still
  // sends for up to this long, so the client reads the answer instead of a reset.
  std::chrono::milliseconds linger{1000};
  // Told of each request the connection refused itself (never seen by cpp-httplib), once
  // its answer is written: the method ("" when the request line was unreadable), the
  // status and the seconds since the request's first byte.
  std::function<void(const std::string& method, int status, double seconds)> on_refused;
  // Told when serving a connection failed unexpectedly (an exception; the connection is
  // closed and the node goes on).
  std::function<void(const std::string& what)> on_failure;
};

class ServerConnection;  // one accepted socket; guarded_server.cpp

class GuardedServer : public httplib::Server {
 public:
  explicit GuardedServer(ConnectionOptions options);
  ~GuardedServer() override;
  GuardedServer(const GuardedServer&) = delete;
  GuardedServer& operator=(const GuardedServer&) = delete;

  // For shutdown: ends every connection that is waiting for bytes (idle keep-alive, a
  // slow request) at once, and each one running a handler once its answer is written.
  // The caller ends the accept loop by shutting the listening socket down.
  void closeConnections();

 private:
  bool process_and_close_socket(socket_t sock) override;
  void serveConnection(ServerConnection& connection);

  ConnectionOptions options_;
  // Set by closeConnections(). cpp-httplib's own stop() is not used: racing its accept
  // loop, it can close the listening descriptor twice.
  std::atomic<bool> closing_{false};
  int wake_fd_ = -1;  // an eventfd that turns readable, for good, in closeConnections()
};

// The bytes of a problem+json answer to a refused request, with "Connection: close".
std::string refusalAnswer(const RequestError& error, bool head_request);

}  // namespace outpost::http
