// SPEC §8 TLS, against the real binary: with tls.cert_file and tls.key_file the API is
// HTTPS only (an order round trip with a verified certificate; plain HTTP on that port is
// refused in plain words), and a bad file stops start-up with one line and exit 2.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

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
  EXPECT_EQ(storedOrders(*node), 0);
  // A TLS client that never finishes its handshake is cut off like a slow request.
  auto silent = RawConnection::open(node->port());
  ASSERT_NE(silent, nullptr);
  EXPECT_TRUE(silent->closesWithin(std::chrono::seconds(7)));
  auto live = node->client()->Get("/livez");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
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
