// Config: every key of SPEC §2, parsed from a nested JSON file and OUTPOST_* environment
// variables (the environment wins), validated once at start-up. A plain value: copy it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "outpost/result.h"

namespace outpost {

struct BreakerConfig {
  int error_threshold_percentage = 50;
  std::int64_t reset_timeout_ms = 30000;
  int volume_threshold = 5;
  int consecutive_failures = 5;  // defaults to volume_threshold when not given
  std::int64_t rolling_window_ms = 10000;
  std::int64_t timeout_ms = 10000;
};

struct RetryConfig {
  std::int64_t initial_delay_ms = 60000;
  std::int64_t max_delay_ms = 300000;
  int max_attempts = 20;
};

// AWS credentials, from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN only
// (never from the file). Secret: never logged.
struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

struct Config {
  std::string node_id;  // defaults to the host name
  std::string listen = "127.0.0.1:8080";
  std::string listen_host = "127.0.0.1";  // derived from listen
  int listen_port = 8080;                 // derived from listen; 0 picks a free port
  std::string database = "outpost.db";
  std::int64_t database_busy_timeout_ms = 2000;
  struct {
    // Free space the database's filesystem must keep (SPEC §11); 0 turns the floor off.
    // Below it orders get 503 disk-space-low; `outpost doctor` fails below it and warns within
    // twice it.
    std::int64_t min_free_bytes = 104857600;
  } storage;
  std::optional<std::string> api_token;
  std::optional<std::string> admin_token;
  std::optional<std::string> metrics_token;  // guards GET /metrics only
  bool allow_unauthenticated = false;

  // PEM files; when both are set the API is HTTPS only (SPEC §8).
  struct {
    std::optional<std::string> cert_file;
    std::optional<std::string> key_file;
  } tls;

  struct {
    std::optional<std::string> url;
    std::int64_t timeout_ms = 2000;
    std::int64_t recheck_interval_ms = 60000;
  } product_service;

  struct {
    std::optional<std::string> url;
    std::int64_t timeout_ms = 3000;
    RetryConfig retry;
  } delivery_service;

  struct {
    std::optional<std::string> sns_topic_arn;
    std::optional<std::string> sqs_queue_url;
    std::optional<std::string> endpoint_url;
    std::string region = "us-east-1";
    std::int64_t poll_interval_ms = 30000;
    int batch_size = 10;
    int max_retries = 5;
    std::int64_t retention_ms = 604800000;
    // None: requests to SNS/SQS go unsigned (an emulator; AWS itself rejects them).
    std::optional<AwsCredentials> credentials;
  } events;

  struct {
    std::int64_t interval_ms = 300000;
    std::int64_t stale_after_ms = 86400000;
  } reconciliation;

  struct {
    bool reject_unavailable = true;
  } checkout;

  struct {
    std::int64_t check_interval_ms = 60000;
    int outbox_backlog = 100;
    int manual_review_backlog = 50;
    std::optional<std::string> webhook_url;
    // OUTBOX_STALE: the oldest PENDING event is older than this (SPEC §11).
    std::int64_t outbox_max_age_ms = 900000;
    // The dead-man switch (SPEC §11): a POST every interval while the node runs.
    std::optional<std::string> heartbeat_url;
    std::int64_t heartbeat_interval_ms = 60000;
  } alerts;

  // Keyed by breaker name: delivery-service, product-service, database, events.
  std::map<std::string, BreakerConfig> breakers;

  bool listensOnLoopback() const;
  bool usesTls() const { return tls.cert_file.has_value() && tls.key_file.has_value(); }
  // Tokens are set and would cross a network in clear (start-up warns, SPEC §8).
  bool sendsTokensInClear() const;
};

// Where configuration comes from. env holds the process environment as NAME -> value.
struct ConfigSources {
  std::optional<std::string> file_path;
  std::map<std::string, std::string> env;
  std::string hostname;  // the node_id default
  // The file's text, when the caller holds it already (the fuzz target): read instead of
  // the file, whose path (if any) then only names it in messages.
  std::optional<std::string> file_text = std::nullopt;
};

// The configuration, or an Error (kind kInvalidArgument) whose message is one line that
// names the offending key, e.g. "config: breakers.events.reset_timeout_ms: must be an
// integer between 1 and 86400000 (got \"abc\")".
Result<Config> loadConfig(const ConfigSources& sources);

// The process environment as a map, for ConfigSources::env.
std::map<std::string, std::string> processEnvironment();

// Every known key path with its environment variable name, for --help texts.
std::vector<std::pair<std::string, std::string>> configKeyNames();

}  // namespace outpost
