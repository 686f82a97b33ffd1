// The config target (fuzz_targets.h): the file's text and the environment, through
// loadConfig.
#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_targets.h"
#include "outpost/config.h"

namespace outpost::fuzz {
namespace {

using nlohmann::json;

// The environment from "NAME=value" lines; a line without '=' is skipped, a later
// NAME wins.
std::map<std::string, std::string> environmentFrom(std::string_view lines) {
  std::map<std::string, std::string> env;
  while (!lines.empty()) {
    const auto end = std::min(lines.find('\n'), lines.size());
    const std::string_view line = lines.substr(0, end);
    lines.remove_prefix(std::min(end + 1, lines.size()));
    const auto equals = line.find('=');
    if (equals != std::string_view::npos) {
      env[std::string(line.substr(0, equals))] = std::string(line.substr(equals + 1));
    }
  }
  return env;
}

json optionalText(const std::optional<std::string>& text) { return text ? json(*text) : json(); }

// Every field of a configuration, to compare two of them.
json summary(const Config& c) {
  json breakers = json::object();
  for (const auto& [name, b] : c.breakers) {
    breakers[name] = {b.error_threshold_percentage, b.reset_timeout_ms,  b.volume_threshold,
                      b.consecutive_failures,       b.rolling_window_ms, b.timeout_ms};
  }
  const auto& d = c.delivery_service;
  const auto& e = c.events;
  return {c.node_id,
          c.listen,
          c.listen_host,
          c.listen_port,
          c.database,
          c.database_busy_timeout_ms,
          optionalText(c.api_token),
          optionalText(c.admin_token),
          optionalText(c.metrics_token),
          c.allow_unauthenticated,
          {optionalText(c.product_service.url), c.product_service.timeout_ms,
           c.product_service.recheck_interval_ms},
          {optionalText(d.url), d.timeout_ms, d.retry.initial_delay_ms, d.retry.max_delay_ms,
           d.retry.max_attempts},
          {optionalText(e.sns_topic_arn), optionalText(e.sqs_queue_url),
           optionalText(e.endpoint_url), e.region, e.poll_interval_ms, e.batch_size, e.max_retries,
           e.retention_ms, e.credentials.has_value(),
           e.credentials ? e.credentials->access_key_id + "\n" + e.credentials->secret_access_key +
                               "\n" + e.credentials->session_token
                         : ""},
          {c.reconciliation.interval_ms, c.reconciliation.stale_after_ms},
          c.checkout.reject_unavailable,
          {c.alerts.check_interval_ms, c.alerts.outbox_backlog, c.alerts.manual_review_backlog,
           optionalText(c.alerts.webhook_url)},
          breakers};
}

bool hasControl(const std::string& text) {
  for (const char c : text) {
    if (std::iscntrl(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

bool isUrl(const std::optional<std::string>& url) {
  if (!url) return true;
  std::string scheme = url->substr(0, url->find("://") + 3);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return (scheme == "http://" || scheme == "https://") && !hasControl(*url);
}

bool isToken(const std::optional<std::string>& token) {
  return !token || (!token->empty() && !hasControl(*token));
}

void checkTaken(const Config& c) {
  check(c.listen_port >= 0 && c.listen_port <= 65535, "the port is a port");
  check(!c.listen_host.empty() && c.listen.find(c.listen_host) != std::string::npos,
        "listen is host:port");
  check(!c.node_id.empty() && !hasControl(c.node_id), "node_id is text");
  check(!c.database.empty() && !hasControl(c.database), "database is a path");
  check(c.database_busy_timeout_ms >= 0 && c.database_busy_timeout_ms <= 600000,
        "the busy timeout is within its range");
  check(isToken(c.api_token) && isToken(c.admin_token) && isToken(c.metrics_token),
        "tokens are text");
  check(c.listensOnLoopback() || c.api_token || c.admin_token || c.allow_unauthenticated,
        "no open node off loopback");
  check(isUrl(c.product_service.url) && isUrl(c.delivery_service.url) &&
            isUrl(c.events.sqs_queue_url) && isUrl(c.events.endpoint_url) &&
            isUrl(c.alerts.webhook_url),
        "URLs are http(s)");
  check(!c.events.sns_topic_arn || c.events.sns_topic_arn->starts_with("arn:"), "an ARN");
  check(c.events.batch_size >= 1 && c.events.batch_size <= 10, "a batch is 1 to 10");
  check(c.events.max_retries >= 0 && c.events.max_retries <= 1000, "max_retries in range");
  const auto& retry = c.delivery_service.retry;
  check(retry.initial_delay_ms >= 1 && retry.max_delay_ms >= retry.initial_delay_ms,
        "retry delays are ordered");
  check(retry.max_attempts >= 1 && retry.max_attempts <= 1000, "max_attempts in range");
  check(c.breakers.size() == 4, "the four breakers");
  for (const auto& [name, b] : c.breakers) {
    check(b.error_threshold_percentage >= 1 && b.error_threshold_percentage <= 100,
          "a percentage is a percentage");
    check(b.volume_threshold >= 1 && b.consecutive_failures >= 1, "breakers need failures");
    check(b.reset_timeout_ms >= 1 && b.rolling_window_ms >= 1 && b.timeout_ms >= 1,
          "breaker times are positive");
  }
  for (const std::int64_t ms : {c.product_service.timeout_ms, c.product_service.recheck_interval_ms,
                                c.delivery_service.timeout_ms, c.events.poll_interval_ms,
                                c.events.retention_ms, c.reconciliation.interval_ms,
                                c.reconciliation.stale_after_ms, c.alerts.check_interval_ms}) {
    check(ms >= 1, "times are positive");
  }
}

const char* const kSecretKeys[] = {"api_token", "admin_token", "metrics_token"};

void checkRefused(const Error& error) {
  check(error.kind == ErrorKind::kInvalidArgument, "a refusal is invalid input");
  check(error.message.starts_with("config: "), "a refusal starts with config:");
  check(!hasControl(error.message), "a refusal is one line");
  if (error.fields.empty()) return;
  for (const char* secret : kSecretKeys) {
    if (error.fields[0].field != secret) continue;
    const auto got = error.message.find("(got ");
    check(got == std::string::npos || error.message.compare(got, 16, "(got <redacted>)") == 0,
          "a rejected secret is never shown");
  }
}

// The file's values as OUTPOST_* variables; false if the file holds what the environment
// cannot say (a null, an unknown key, a value of another type).
bool fileAsEnvironment(const json& value, const std::string& path,
                       std::map<std::string, std::string>& env) {
  if (value.is_object()) {
    for (const auto& [name, member] : value.items()) {
      if (!fileAsEnvironment(member, path.empty() ? name : path + "." + name, env)) return false;
    }
    return true;
  }
  std::string name;
  for (const auto& [key, env_name] : configKeyNames()) {
    if (key == path) name = env_name;
  }
  if (name.empty()) return false;
  if (value.is_string()) {
    env[name] = value.get<std::string>();
  } else if (value.is_boolean() || value.is_number_integer()) {
    env[name] = value.dump();
  } else {
    return false;
  }
  return true;
}

}  // namespace

void configInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto nul = std::min(input.find('\0'), input.size());
  ConfigSources sources;
  if (nul > 0) sources.file_text = std::string(input.substr(0, nul));
  sources.env = environmentFrom(input.substr(std::min(nul + 1, input.size())));
  sources.hostname = "till-7";

  const auto config = loadConfig(sources);
  if (!config) return checkRefused(config.error());
  checkTaken(*config);
  if (!sources.file_text) return;

  // The same values from the environment alone (which still wins over them).
  std::map<std::string, std::string> env;
  if (!fileAsEnvironment(json::parse(*sources.file_text), "", env)) return;
  for (const auto& [name, value] : sources.env) env[name] = value;
  const auto again = loadConfig(ConfigSources{std::nullopt, env, sources.hostname, std::nullopt});
  check(again.ok(), "the file's values load from the environment");
  check(summary(*again) == summary(*config), "the environment gives the same configuration");
}

}  // namespace outpost::fuzz
