// SPEC §8 TLS, against the real binary: with tls.cert_file and tls.key_file the API is
// HTTPS only (an order round trip with a verified certificate; plain HTTP on that port is
// refused in plain words; a slow TLS request is cut off as a plain one is), and a bad file
// stops start-up with one line and exit 2.
#include <SQLiteCpp/Database.h>
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/node_process.h"
#include "support/raw_http.h"
#include "support/test_certificate.h"

namespace outpost::testing {
namespace {

using nlohmann::json;

constexpr const char* kApiToken = "till-secret-123456";
const std::string kOrder = R"({"customerId":"c","items":[{"productId":"p","quantity":1}]})";

std::map<std::string, std::string> tlsEnv(const TestCertificate& certificate) {
  return {{"OUTPOST_API_TOKEN", kApiToken},
          {"OUTPOST_TLS_CERT_FILE", certificate.cert_file},
          {"OUTPOST_TLS_KEY_FILE", certificate.key_file}};
}

std::int64_t storedOrders(const NodeProcess& node) {
  SQLite::Database db(node.database(), SQLite::OPEN_READONLY);
  return db.execAndGet("SELECT COUNT(*) FROM orders").getInt64();
}

TEST(Tls, AnOrderGoesOverHttpsWithAVerifiedCertificate) {
  TempDir dir;
  const auto certificate = makeTestCertificate(dir.path());
  auto node = NodeProcess::start(dir, {tlsEnv(certificate), ""});
  ASSERT_NE(node, nullptr);
  auto client = node->client();  // https://, trusting only the test certificate
  client->set_bearer_token_auth(kApiToken);
  auto created = client->Post("/v1/orders", kOrder, "application/json");
  ASSERT_TRUE(created) << httplib::to_string(created.error());
  EXPECT_EQ(created->status, 201) << created->body;
  const std::string id = json::parse(created->body).value("id", "");
  // Keep-alive: the next request reuses the TLS connection.
  auto read = client->Get("/v1/orders/" + id);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200);
  EXPECT_EQ(json::parse(read->body).value("id", ""), id);
  EXPECT_EQ(storedOrders(*node), 1);
  EXPECT_NE(node->logs().find("\"scheme\":\"https\""), std::string::npos) << node->logs();
}

TEST(Tls, PlainHttpOnTheHttpsPortIsRefusedInPlainWords) {
  TempDir dir;
  const auto certificate = makeTestCertificate(dir.path());
  auto node = NodeProcess::start(dir, {tlsEnv(certificate), ""});
  ASSERT_NE(node, nullptr);
  const std::string post =
      "POST /v1/orders HTTP/1.1\r\nHost: till\r\nAuthorization: Bearer " + std::string(kApiToken) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(kOrder.size()) +
      "\r\n\r\n" + kOrder;
  auto connection = RawConnection::open(node->port());
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->send(post));
  const auto refused = connection->readResponse();
  ASSERT_TRUE(refused) << "no plain answer";
  EXPECT_EQ(refused->status, 400);
  EXPECT_EQ(refused->header("content-type"), "application/problem+json");
  EXPECT_NE(refused->body.find("HTTPS only"), std::string::npos) << refused->body;
  EXPECT_TRUE(connection->closesWithin(std::chrono::seconds(2)));
  // Whatever the method: OpenSSL itself recognizes only a few.
  auto deleting = RawConnection::open(node->port());
  ASSERT_NE(deleting, nullptr);
  ASSERT_TRUE(deleting->send("DELETE /v1/orders/x HTTP/1.1\r\nHost: till\r\n\r\n"));
  const auto refused_delete = deleting->readResponse();
  ASSERT_TRUE(refused_delete) << "no plain answer";
  EXPECT_EQ(refused_delete->status, 400);
  EXPECT_EQ(storedOrders(*node), 0);
  // A client that connects and says nothing is closed like an idle connection.
  auto silent = RawConnection::open(node->port());
  ASSERT_NE(silent, nullptr);
  EXPECT_TRUE(silent->closesWithin(std::chrono::seconds(7)));
  auto live = node->client()->Get("/livez");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
}

// A TLS client of the test's own, to send a request one byte at a time.
class TlsClient {
 public:
  static std::unique_ptr<TlsClient> connect(int port) {
    auto client = std::unique_ptr<TlsClient>(new TlsClient());
    client->fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(client->fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      return nullptr;
    }
    timeval tenth{0, 100'000};
    setsockopt(client->fd_, SOL_SOCKET, SO_RCVTIMEO, &tenth, sizeof tenth);
    client->ssl_ = SSL_new(client->context_);
    SSL_set_fd(client->ssl_, client->fd_);
    if (SSL_connect(client->ssl_) != 1) return nullptr;
    return client;
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(context_);
    if (fd_ >= 0) ::close(fd_);
  }
  bool send(char byte) { return SSL_write(ssl_, &byte, 1) == 1; }
  // Reads what the node sends within 100 ms into `into`: 1 when bytes came, 0 when the node
  // closed, -1 when nothing came (TLS 1.3 session tickets are read and count as nothing).
  int readFor100Ms(std::string& into) {
    char chunk[4096];
    const int got = SSL_read(ssl_, chunk, sizeof chunk);
    if (got > 0) {
      into.append(chunk, static_cast<std::size_t>(got));
      return 1;
    }
    return SSL_get_error(ssl_, got) == SSL_ERROR_WANT_READ ? -1 : 0;
  }

 private:
  TlsClient() : context_(SSL_CTX_new(TLS_client_method())) {}
  SSL_CTX* context_;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
};

TEST(Tls, ARequestDrippedOverTlsIsCutOffWithin6sOfItsFirstByte) {
  TempDir dir;
  const auto certificate = makeTestCertificate(dir.path());
  auto node = NodeProcess::start(dir, {tlsEnv(certificate), ""});
  ASSERT_NE(node, nullptr);
  const auto first_byte = std::chrono::steady_clock::now();  // the ClientHello
  auto client = TlsClient::connect(node->port());
  ASSERT_NE(client, nullptr);
  const std::string request =
      "POST /v1/orders HTTP/1.1\r\nHost: till\r\nAuthorization: Bearer " + std::string(kApiToken) +
      "\r\nContent-Length: " + std::to_string(kOrder.size()) + "\r\n\r\n" + kOrder;
  // One byte every 100 ms would take 15 s.
  std::size_t sent = 0;
  std::string answer;
  int heard = -1;
  while (heard < 0 && sent < request.size() && client->send(request[sent])) {
    ++sent;
    heard = client->readFor100Ms(answer);
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (heard != 0 && std::chrono::steady_clock::now() < give_up) {
    heard = client->readFor100Ms(answer);  // the rest of the answer, until the close
  }
  const auto elapsed = std::chrono::steady_clock::now() - first_byte;
  EXPECT_LT(sent, request.size());
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  EXPECT_GE(elapsed, std::chrono::milliseconds(4900));
  EXPECT_LT(elapsed, std::chrono::seconds(6));
  EXPECT_EQ(storedOrders(*node), 0);
}

TEST(Tls, ABadCertificateOrKeyStopsStartUpWithOneLineAndExit2) {
  TempDir dir;
  const auto certificate = makeTestCertificate(dir.path());
  const auto other = makeTestCertificate(dir.path(), "other");
  const std::string database = dir.file("never.db");
  const std::pair<std::map<std::string, std::string>, std::string> cases[] = {
      {{{"OUTPOST_TLS_CERT_FILE", dir.file("missing.crt")},
        {"OUTPOST_TLS_KEY_FILE", certificate.key_file}},
       "tls.cert_file: " + dir.file("missing.crt") + ": cannot read"},
      {{{"OUTPOST_TLS_CERT_FILE", certificate.cert_file}, {"OUTPOST_TLS_KEY_FILE", other.key_file}},
       "tls.key_file: " + other.key_file + ": is not the key of"},
      {{{"OUTPOST_TLS_CERT_FILE", certificate.cert_file}}, "tls.key_file: must be set with"},
  };
  for (auto [env, expected] : cases) {
    env["OUTPOST_DATABASE"] = database;
    env["OUTPOST_LISTEN"] = "127.0.0.1:0";
    const auto result = runOutpost({"serve"}, env);
    EXPECT_EQ(result.exit_status, 2) << result.output;
    EXPECT_NE(result.output.find(expected), std::string::npos) << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    EXPECT_FALSE(std::filesystem::exists(database)) << "a database was created";
  }
}

}  // namespace
}  // namespace outpost::testing
