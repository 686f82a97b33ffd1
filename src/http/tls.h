// TLS for the node's API (SPEC §8: tls.cert_file and tls.key_file), on OpenSSL.
//
// Not cpp-httplib's SSLServer: it reads through its own socket stream, timing each read,
// which is the weakness GuardedServer exists to remove. Here a connection's reads and
// writes go through a TlsSession on a non-blocking socket, and every wait stays the
// connection's own poll() with its deadline, the handshake included.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <string>

#include "outpost/result.h"

namespace outpost::http {

// A server certificate and its key, loaded once at start-up; TLS 1.2 or newer.
class TlsContext {
 public:
  // kInvalidArgument with one line naming the key and the file when a file cannot be read,
  // holds no PEM certificate or key, or the key does not belong to the certificate.
  static Result<std::shared_ptr<const TlsContext>> load(const std::string& cert_file,
                                                        const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* native() const { return context_; }
  int minimumVersion() const;  // TLS1_2_VERSION

 private:
  explicit TlsContext(SSL_CTX* context) : context_(context) {}
  SSL_CTX* context_;
};

// What one step of a TlsSession did.
enum class TlsStep {
  kDone,       // handshake finished, or `bytes` moved
  kWantRead,   // wait until the socket is readable, then call again
  kWantWrite,  // wait until the socket is writable, then call again
  kClosed,     // the peer closed, or the session failed: give up on the connection
};

struct TlsResult {
  TlsStep step;
  std::size_t bytes = 0;
};

// The server side of one connection's TLS, on a non-blocking socket it does not own.
class TlsSession {
 public:
  TlsSession(const TlsContext& context, int fd);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  TlsResult handshake();
  TlsResult read(char* buffer, std::size_t size);
  // Moves at least one byte when kDone (partial writes are on).
  TlsResult write(const char* data, std::size_t size);
  // Decrypted bytes OpenSSL holds that poll() on the socket cannot see.
  bool hasBufferedInput() const;
  // Sends close_notify, without waiting for the peer's.
  void close();

 private:
  bool established() const;
  TlsResult outcome(int result);

  SSL* ssl_;
  bool failed_ = false;  // a fatal error: OpenSSL forbids a close_notify after it
};

}  // namespace outpost::http
