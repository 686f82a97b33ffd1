// TlsContext::load: a certificate and key that belong together load, with TLS 1.2 as the
// oldest version; each bad file is refused in one line that names its key and the file.
#include "http/tls.h"

#include <gtest/gtest.h>

#include "support/node_process.h"
#include "support/test_certificate.h"

namespace outpost::http {
namespace {

using testing::makeTestCertificate;
using testing::TempDir;

void expectRefused(const Result<std::shared_ptr<const TlsContext>>& loaded, const std::string& key,
                   const std::string& file, const std::string& reason) {
  ASSERT_FALSE(loaded.ok());
  const std::string& message = loaded.error().message;
  EXPECT_EQ(loaded.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.rfind("config: " + key + ": " + file + ": ", 0), 0u) << message;
  EXPECT_NE(message.find(reason), std::string::npos) << message;
}

TEST(TlsContext, LoadsACertificateWithItsKeyForTls12AndNewer) {
  TempDir dir;
  const auto made = makeTestCertificate(dir.path());
  auto loaded = TlsContext::load(made.cert_file, made.key_file);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ((*loaded)->minimumVersion(), TLS1_2_VERSION);
}

TEST(TlsContext, RefusesMissingUnreadableAndWrongFilesNamingThem) {
  TempDir dir;
  const auto made = makeTestCertificate(dir.path());
  const auto other = makeTestCertificate(dir.path(), "other");
  const std::string missing = dir.file("missing.pem");
  expectRefused(TlsContext::load(missing, made.key_file), "tls.cert_file", missing,
                "cannot read: No such file or directory");
  expectRefused(TlsContext::load(made.cert_file, missing), "tls.key_file", missing, "cannot read");
  // The key where the certificate belongs, and the certificate where the key belongs.
  expectRefused(TlsContext::load(made.key_file, made.key_file), "tls.cert_file", made.key_file,
                "not a PEM certificate");
  expectRefused(TlsContext::load(made.cert_file, made.cert_file), "tls.key_file", made.cert_file,
                "not a PEM private key");
  expectRefused(TlsContext::load(made.cert_file, other.key_file), "tls.key_file", other.key_file,
                "is not the key of " + made.cert_file);
}

}  // namespace
}  // namespace outpost::http
