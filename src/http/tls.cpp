#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace outpost::http {
namespace {

// The reason of OpenSSL's last error on this thread, in its own words.
std::string lastOpenSslError() {
  const unsigned long code = ERR_peek_last_error();
  if (code == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : "error " + std::to_string(code);
}

Error tlsError(const std::string& key, const std::string& file, const std::string& what) {
  return Error::invalidArgument("config: " + key + ": " + file + ": " + what);
}

// A file this process cannot read gets the system's reason, before OpenSSL's vaguer one.
std::optional<Error> unreadable(const std::string& key, const std::string& file) {
  if (::access(file.c_str(), R_OK) == 0) return std::nullopt;
  return tlsError(key, file, std::string("cannot read: ") + std::strerror(errno));
}

}  // namespace

Result<std::shared_ptr<const TlsContext>> TlsContext::load(const std::string& cert_file,
                                                           const std::string& key_file) {
  if (auto error = unreadable("tls.cert_file", cert_file)) return *error;
  if (auto error = unreadable("tls.key_file", key_file)) return *error;
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) return Error::internal("TLS: " + lastOpenSslError());
  std::shared_ptr<const TlsContext> context(new TlsContext(raw));
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  // Renegotiation would let a read want a write; nothing here needs it.
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(raw, cert_file.c_str()) != 1) {
    return tlsError("tls.cert_file", cert_file,
                    "not a PEM certificate (" + lastOpenSslError() + ")");
  }
  // OpenSSL checks that the key belongs to the certificate as it loads it.
  if (SSL_CTX_use_PrivateKey_file(raw, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(raw) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      return tlsError("tls.key_file", key_file, "is not the key of " + cert_file);
    }
    return tlsError("tls.key_file", key_file, "not a PEM private key (" + lastOpenSslError() + ")");
  }
  return context;
}

TlsContext::~TlsContext() { SSL_CTX_free(context_); }

int TlsContext::minimumVersion() const {
  return static_cast<int>(SSL_CTX_get_min_proto_version(context_));
}

TlsSession::TlsSession(const TlsContext& context, int fd) : ssl_(SSL_new(context.native())) {
  if (ssl_ != nullptr) SSL_set_fd(ssl_, fd);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsResult TlsSession::handshake() {
  if (ssl_ == nullptr) return {TlsStep::kClosed};
  ERR_clear_error();
  const int result = SSL_accept(ssl_);
  if (result == 1) return {TlsStep::kDone};
  return outcome(result);
}

TlsResult TlsSession::read(char* buffer, std::size_t size) {
  ERR_clear_error();
  std::size_t got = 0;
  const int result = SSL_read_ex(ssl_, buffer, size, &got);
  if (result == 1) return {TlsStep::kDone, got};
  return outcome(result);
}

TlsResult TlsSession::write(const char* data, std::size_t size) {
  ERR_clear_error();
  std::size_t written = 0;
  const int result = SSL_write_ex(ssl_, data, size, &written);
  if (result == 1) return {TlsStep::kDone, written};
  return outcome(result);
}

bool TlsSession::hasBufferedInput() const { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

bool TlsSession::established() const { return ssl_ != nullptr && SSL_is_init_finished(ssl_); }

void TlsSession::close() {
  if (failed_ || !established()) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);
}

TlsResult TlsSession::outcome(int result) {
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ:
      return {TlsStep::kWantRead};
    case SSL_ERROR_WANT_WRITE:
      return {TlsStep::kWantWrite};
    default:
      failed_ = true;
      return {TlsStep::kClosed};
  }
}

}  // namespace outpost::http
