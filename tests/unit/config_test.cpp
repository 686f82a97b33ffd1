#include "outpost/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace outpost {
namespace {

using Env = std::map<std::string, std::string>;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "outpost-config-XXXXXX");
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string writeFile(const std::string& text) {
    const std::string path = (dir_ / ("config-" + std::to_string(files_++) + ".json"));
    std::ofstream(path) << text;
    return path;
  }

  Result<Config> loadEnv(Env env) {
    return loadConfig(ConfigSources{std::nullopt, std::move(env), "kiosk-7"});
  }

  Result<Config> loadFile(const std::string& json, Env env = {}) {
    return loadConfig(ConfigSources{writeFile(json), std::move(env), "kiosk-7"});
  }

  std::filesystem::path dir_;
  int files_ = 0;
};

// The error has the documented shape, and its message holds every one of `parts`.
::testing::AssertionResult isConfigError(const Result<Config>& result,
                                         std::initializer_list<std::string> parts) {
  if (result.ok()) return ::testing::AssertionFailure() << "loaded without error";
  const Error& error = result.error();
  if (error.kind != ErrorKind::kInvalidArgument) {
    return ::testing::AssertionFailure() << "kind " << toString(error.kind);
  }
  if (error.message.rfind("config: ", 0) != 0 || error.message.find('\n') != std::string::npos) {
    return ::testing::AssertionFailure() << "not one \"config: \" line: " << error.message;
  }
  for (const auto& part : parts) {
    if (error.message.find(part) == std::string::npos) {
      return ::testing::AssertionFailure() << "\"" << part << "\" not in: " << error.message;
    }
  }
  return ::testing::AssertionSuccess();
}

TEST_F(ConfigTest, DefaultsWithNoFileAndNoEnvironment) {
  auto config = loadEnv({});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->node_id, "kiosk-7");
  EXPECT_EQ(config->listen, "127.0.0.1:8080");
  EXPECT_EQ(config->listen_host, "127.0.0.1");
  EXPECT_EQ(config->listen_port, 8080);
  EXPECT_TRUE(config->listensOnLoopback());
  EXPECT_EQ(config->database, "outpost.db");
  EXPECT_EQ(config->database_busy_timeout_ms, 2000);
  EXPECT_FALSE(config->api_token.has_value());
  EXPECT_FALSE(config->admin_token.has_value());
  EXPECT_FALSE(config->metrics_token.has_value());
  EXPECT_FALSE(config->allow_unauthenticated);
  EXPECT_FALSE(config->product_service.url.has_value());
  EXPECT_EQ(config->product_service.timeout_ms, 2000);
  EXPECT_EQ(config->product_service.recheck_interval_ms, 60000);
  EXPECT_FALSE(config->delivery_service.url.has_value());
  EXPECT_EQ(config->delivery_service.timeout_ms, 3000);
  EXPECT_EQ(config->delivery_service.retry.initial_delay_ms, 60000);
  EXPECT_EQ(config->delivery_service.retry.max_delay_ms, 300000);
  EXPECT_EQ(config->delivery_service.retry.max_attempts, 20);
  EXPECT_FALSE(config->events.sns_topic_arn.has_value());
  EXPECT_FALSE(config->events.sqs_queue_url.has_value());
  EXPECT_FALSE(config->events.endpoint_url.has_value());
  EXPECT_EQ(config->events.region, "us-east-1");
  EXPECT_EQ(config->events.poll_interval_ms, 30000);
  EXPECT_EQ(config->events.batch_size, 10);
  EXPECT_EQ(config->events.max_retries, 5);
  EXPECT_EQ(config->events.retention_ms, 604800000);
  EXPECT_EQ(config->reconciliation.interval_ms, 300000);
  EXPECT_EQ(config->reconciliation.stale_after_ms, 86400000);
  EXPECT_TRUE(config->checkout.reject_unavailable);
  EXPECT_EQ(config->alerts.check_interval_ms, 60000);
  EXPECT_EQ(config->alerts.outbox_backlog, 100);
  EXPECT_EQ(config->alerts.manual_review_backlog, 50);
  EXPECT_FALSE(config->alerts.webhook_url.has_value());
}

TEST_F(ConfigTest, BreakerDefaultsFollowTheDesign) {
  struct Expected {
    const char* name;
    int percentage;
    std::int64_t reset_ms;
    int volume;
    std::int64_t timeout_ms;
  };
  const Expected expected[] = {{"delivery-service", 40, 60000, 5, 3000},
                               {"product-service", 50, 30000, 10, 2000},
                               {"database", 60, 20000, 10, 5000},
                               {"events", 50, 30000, 5, 10000}};
  auto config = loadEnv({});
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_EQ(config->breakers.size(), 4u);
  for (const auto& e : expected) {
    SCOPED_TRACE(e.name);
    const BreakerConfig& breaker = config->breakers.at(e.name);
    EXPECT_EQ(breaker.error_threshold_percentage, e.percentage);
    EXPECT_EQ(breaker.reset_timeout_ms, e.reset_ms);
    EXPECT_EQ(breaker.volume_threshold, e.volume);
    EXPECT_EQ(breaker.consecutive_failures, e.volume);
    EXPECT_EQ(breaker.rolling_window_ms, 10000);
    EXPECT_EQ(breaker.timeout_ms, e.timeout_ms);
  }
}

TEST_F(ConfigTest, NodeIdFallsBackToOutpostWithoutHostname) {
  auto config = loadConfig(ConfigSources{std::nullopt, {}, ""});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->node_id, "outpost");
}

TEST_F(ConfigTest, FileOverridesDefaults) {
  auto config = loadFile(R"({
    "node_id": "till-3",
    "database": "/var/lib/outpost/data.db",
    "delivery_service": {"url": "http://delivery:8080", "retry": {"max_attempts": 3}},
    "events": {"sns_topic_arn": "arn:aws:sns:eu-west-1:123456789012:orders", "batch_size": 5},
    "checkout": {"reject_unavailable": false},
    "breakers": {"delivery-service": {"reset_timeout_ms": 90000}}
  })");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->node_id, "till-3");
  EXPECT_EQ(config->database, "/var/lib/outpost/data.db");
  EXPECT_EQ(config->delivery_service.url, "http://delivery:8080");
  EXPECT_EQ(config->delivery_service.retry.max_attempts, 3);
  EXPECT_EQ(config->delivery_service.retry.initial_delay_ms, 60000);
  EXPECT_EQ(config->events.sns_topic_arn, "arn:aws:sns:eu-west-1:123456789012:orders");
  EXPECT_EQ(config->events.batch_size, 5);
  EXPECT_FALSE(config->checkout.reject_unavailable);
  EXPECT_EQ(config->breakers.at("delivery-service").reset_timeout_ms, 90000);
  EXPECT_EQ(config->breakers.at("events").reset_timeout_ms, 30000);
}

TEST_F(ConfigTest, EnvironmentBeatsFile) {
  auto config = loadFile(R"({"delivery_service": {"url": "http://file", "timeout_ms": 100},
                             "breakers": {"events": {"volume_threshold": 7}}})",
                         {{"OUTPOST_DELIVERY_SERVICE_URL", "https://env.example"},
                          {"OUTPOST_BREAKERS_EVENTS_VOLUME_THRESHOLD", "9"},
                          {"OUTPOST_BREAKERS_DELIVERY_SERVICE_RESET_TIMEOUT_MS", "61000"},
                          {"OUTPOST_ALLOW_UNAUTHENTICATED", "1"}});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->delivery_service.url, "https://env.example");
  EXPECT_EQ(config->delivery_service.timeout_ms, 100);
  EXPECT_EQ(config->breakers.at("events").volume_threshold, 9);
  EXPECT_EQ(config->breakers.at("delivery-service").reset_timeout_ms, 61000);
  EXPECT_TRUE(config->allow_unauthenticated);
}

TEST_F(ConfigTest, UnknownFileKeyNamesFullPath) {
  EXPECT_TRUE(isConfigError(loadFile(R"({"delivery_service": {"retry": {"max_attempt": 3}}})"),
                            {"delivery_service.retry.max_attempt", "unknown key"}));
  EXPECT_TRUE(isConfigError(loadFile(R"({"breakers": {"payments": {"timeout_ms": 5}}})"),
                            {"breakers.payments", "unknown key"}));
  EXPECT_TRUE(isConfigError(loadFile(R"({"listn": "127.0.0.1:80"})"), {"listn", "unknown key"}));
}

TEST_F(ConfigTest, DottedFileKeysAreRejected) {
  EXPECT_TRUE(isConfigError(loadFile(R"({"delivery_service.url": "http://x"})"),
                            {"delivery_service.url", "nest objects"}));
}

TEST_F(ConfigTest, UnknownOutpostEnvironmentVariableIsAnError) {
  EXPECT_TRUE(
      isConfigError(loadEnv({{"OUTPOST_FOO", "1"}}), {"unknown environment variable OUTPOST_FOO"}));
  EXPECT_TRUE(isConfigError(loadEnv({{"OUTPOST_BREAKERS_PAYMENTS_TIMEOUT_MS", "1"}}),
                            {"unknown environment variable OUTPOST_BREAKERS_PAYMENTS_TIMEOUT_MS"}));
}

TEST_F(ConfigTest, OtherEnvironmentVariablesAreIgnored) {
  auto config = loadEnv({{"PATH", "/usr/bin"}, {"OUTPOSTFOO", "x"}, {"HOME", "/root"}});
  EXPECT_TRUE(config.ok()) << config.error().message;
}

TEST_F(ConfigTest, WrongJsonTypeIsAnError) {
  EXPECT_TRUE(isConfigError(loadFile(R"({"events": {"batch_size": "abc"}})"),
                            {"events.batch_size", "integer between 1 and 10", "(got \"abc\")"}));
  EXPECT_TRUE(isConfigError(loadFile(R"({"events": {"batch_size": 2.5}})"),
                            {"events.batch_size", "(got 2.5)"}));
  EXPECT_TRUE(isConfigError(loadFile(R"({"allow_unauthenticated": "true"})"),
                            {"allow_unauthenticated", "true or false"}));
  EXPECT_TRUE(isConfigError(loadFile(R"({"database": 5})"), {"database", "(got 5)"}));
}

TEST_F(ConfigTest, ObjectWhereScalarExpectedIsAnError) {
  EXPECT_TRUE(isConfigError(loadFile(R"({"delivery_service": {"url": {"host": "x"}}})"),
                            {"delivery_service.url", "URL", "(got an object)"}));
}

TEST_F(ConfigTest, ScalarWhereObjectExpectedIsAnError) {
  EXPECT_TRUE(isConfigError(loadFile(R"({"delivery_service": "http://x"})"),
                            {"delivery_service", "must be an object"}));
  EXPECT_TRUE(isConfigError(loadFile(R"({"breakers": {"events": 5}})"),
                            {"breakers.events", "must be an object"}));
}

TEST_F(ConfigTest, NullUnsetsOptionalStringsOnly) {
  auto config = loadFile(R"({"events": {"endpoint_url": null}})",
                         {{"AWS_ENDPOINT_URL", "http://localhost:4566"}});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_FALSE(config->events.endpoint_url.has_value());
  EXPECT_TRUE(isConfigError(loadFile(R"({"database": null})"), {"database", "(got null)"}));
  EXPECT_TRUE(isConfigError(loadFile(R"({"events": {"batch_size": null}})"),
                            {"events.batch_size", "(got null)"}));
}

TEST_F(ConfigTest, PercentageRangeEdgesInFile) {
  const std::pair<std::string, bool> cases[] = {
      {"0", false}, {"1", true}, {"100", true}, {"101", false}, {"-5", false}};
  for (const auto& [value, accepted] : cases) {
    SCOPED_TRACE(value);
    auto config =
        loadFile(R"({"breakers": {"database": {"error_threshold_percentage": )" + value + "}}}");
    if (accepted) {
      ASSERT_TRUE(config.ok()) << config.error().message;
      EXPECT_EQ(config->breakers.at("database").error_threshold_percentage, std::stoi(value));
    } else {
      EXPECT_TRUE(isConfigError(config, {"breakers.database.error_threshold_percentage",
                                         "between 1 and 100", "(got " + value + ")"}));
    }
  }
}

TEST_F(ConfigTest, RangeEdgesInEnvironment) {
  const std::string var = "OUTPOST_EVENTS_BATCH_SIZE";
  EXPECT_TRUE(isConfigError(loadEnv({{var, "0"}}), {"events.batch_size", var}));
  EXPECT_TRUE(loadEnv({{var, "1"}}).ok());
  EXPECT_TRUE(loadEnv({{var, "10"}}).ok());
  EXPECT_TRUE(isConfigError(loadEnv({{var, "11"}}), {"events.batch_size", var, "(got \"11\")"}));
  const std::string retries = "OUTPOST_EVENTS_MAX_RETRIES";
  EXPECT_TRUE(loadEnv({{retries, "0"}}).ok());
  EXPECT_TRUE(isConfigError(loadEnv({{retries, "-1"}}), {"events.max_retries"}));
  const std::string busy = "OUTPOST_DATABASE_BUSY_TIMEOUT_MS";
  EXPECT_TRUE(loadEnv({{busy, "600000"}}).ok());
  EXPECT_TRUE(isConfigError(loadEnv({{busy, "600001"}}), {"database_busy_timeout_ms"}));
}

TEST_F(ConfigTest, StorageMinFreeBytesDefaultsToSpecFloorAndZeroTurnsItOff) {
  auto defaults = loadEnv({});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->storage.min_free_bytes, 104857600);
  const std::string var = "OUTPOST_STORAGE_MIN_FREE_BYTES";
  auto off = loadEnv({{var, "0"}});
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->storage.min_free_bytes, 0);
  EXPECT_TRUE(isConfigError(loadEnv({{var, "-1"}}), {"storage.min_free_bytes", var}));
  auto from_file = loadFile(R"({"storage": {"min_free_bytes": 5000000000}})");
  ASSERT_TRUE(from_file.ok()) << from_file.error().message;
  EXPECT_EQ(from_file->storage.min_free_bytes, 5000000000);
}

TEST_F(ConfigTest, HugeFileIntegerIsOutOfRange) {
  EXPECT_TRUE(isConfigError(loadFile(R"({"events": {"retention_ms": 18446744073709551615}})"),
                            {"events.retention_ms", "between 1 and"}));
}

TEST_F(ConfigTest, EnvironmentIntegersAreParsedStrictly) {
  const std::string var = "OUTPOST_BREAKERS_EVENTS_RESET_TIMEOUT_MS";
  for (const std::string bad :
       {"12abc", " 12", "12 ", "", "1.0", "+12", "0x10", "99999999999999999999"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(isConfigError(loadEnv({{var, bad}}),
                              {"breakers.events.reset_timeout_ms", var, "between 1 and 86400000"}));
  }
  auto config = loadEnv({{var, "12"}});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->breakers.at("events").reset_timeout_ms, 12);
}

TEST_F(ConfigTest, EnvironmentBooleans) {
  const std::string var = "OUTPOST_CHECKOUT_REJECT_UNAVAILABLE";
  const std::pair<std::string, bool> good[] = {
      {"true", true}, {"false", false}, {"1", true}, {"0", false}};
  for (const auto& [text, expected] : good) {
    auto config = loadEnv({{var, text}});
    ASSERT_TRUE(config.ok()) << config.error().message;
    EXPECT_EQ(config->checkout.reject_unavailable, expected) << text;
  }
  EXPECT_TRUE(isConfigError(loadEnv({{var, "yes"}}),
                            {"checkout.reject_unavailable", var, "true, false, 1 or 0"}));
}

TEST_F(ConfigTest, ConsecutiveFailuresFollowsVolumeThreshold) {
  auto config = loadFile(R"({"breakers": {"events": {"volume_threshold": 8},
                                          "database": {"volume_threshold": 8,
                                                       "consecutive_failures": 3}}})",
                         {{"OUTPOST_BREAKERS_PRODUCT_SERVICE_VOLUME_THRESHOLD", "12"}});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->breakers.at("events").consecutive_failures, 8);
  EXPECT_EQ(config->breakers.at("database").consecutive_failures, 3);
  EXPECT_EQ(config->breakers.at("product-service").consecutive_failures, 12);
  EXPECT_EQ(config->breakers.at("delivery-service").consecutive_failures, 5);
}

TEST_F(ConfigTest, BreakerTimeoutFollowsServiceTimeout) {
  auto config = loadFile(R"({"delivery_service": {"timeout_ms": 4500},
                             "database_busy_timeout_ms": 777,
                             "breakers": {"events": {"timeout_ms": 1500}}})",
                         {{"OUTPOST_PRODUCT_SERVICE_TIMEOUT_MS", "1234"}});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->breakers.at("delivery-service").timeout_ms, 4500);
  EXPECT_EQ(config->breakers.at("product-service").timeout_ms, 1234);
  EXPECT_EQ(config->breakers.at("database").timeout_ms, 2 * 777 + 1000);
  EXPECT_EQ(config->breakers.at("events").timeout_ms, 1500);
}

TEST_F(ConfigTest, ExplicitBreakerTimeoutWinsOverServiceTimeout) {
  auto config = loadFile(R"({"delivery_service": {"timeout_ms": 4500},
                             "breakers": {"delivery-service": {"timeout_ms": 800}}})");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->breakers.at("delivery-service").timeout_ms, 800);
}

TEST_F(ConfigTest, ZeroBusyTimeoutKeepsAUsableDatabaseBreakerTimeout) {
  auto config = loadEnv({{"OUTPOST_DATABASE_BUSY_TIMEOUT_MS", "0"}});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->database_busy_timeout_ms, 0);
  EXPECT_EQ(config->breakers.at("database").timeout_ms, 1000);
}

TEST_F(ConfigTest, BadUrlsAreRejectedNamingTheKey) {
  for (const std::string bad :
       {"ftp://host", "http://", "https:///path", "delivery:8080", "http://host:0",
        "http://host:99999", "http://ho st", "http://[zz]:80", "http://:80"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(isConfigError(loadEnv({{"OUTPOST_ALERTS_WEBHOOK_URL", bad}}),
                              {"alerts.webhook_url", "OUTPOST_ALERTS_WEBHOOK_URL", "http://"}));
  }
  EXPECT_TRUE(isConfigError(loadFile(R"({"product_service": {"url": "localhost:9000"}})"),
                            {"product_service.url", "(got \"localhost:9000\")"}));
}

TEST_F(ConfigTest, GoodUrlsAreAccepted) {
  for (const std::string good : {"http://delivery", "https://user:pw@example.com:8443/base?q=1",
                                 "http://[::1]:4566", "HTTPS://Example.COM", "http://10.0.0.2/x"}) {
    SCOPED_TRACE(good);
    auto config = loadEnv({{"OUTPOST_EVENTS_SQS_QUEUE_URL", good}});
    ASSERT_TRUE(config.ok()) << config.error().message;
    EXPECT_EQ(config->events.sqs_queue_url, good);
  }
}

TEST_F(ConfigTest, TopicArnMustStartWithArn) {
  EXPECT_TRUE(isConfigError(loadEnv({{"OUTPOST_EVENTS_SNS_TOPIC_ARN", "orders-topic"}}),
                            {"events.sns_topic_arn", "arn:"}));
}

TEST_F(ConfigTest, AwsEnvironmentGivesEventDefaults) {
  auto config =
      loadEnv({{"AWS_REGION", "eu-central-1"}, {"AWS_ENDPOINT_URL", "http://localhost:4566"}});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->events.region, "eu-central-1");
  EXPECT_EQ(config->events.endpoint_url, "http://localhost:4566");

  config = loadFile(R"({"events": {"region": "ap-south-1"}})",
                    {{"AWS_REGION", "eu-central-1"},
                     {"AWS_ENDPOINT_URL", "http://localhost:4566"},
                     {"OUTPOST_EVENTS_ENDPOINT_URL", "http://fauxqs:3000"}});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->events.region, "ap-south-1");
  EXPECT_EQ(config->events.endpoint_url, "http://fauxqs:3000");

  EXPECT_TRUE(isConfigError(loadEnv({{"AWS_ENDPOINT_URL", "localhost:4566"}}),
                            {"events.endpoint_url", "AWS_ENDPOINT_URL"}));
}

TEST_F(ConfigTest, AwsCredentialsComeFromTheEnvironmentInPairs) {
  auto config = loadEnv({});
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->events.credentials);

  config = loadEnv({{"AWS_ACCESS_KEY_ID", "AKID"},
                    {"AWS_SECRET_ACCESS_KEY", "s3cret"},
                    {"AWS_SESSION_TOKEN", "tok"}});
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_TRUE(config->events.credentials);
  EXPECT_EQ(config->events.credentials->access_key_id, "AKID");
  EXPECT_EQ(config->events.credentials->secret_access_key, "s3cret");
  EXPECT_EQ(config->events.credentials->session_token, "tok");

  config = loadEnv({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", ""}});
  // An empty variable is unset, as for the AWS tools.
  EXPECT_TRUE(isConfigError(config, {"AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"}));
  config = loadEnv({{"AWS_SECRET_ACCESS_KEY", "s3cret"}});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message.find("s3cret"), std::string::npos);  // never the secret
}

TEST_F(ConfigTest, EmptyStringsAreRejected) {
  EXPECT_TRUE(isConfigError(loadFile(R"({"node_id": ""})"), {"node_id", "non-empty"}));
  EXPECT_TRUE(isConfigError(loadEnv({{"OUTPOST_API_TOKEN", ""}}), {"api_token", "non-empty"}));
}

TEST_F(ConfigTest, ListenIsSplitIntoHostAndPort) {
  const std::string token = "a-long-enough-token";
  struct Case {
    std::string listen;
    std::string host;
    int port;
  };
  const Case cases[] = {{"0.0.0.0:9000", "0.0.0.0", 9000},
                        {"localhost:80", "localhost", 80},
                        {"[::1]:0", "::1", 0},
                        {"127.0.0.1:65535", "127.0.0.1", 65535},
                        {"till-3.shop.local:8081", "till-3.shop.local", 8081}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.listen);
    auto config = loadEnv({{"OUTPOST_LISTEN", c.listen}, {"OUTPOST_API_TOKEN", token}});
    ASSERT_TRUE(config.ok()) << config.error().message;
    EXPECT_EQ(config->listen, c.listen);
    EXPECT_EQ(config->listen_host, c.host);
    EXPECT_EQ(config->listen_port, c.port);
  }
}

TEST_F(ConfigTest, BadListenAddressesAreRejected) {
  for (const std::string bad : {"127.0.0.1", "127.0.0.1:65536", ":80", "localhost:-1",
                                "300.1.1.1:80", "::1:80", "[::1]", "[nope]:80", "host:80x"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(isConfigError(loadFile("{\"listen\": \"" + bad + "\"}"), {"listen", "host:port"}));
  }
}

TEST_F(ConfigTest, NonLoopbackListenNeedsATokenOrExplicitConsent) {
  auto refused = loadEnv({{"OUTPOST_LISTEN", "0.0.0.0:8080"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "config: listen: 0.0.0.0:8080 is not a loopback address; set api_token/admin_token "
            "or allow_unauthenticated: true");
  EXPECT_EQ(refused.error().kind, ErrorKind::kInvalidArgument);

  const Env listen = {{"OUTPOST_LISTEN", "0.0.0.0:8080"}};
  for (const auto& [name, value] : Env{{"OUTPOST_API_TOKEN", "api-token-0123456789"},
                                       {"OUTPOST_ADMIN_TOKEN", "admin-token-0123456789"},
                                       {"OUTPOST_ALLOW_UNAUTHENTICATED", "true"}}) {
    SCOPED_TRACE(name);
    Env env = listen;
    env[name] = value;
    auto config = loadEnv(env);
    ASSERT_TRUE(config.ok()) << config.error().message;
    EXPECT_FALSE(config->listensOnLoopback());
  }
  EXPECT_TRUE(loadEnv({{"OUTPOST_LISTEN", "localhost:8080"}}).ok());
  EXPECT_TRUE(loadEnv({{"OUTPOST_LISTEN", "[::1]:8080"}}).ok());
}

TEST_F(ConfigTest, TlsNeedsBothFilesOrNeither) {
  auto plain = loadEnv({});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->usesTls());
  auto https = loadFile(R"({"tls": {"cert_file": "/etc/outpost/node.crt",
                                    "key_file": "/etc/outpost/node.key"}})");
  ASSERT_TRUE(https.ok()) << https.error().message;
  EXPECT_TRUE(https->usesTls());
  EXPECT_EQ(https->tls.cert_file, "/etc/outpost/node.crt");
  EXPECT_TRUE(isConfigError(loadEnv({{"OUTPOST_TLS_CERT_FILE", "/etc/outpost/node.crt"}}),
                            {"tls.key_file", "must be set with tls.cert_file"}));
  EXPECT_TRUE(isConfigError(loadEnv({{"OUTPOST_TLS_KEY_FILE", "/etc/outpost/node.key"}}),
                            {"tls.cert_file", "must be set with tls.key_file"}));
}

TEST_F(ConfigTest, TokensTravelInClearOnlyOffLoopbackWithoutTls) {
  const Env lan = {{"OUTPOST_LISTEN", "0.0.0.0:8080"}, {"OUTPOST_API_TOKEN", "api-token-0123"}};
  EXPECT_TRUE(loadEnv(lan)->sendsTokensInClear());
  Env with_tls = lan;
  with_tls["OUTPOST_TLS_CERT_FILE"] = "/c.pem";
  with_tls["OUTPOST_TLS_KEY_FILE"] = "/k.pem";
  EXPECT_FALSE(loadEnv(with_tls)->sendsTokensInClear());
  EXPECT_FALSE(loadEnv({{"OUTPOST_API_TOKEN", "api-token-0123"}})->sendsTokensInClear());
  EXPECT_FALSE(
      loadEnv({{"OUTPOST_LISTEN", "0.0.0.0:8080"}, {"OUTPOST_ALLOW_UNAUTHENTICATED", "true"}})
          ->sendsTokensInClear());
}

TEST_F(ConfigTest, ListensOnLoopback) {
  const std::pair<std::string, bool> cases[] = {
      {"127.0.0.1", true}, {"127.1.2.3", true},        {"localhost", true}, {"LocalHost", true},
      {"::1", true},       {"::ffff:127.0.0.1", true}, {"0.0.0.0", false},  {"10.0.0.1", false},
      {"::", false},       {"example.com", false},     {"128.0.0.1", false}};
  for (const auto& [host, loopback] : cases) {
    Config config;
    config.listen_host = host;
    EXPECT_EQ(config.listensOnLoopback(), loopback) << host;
  }
}

TEST_F(ConfigTest, TokensNeverAppearInMessages) {
  const std::string secret = "s3cret-value-do-not-log";
  auto bad_type = loadFile(R"({"api_token": 123456789012345})");
  EXPECT_TRUE(isConfigError(bad_type, {"api_token", "<redacted>"}));
  EXPECT_EQ(bad_type.error().message.find("123456789012345"), std::string::npos);

  auto bad_env = loadEnv({{"OUTPOST_ADMIN_TOKEN", secret + "\n"}});
  EXPECT_TRUE(isConfigError(bad_env, {"admin_token", "OUTPOST_ADMIN_TOKEN", "<redacted>"}));
  EXPECT_EQ(bad_env.error().message.find("s3cret"), std::string::npos);

  auto bad_metrics = loadFile(R"({"metrics_token": ["s3cret"]})");
  EXPECT_TRUE(isConfigError(bad_metrics, {"metrics_token", "<redacted>"}));
  EXPECT_EQ(bad_metrics.error().message.find("s3cret"), std::string::npos);

  auto other_error = loadEnv({{"OUTPOST_API_TOKEN", secret}, {"OUTPOST_LISTEN", "bad"}});
  EXPECT_TRUE(isConfigError(other_error, {"listen"}));
  EXPECT_EQ(other_error.error().message.find("s3cret"), std::string::npos);
}

TEST_F(ConfigTest, RetryMaxDelayMustNotBeBelowInitialDelay) {
  EXPECT_TRUE(isConfigError(loadEnv({{"OUTPOST_DELIVERY_SERVICE_RETRY_MAX_DELAY_MS", "1000"}}),
                            {"delivery_service.retry.max_delay_ms", "initial_delay_ms"}));
}

TEST_F(ConfigTest, UnreadableOrInvalidFileNamesTheFile) {
  const std::string missing = (dir_ / "missing.json");
  EXPECT_TRUE(isConfigError(loadConfig(ConfigSources{missing, {}, "h"}), {missing}));
  EXPECT_TRUE(isConfigError(loadConfig(ConfigSources{dir_.string(), {}, "h"}), {dir_.string()}));
  const std::string broken = writeFile("{\"listen\": ");
  EXPECT_TRUE(isConfigError(loadConfig(ConfigSources{broken, {}, "h"}), {broken}));
  const std::string list = writeFile("[1, 2]");
  EXPECT_TRUE(isConfigError(loadConfig(ConfigSources{list, {}, "h"}), {list, "JSON object"}));
}

TEST_F(ConfigTest, FileTextIsReadLikeTheFileAndNamedByItsPath) {
  const std::string text = R"({"listen": "127.0.0.1:9000", "events": {"batch_size": 3}})";
  ConfigSources sources{std::nullopt, {{"OUTPOST_EVENTS_BATCH_SIZE", "4"}}, "h", text};
  auto config = loadConfig(sources);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen_port, 9000);
  EXPECT_EQ(config->events.batch_size, 4);  // the environment still wins

  sources.file_path = "/nowhere/outpost.json";  // named, never read
  sources.file_text = R"({"listen": 5})";
  EXPECT_TRUE(isConfigError(loadConfig(sources), {"listen", "host:port"}));
  sources.file_text = "{\"listen\": ";
  EXPECT_TRUE(isConfigError(loadConfig(sources), {"cannot parse /nowhere/outpost.json"}));
}

TEST_F(ConfigTest, EmptyObjectFileGivesDefaults) {
  auto config = loadFile("{}");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen_port, 8080);
}

TEST_F(ConfigTest, EnvironmentNamesAreDerivedFromKeyPaths) {
  const auto names = configKeyNames();
  const std::pair<std::string, std::string> breaker = {
      "breakers.delivery-service.reset_timeout_ms",
      "OUTPOST_BREAKERS_DELIVERY_SERVICE_RESET_TIMEOUT_MS"};
  const std::pair<std::string, std::string> url = {"delivery_service.url",
                                                   "OUTPOST_DELIVERY_SERVICE_URL"};
  EXPECT_NE(std::find(names.begin(), names.end(), breaker), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), url), names.end());
  const std::pair<std::string, std::string> metrics_token{"metrics_token", "OUTPOST_METRICS_TOKEN"};
  EXPECT_NE(std::find(names.begin(), names.end(), metrics_token), names.end());
  const std::pair<std::string, std::string> tls_cert{"tls.cert_file", "OUTPOST_TLS_CERT_FILE"};
  EXPECT_NE(std::find(names.begin(), names.end(), tls_cert), names.end());
  std::set<std::string> paths;
  std::set<std::string> env_names;
  for (const auto& [path, env_name] : names) {
    paths.insert(path);
    env_names.insert(env_name);
  }
  EXPECT_EQ(paths.size(), names.size());
  EXPECT_EQ(env_names.size(), names.size());
  EXPECT_EQ(names.size(), 37u + 4u * 6u);
}

// Every key the table lists is reachable from the environment and validated.
TEST_F(ConfigTest, EveryKeyRejectsGarbageFromEnvironment) {
  for (const auto& [path, env_name] : configKeyNames()) {
    SCOPED_TRACE(env_name);
    EXPECT_TRUE(isConfigError(loadEnv({{env_name, "\x01garbage"}}), {path, env_name}));
  }
}

TEST_F(ConfigTest, BacklogAgeAndHeartbeatKeysHaveDefaultsAndAreValidated) {
  auto config = loadEnv({});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->alerts.outbox_max_age_ms, 900000);
  EXPECT_FALSE(config->alerts.heartbeat_url.has_value());
  EXPECT_EQ(config->alerts.heartbeat_interval_ms, 60000);

  config = loadFile(R"({"alerts": {"outbox_max_age_ms": 5000,
                                    "heartbeat_url": "http://hq.example/beat"}})",
                    {{"OUTPOST_ALERTS_HEARTBEAT_INTERVAL_MS", "300"}});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->alerts.outbox_max_age_ms, 5000);
  EXPECT_EQ(config->alerts.heartbeat_url, "http://hq.example/beat");
  EXPECT_EQ(config->alerts.heartbeat_interval_ms, 300);

  EXPECT_TRUE(isConfigError(loadEnv({{"OUTPOST_ALERTS_HEARTBEAT_URL", "hq:80"}}),
                            {"alerts.heartbeat_url", "OUTPOST_ALERTS_HEARTBEAT_URL", "http://"}));
  EXPECT_TRUE(isConfigError(loadEnv({{"OUTPOST_ALERTS_HEARTBEAT_INTERVAL_MS", "99"}}),
                            {"alerts.heartbeat_interval_ms", "between 100 and 604800000"}));
  EXPECT_TRUE(loadEnv({{"OUTPOST_ALERTS_HEARTBEAT_INTERVAL_MS", "100"}}).ok());
  EXPECT_TRUE(isConfigError(loadFile(R"({"alerts": {"outbox_max_age_ms": 0}})"),
                            {"alerts.outbox_max_age_ms", "(got 0)"}));
}

}  // namespace
}  // namespace outpost
