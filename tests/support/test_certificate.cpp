#include "support/test_certificate.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace outpost::testing {

TestCertificate makeTestCertificate(const std::string& dir, const std::string& name) {
  TestCertificate made{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=outpost-test -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout '" +
      made.key_file + "' -out '" + made.cert_file + "' 2>'" + dir + "/openssl.log'";
  if (std::system(command.c_str()) != 0) {
    ADD_FAILURE() << "openssl could not make a test certificate: " << command;
    return {};
  }
  return made;
}

}  // namespace outpost::testing
