// Test support: a self-signed certificate for 127.0.0.1 and its key, made with the openssl
// command (scripts/install-deps.sh installs it), as the README tells a shop to make one.
#pragma once

#include <string>

namespace outpost::testing {

struct TestCertificate {
  std::string cert_file;  // PEM, subjectAltName IP:127.0.0.1 and DNS:localhost
  std::string key_file;   // PEM, unencrypted
};

// Writes <dir>/<name>.crt and <dir>/<name>.key; fails the test (and returns empty paths)
// when openssl is missing or fails.
TestCertificate makeTestCertificate(const std::string& dir, const std::string& name = "node");

}  // namespace outpost::testing
