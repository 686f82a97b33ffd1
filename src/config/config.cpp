#include "outpost/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

extern char** environ;

namespace outpost {
namespace {

using nlohmann::json;

// Ranges, in milliseconds unless noted.
constexpr std::int64_t kMaxTimeoutMs = 3'600'000;     // an hour: longer is a hang, not a wait
constexpr std::int64_t kMaxIntervalMs = 604'800'000;  // a week
constexpr std::int64_t kMaxDayMs = 86'400'000;        // breaker reset and rolling windows
constexpr std::int64_t kMaxAgeMs = 315'360'000'000;   // ten years: retention and staleness
constexpr std::int64_t kMaxBusyTimeoutMs = 600'000;   // 0: fail at once on a held lock
constexpr std::int64_t kMaxPercentage = 100;
constexpr std::int64_t kMaxVolume = 100'000;
constexpr std::int64_t kMaxAttempts = 1'000;
constexpr std::int64_t kMaxBacklog = 10'000'000;
constexpr std::int64_t kMaxBatchSize = 10;  // the SNS/SQS batch limit
constexpr std::int64_t kMaxPort = 65'535;
constexpr std::int64_t kMaxDiskBytes = 1LL << 50;  // a pebibyte
// A beat's timeout is half its interval: below this it could not hold a TCP connect.
constexpr std::int64_t kMinHeartbeatIntervalMs = 100;
constexpr std::size_t kMaxShownChars = 80;

constexpr std::string_view kEnvPrefix = "OUTPOST_";

enum class Kind { kText, kSecret, kUrl, kArn, kListen, kInteger, kBool };

using Field = std::variant<std::string*, std::optional<std::string>*, std::int64_t*, int*, bool*>;
using Value = std::variant<std::monostate, std::string, std::int64_t, bool>;

struct Range {
  std::int64_t min = 0;
  std::int64_t max = 0;
};

struct KeySpec {
  std::string path;
  std::string env_name;
  Kind kind;
  Range range;    // kInteger only
  bool optional;  // null in the file unsets it
  std::function<Field(Config&)> field;
};

std::string envNameFor(std::string_view path) {
  std::string name(kEnvPrefix);
  for (char c : path) {
    name += (c == '.' || c == '-') ? '_'
                                   : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

template <typename Accessor>
KeySpec makeKey(std::string path, Kind kind, Accessor accessor, Range range = {}) {
  using Pointer = std::invoke_result_t<Accessor, Config&>;
  constexpr bool kOptional = std::is_same_v<Pointer, std::optional<std::string>*>;
  std::string env_name = envNameFor(path);
  return KeySpec{
      std::move(path), std::move(env_name), kind, range, kOptional, [accessor](Config& config) {
        return Field{accessor(config)};
      }};
}

struct BreakerDefaults {
  const char* name;
  int error_threshold_percentage;
  std::int64_t reset_timeout_ms;
  int volume_threshold;
  std::int64_t (*timeout_ms)(const Config&);  // follows the guarded call's own timeout
};

const BreakerDefaults kBreakerDefaults[] = {
    {"delivery-service", 40, 60'000, 5,
     [](const Config& c) { return c.delivery_service.timeout_ms; }},
    {"product-service", 50, 30'000, 10,
     [](const Config& c) { return c.product_service.timeout_ms; }},
    // A busy timeout of 0 says "do not wait for locks", not how long a query may run.
    // A trial write may queue behind a batch that is itself waiting out the busy
    // timeout, then wait once more: give it both, and a second to spare.
    {"database", 60, 20'000, 10,
     [](const Config& c) { return 2 * c.database_busy_timeout_ms + 1000; }},
    {"events", 50, 30'000, 5, [](const Config&) { return std::int64_t{10'000}; }},
};

void addBreakerKeys(std::vector<KeySpec>& keys, const std::string& name) {
  const std::string prefix = "breakers." + name + ".";
  auto breaker = [name](Config& c) -> BreakerConfig& { return c.breakers[name]; };
  keys.push_back(makeKey(prefix + "error_threshold_percentage", Kind::kInteger,
                         [breaker](Config& c) { return &breaker(c).error_threshold_percentage; },
                         {1, kMaxPercentage}));
  keys.push_back(makeKey(prefix + "reset_timeout_ms", Kind::kInteger,
                         [breaker](Config& c) { return &breaker(c).reset_timeout_ms; },
                         {1, kMaxDayMs}));
  keys.push_back(makeKey(prefix + "volume_threshold", Kind::kInteger,
                         [breaker](Config& c) { return &breaker(c).volume_threshold; },
                         {1, kMaxVolume}));
  keys.push_back(makeKey(prefix + "consecutive_failures", Kind::kInteger,
                         [breaker](Config& c) { return &breaker(c).consecutive_failures; },
                         {1, kMaxVolume}));
  keys.push_back(makeKey(prefix + "rolling_window_ms", Kind::kInteger,
                         [breaker](Config& c) { return &breaker(c).rolling_window_ms; },
                         {1, kMaxDayMs}));
  keys.push_back(makeKey(prefix + "timeout_ms", Kind::kInteger,
                         [breaker](Config& c) { return &breaker(c).timeout_ms; },
                         {1, kMaxTimeoutMs}));
}

void addNodeKeys(std::vector<KeySpec>& keys) {
  keys.push_back(makeKey("node_id", Kind::kText, [](Config& c) { return &c.node_id; }));
  keys.push_back(makeKey("listen", Kind::kListen, [](Config& c) { return &c.listen; }));
  keys.push_back(makeKey("database", Kind::kText, [](Config& c) { return &c.database; }));
  keys.push_back(makeKey("database_busy_timeout_ms", Kind::kInteger,
                         [](Config& c) { return &c.database_busy_timeout_ms; },
                         {0, kMaxBusyTimeoutMs}));
  keys.push_back(makeKey("storage.min_free_bytes", Kind::kInteger,
                         [](Config& c) { return &c.storage.min_free_bytes; }, {0, kMaxDiskBytes}));
  keys.push_back(makeKey("api_token", Kind::kSecret, [](Config& c) { return &c.api_token; }));
  keys.push_back(makeKey("admin_token", Kind::kSecret, [](Config& c) { return &c.admin_token; }));
  keys.push_back(
      makeKey("metrics_token", Kind::kSecret, [](Config& c) { return &c.metrics_token; }));
  keys.push_back(makeKey("allow_unauthenticated", Kind::kBool,
                         [](Config& c) { return &c.allow_unauthenticated; }));
  keys.push_back(makeKey("tls.cert_file", Kind::kText, [](Config& c) { return &c.tls.cert_file; }));
  keys.push_back(makeKey("tls.key_file", Kind::kText, [](Config& c) { return &c.tls.key_file; }));
}

void addServiceKeys(std::vector<KeySpec>& keys) {
  keys.push_back(
      makeKey("product_service.url", Kind::kUrl, [](Config& c) { return &c.product_service.url; }));
  keys.push_back(makeKey("product_service.timeout_ms", Kind::kInteger,
                         [](Config& c) { return &c.product_service.timeout_ms; },
                         {1, kMaxTimeoutMs}));
  keys.push_back(makeKey("product_service.recheck_interval_ms", Kind::kInteger,
                         [](Config& c) { return &c.product_service.recheck_interval_ms; },
                         {1, kMaxIntervalMs}));
  keys.push_back(makeKey("delivery_service.url", Kind::kUrl,
                         [](Config& c) { return &c.delivery_service.url; }));
  keys.push_back(makeKey("delivery_service.timeout_ms", Kind::kInteger,
                         [](Config& c) { return &c.delivery_service.timeout_ms; },
                         {1, kMaxTimeoutMs}));
  keys.push_back(makeKey("delivery_service.retry.initial_delay_ms", Kind::kInteger,
                         [](Config& c) { return &c.delivery_service.retry.initial_delay_ms; },
                         {1, kMaxIntervalMs}));
  keys.push_back(makeKey("delivery_service.retry.max_delay_ms", Kind::kInteger,
                         [](Config& c) { return &c.delivery_service.retry.max_delay_ms; },
                         {1, kMaxIntervalMs}));
  keys.push_back(makeKey("delivery_service.retry.max_attempts", Kind::kInteger,
                         [](Config& c) { return &c.delivery_service.retry.max_attempts; },
                         {1, kMaxAttempts}));
}

void addEventKeys(std::vector<KeySpec>& keys) {
  keys.push_back(makeKey("events.sns_topic_arn", Kind::kArn,
                         [](Config& c) { return &c.events.sns_topic_arn; }));
  keys.push_back(makeKey("events.sqs_queue_url", Kind::kUrl,
                         [](Config& c) { return &c.events.sqs_queue_url; }));
  keys.push_back(
      makeKey("events.endpoint_url", Kind::kUrl, [](Config& c) { return &c.events.endpoint_url; }));
  keys.push_back(makeKey("events.region", Kind::kText, [](Config& c) { return &c.events.region; }));
  keys.push_back(makeKey("events.poll_interval_ms", Kind::kInteger,
                         [](Config& c) { return &c.events.poll_interval_ms; },
                         {1, kMaxIntervalMs}));
  keys.push_back(makeKey("events.batch_size", Kind::kInteger,
                         [](Config& c) { return &c.events.batch_size; }, {1, kMaxBatchSize}));
  keys.push_back(makeKey("events.max_retries", Kind::kInteger,
                         [](Config& c) { return &c.events.max_retries; }, {0, kMaxAttempts}));
  keys.push_back(makeKey("events.retention_ms", Kind::kInteger,
                         [](Config& c) { return &c.events.retention_ms; }, {1, kMaxAgeMs}));
}

void addJobKeys(std::vector<KeySpec>& keys) {
  keys.push_back(makeKey("reconciliation.interval_ms", Kind::kInteger,
                         [](Config& c) { return &c.reconciliation.interval_ms; },
                         {1, kMaxIntervalMs}));
  keys.push_back(makeKey("reconciliation.stale_after_ms", Kind::kInteger,
                         [](Config& c) { return &c.reconciliation.stale_after_ms; },
                         {1, kMaxAgeMs}));
  keys.push_back(makeKey("checkout.reject_unavailable", Kind::kBool,
                         [](Config& c) { return &c.checkout.reject_unavailable; }));
  keys.push_back(makeKey("alerts.check_interval_ms", Kind::kInteger,
                         [](Config& c) { return &c.alerts.check_interval_ms; },
                         {1, kMaxIntervalMs}));
  keys.push_back(makeKey("alerts.outbox_backlog", Kind::kInteger,
                         [](Config& c) { return &c.alerts.outbox_backlog; }, {0, kMaxBacklog}));
  keys.push_back(makeKey("alerts.manual_review_backlog", Kind::kInteger,
                         [](Config& c) { return &c.alerts.manual_review_backlog; },
                         {0, kMaxBacklog}));
  keys.push_back(
      makeKey("alerts.webhook_url", Kind::kUrl, [](Config& c) { return &c.alerts.webhook_url; }));
  keys.push_back(makeKey("alerts.outbox_max_age_ms", Kind::kInteger,
                         [](Config& c) { return &c.alerts.outbox_max_age_ms; }, {1, kMaxAgeMs}));
  keys.push_back(makeKey("alerts.heartbeat_url", Kind::kUrl,
                         [](Config& c) { return &c.alerts.heartbeat_url; }));
  keys.push_back(makeKey("alerts.heartbeat_interval_ms", Kind::kInteger,
                         [](Config& c) { return &c.alerts.heartbeat_interval_ms; },
                         {kMinHeartbeatIntervalMs, kMaxIntervalMs}));
}

// Every key, once, in --help order; the file, the environment and configKeyNames() all read it.
class KeyTable {
 public:
  KeyTable(const KeyTable&) = delete;  // the indexes point into keys_
  KeyTable& operator=(const KeyTable&) = delete;
  KeyTable() {
    addNodeKeys(keys_);
    addServiceKeys(keys_);
    addEventKeys(keys_);
    addJobKeys(keys_);
    for (const auto& breaker : kBreakerDefaults) addBreakerKeys(keys_, breaker.name);
    for (const auto& key : keys_) index(key);
  }

  const std::vector<KeySpec>& keys() const { return keys_; }
  const KeySpec* byPath(const std::string& path) const { return find(by_path_, path); }
  const KeySpec* byEnvName(const std::string& name) const { return find(by_env_name_, name); }
  bool isGroup(const std::string& path) const { return groups_.count(path) > 0; }

 private:
  void index(const KeySpec& key) {
    by_path_[key.path] = &key;
    by_env_name_[key.env_name] = &key;
    for (auto dot = key.path.find('.'); dot != std::string::npos;
         dot = key.path.find('.', dot + 1)) {
      groups_.insert(key.path.substr(0, dot));
    }
  }

  static const KeySpec* find(const std::map<std::string, const KeySpec*>& map,
                             const std::string& name) {
    auto it = map.find(name);
    return it == map.end() ? nullptr : it->second;
  }

  std::vector<KeySpec> keys_;
  std::map<std::string, const KeySpec*> by_path_;
  std::map<std::string, const KeySpec*> by_env_name_;
  std::set<std::string> groups_;
};

const KeyTable& keyTable() {
  static const KeyTable table;
  return table;
}

// ---- Messages ----

// Control characters from a file key or a value must not break the one-line message.
std::string oneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out;
}

// `via` names the environment variable a bad value came from, if any.
Error configError(const std::string& path, const std::string& detail, const std::string& via = "") {
  std::string where = via.empty() ? path : path + " (from " + via + ")";
  return Error(ErrorKind::kInvalidArgument, "config: " + oneLine(where) + ": " + oneLine(detail),
               {{path, detail}});
}

std::string shorten(std::string text) {
  if (text.size() > kMaxShownChars) text = text.substr(0, kMaxShownChars) + "...";
  return text;
}

std::string shown(const json& value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  return shorten(value.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string shown(const KeySpec& key, const json& value) {
  return key.kind == Kind::kSecret ? "<redacted>" : shown(value);
}

std::string shown(const KeySpec& key, const std::string& text) {
  if (key.kind == Kind::kSecret) return "<redacted>";
  return shorten(json(text).dump(-1, ' ', false, json::error_handler_t::replace));
}

// ---- Validation shared by the file and the environment ----

bool isHostnameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

bool isIpv4(const std::string& text) {
  in_addr address{};
  return inet_pton(AF_INET, text.c_str(), &address) == 1;
}

bool isIpv6(const std::string& text) {
  in6_addr address{};
  return inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

bool isHostname(const std::string& text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), isHostnameChar)) return false;
  // All digits and dots reads as an IPv4 address, so it must be a valid one.
  const bool numeric = std::all_of(text.begin(), text.end(), [](char c) {
    return c == '.' || std::isdigit(static_cast<unsigned char>(c));
  });
  return !numeric || isIpv4(text);
}

std::optional<std::int64_t> parseWholeInteger(std::string_view text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end) return std::nullopt;
  return value;
}

std::optional<int> parsePort(std::string_view text, std::int64_t min) {
  auto port = parseWholeInteger(text);
  if (!port || text.front() == '-' || *port < min || *port > kMaxPort) return std::nullopt;
  return static_cast<int>(*port);
}

// "host:port" or "[v6]:port"; the host is returned without brackets.
std::optional<std::pair<std::string, int>> splitHostPort(const std::string& text,
                                                         std::int64_t min_port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = text.substr(0, colon);
  auto port = parsePort(std::string_view(text).substr(colon + 1), min_port);
  if (!port) return std::nullopt;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (!isIpv6(host)) return std::nullopt;
  } else if (!isHostname(host)) {
    return std::nullopt;
  }
  return std::make_pair(host, *port);
}

std::optional<std::pair<std::string, int>> parseListen(const std::string& text) {
  return splitHostPort(text, 0);
}

bool hasControlOrSpace(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return std::iscntrl(static_cast<unsigned char>(c)) || c == ' ';
  });
}

bool startsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

bool isHttpUrl(const std::string& text) {
  if (hasControlOrSpace(text)) return false;
  std::string_view rest = text;
  if (startsWithIgnoringCase(rest, "http://")) {
    rest.remove_prefix(7);
  } else if (startsWithIgnoringCase(rest, "https://")) {
    rest.remove_prefix(8);
  } else {
    return false;
  }
  std::string authority(rest.substr(0, rest.find_first_of("/?#")));
  if (auto at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  if (splitHostPort(authority, 1)) return true;
  if (authority.size() >= 2 && authority.front() == '[' && authority.back() == ']') {
    return isIpv6(authority.substr(1, authority.size() - 2));
  }
  return isHostname(authority);
}

bool isText(const std::string& text) {
  return !text.empty() && std::none_of(text.begin(), text.end(), [](char c) {
    return std::iscntrl(static_cast<unsigned char>(c));
  });
}

bool isValidString(Kind kind, const std::string& text) {
  switch (kind) {
    case Kind::kUrl:
      return isHttpUrl(text);
    case Kind::kArn:
      return text.rfind("arn:", 0) == 0 && !hasControlOrSpace(text);
    case Kind::kListen:
      return parseListen(text).has_value();
    default:
      return isText(text);
  }
}

enum class Source { kFile, kEnvironment };

std::string expectation(const KeySpec& key, Source source) {
  switch (key.kind) {
    case Kind::kText:
    case Kind::kSecret:
      return "a non-empty string without control characters";
    case Kind::kUrl:
      return "an http:// or https:// URL with a host";
    case Kind::kArn:
      return "an ARN starting with \"arn:\"";
    case Kind::kListen:
      return "host:port, e.g. 127.0.0.1:8080 or [::1]:8080, with a port between 0 and 65535";
    case Kind::kBool:
      return source == Source::kFile ? "true or false" : "true, false, 1 or 0";
    case Kind::kInteger:
      return "an integer between " + std::to_string(key.range.min) + " and " +
             std::to_string(key.range.max);
  }
  return "a valid value";
}

std::optional<Value> checkedString(const KeySpec& key, const std::string& text) {
  if (!isValidString(key.kind, text)) return std::nullopt;
  return Value{text};
}

std::optional<Value> checkedInteger(const KeySpec& key, std::optional<std::int64_t> number) {
  if (!number || *number < key.range.min || *number > key.range.max) return std::nullopt;
  return Value{*number};
}

// ---- The file ----

std::optional<std::int64_t> jsonInteger(const json& value) {
  if (value.is_number_unsigned()) {
    const auto number = value.get<std::uint64_t>();
    if (number > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(number);
  }
  if (value.is_number_integer()) return value.get<std::int64_t>();
  return std::nullopt;
}

std::optional<Value> valueFromJson(const KeySpec& key, const json& value) {
  if (value.is_null()) return key.optional ? std::optional<Value>(Value{}) : std::nullopt;
  switch (key.kind) {
    case Kind::kInteger:
      return checkedInteger(key, jsonInteger(value));
    case Kind::kBool:
      return value.is_boolean() ? std::optional<Value>(value.get<bool>()) : std::nullopt;
    default:
      return value.is_string() ? checkedString(key, value.get<std::string>()) : std::nullopt;
  }
}

// ---- The environment ----

std::optional<bool> parseBool(const std::string& text) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return std::nullopt;
}

std::optional<Value> valueFromText(const KeySpec& key, const std::string& text) {
  switch (key.kind) {
    case Kind::kInteger:
      return checkedInteger(key, parseWholeInteger(text));
    case Kind::kBool: {
      auto flag = parseBool(text);
      return flag ? std::optional<Value>(*flag) : std::nullopt;
    }
    default:
      return checkedString(key, text);
  }
}

// ---- Applying values ----

struct Assign {
  const Value& value;
  void operator()(std::string* field) const { *field = std::get<std::string>(value); }
  void operator()(std::optional<std::string>* field) const {
    if (const auto* text = std::get_if<std::string>(&value)) {
      *field = *text;
    } else {
      field->reset();
    }
  }
  void operator()(std::int64_t* field) const { *field = std::get<std::int64_t>(value); }
  // The key's range keeps the value within int.
  void operator()(int* field) const { *field = static_cast<int>(std::get<std::int64_t>(value)); }
  void operator()(bool* field) const { *field = std::get<bool>(value); }
};

class Loader {
 public:
  explicit Loader(const ConfigSources& sources) : sources_(sources) { applyBuiltInDefaults(); }

  Status loadFile(const std::string& path);
  Status loadText(const std::string& path, const std::string& text);
  Status loadEnvironment();
  Status applyDerivedDefaults();
  Status applyAwsCredentials();
  Status checkConsistency() const;
  Config take() { return std::move(config_); }

 private:
  void applyBuiltInDefaults();
  Status applyJsonObject(const json& object, const std::string& prefix);
  Status applyJsonMember(const std::string& path, const json& value);
  Status applyText(const KeySpec& key, const std::string& text, const std::string& var_name);
  void assign(const KeySpec& key, const Value& value);
  bool given(const std::string& path) const { return given_.count(path) > 0; }
  const std::string* envValue(const std::string& name) const;

  const ConfigSources& sources_;
  Config config_;
  std::set<std::string> given_;  // keys set by the file or the environment
};

void Loader::applyBuiltInDefaults() {
  for (const auto& defaults : kBreakerDefaults) {
    BreakerConfig& breaker = config_.breakers[defaults.name];
    breaker.error_threshold_percentage = defaults.error_threshold_percentage;
    breaker.reset_timeout_ms = defaults.reset_timeout_ms;
    breaker.volume_threshold = defaults.volume_threshold;
  }
}

void Loader::assign(const KeySpec& key, const Value& value) {
  std::visit(Assign{value}, key.field(config_));
  given_.insert(key.path);
}

Status Loader::loadFile(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    return Error::invalidArgument("config: cannot read " + oneLine(path) + ": is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    return Error::invalidArgument("config: cannot read " + oneLine(path) + ": " +
                                  std::error_code(errno, std::generic_category()).message());
  }
  return loadText(path, text.str());
}

Status Loader::loadText(const std::string& path, const std::string& text) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::exception& error) {
    return Error::invalidArgument("config: cannot parse " + oneLine(path) + ": " +
                                  oneLine(error.what()));
  }
  if (!document.is_object()) {
    return configError(path, "must hold a JSON object (got " + shown(document) + ")");
  }
  return applyJsonObject(document, "");
}

Status Loader::applyJsonObject(const json& object, const std::string& prefix) {
  for (const auto& [name, value] : object.items()) {
    const std::string path = prefix.empty() ? name : prefix + "." + name;
    if (name.empty() || name.find('.') != std::string::npos) {
      return configError(path, "unknown key (nest objects instead of dotted names)");
    }
    if (auto status = applyJsonMember(path, value); !status) return status;
  }
  return okStatus();
}

Status Loader::applyJsonMember(const std::string& path, const json& value) {
  if (const KeySpec* key = keyTable().byPath(path)) {
    auto parsed = valueFromJson(*key, value);
    if (!parsed) {
      return configError(path, "must be " + expectation(*key, Source::kFile) + " (got " +
                                   shown(*key, value) + ")");
    }
    assign(*key, *parsed);
    return okStatus();
  }
  if (!keyTable().isGroup(path)) return configError(path, "unknown key");
  if (!value.is_object()) {
    return configError(path, "must be an object (got " + shown(value) + ")");
  }
  return applyJsonObject(value, path);
}

Status Loader::applyText(const KeySpec& key, const std::string& text, const std::string& var_name) {
  auto parsed = valueFromText(key, text);
  if (!parsed) {
    return configError(
        key.path,
        "must be " + expectation(key, Source::kEnvironment) + " (got " + shown(key, text) + ")",
        var_name);
  }
  assign(key, *parsed);
  return okStatus();
}

Status Loader::loadEnvironment() {
  for (const auto& [name, text] : sources_.env) {
    if (name.rfind(kEnvPrefix, 0) != 0) continue;
    const KeySpec* key = keyTable().byEnvName(name);
    if (!key) {
      return Error::invalidArgument("config: unknown environment variable " + oneLine(name) +
                                    " (not a configuration key)");
    }
    if (auto status = applyText(*key, text, name); !status) return status;
  }
  return okStatus();
}

const std::string* Loader::envValue(const std::string& name) const {
  auto it = sources_.env.find(name);
  // The AWS tools treat an empty variable as unset; so do we.
  return it == sources_.env.end() || it->second.empty() ? nullptr : &it->second;
}

Status Loader::applyDerivedDefaults() {
  const std::pair<const char*, const char*> aws_defaults[] = {
      {"events.region", "AWS_REGION"}, {"events.endpoint_url", "AWS_ENDPOINT_URL"}};
  for (const auto& [path, var_name] : aws_defaults) {
    const std::string* text = envValue(var_name);
    if (given(path) || !text) continue;
    if (auto status = applyText(*keyTable().byPath(path), *text, var_name); !status) {
      return status;
    }
  }
  if (auto status = applyAwsCredentials(); !status) return status;
  if (!given("node_id")) {
    config_.node_id = sources_.hostname.empty() ? "outpost" : sources_.hostname;
  }
  for (const auto& defaults : kBreakerDefaults) {
    const std::string prefix = std::string("breakers.") + defaults.name + ".";
    BreakerConfig& breaker = config_.breakers[defaults.name];
    if (!given(prefix + "consecutive_failures")) {
      breaker.consecutive_failures = breaker.volume_threshold;
    }
    if (!given(prefix + "timeout_ms")) breaker.timeout_ms = defaults.timeout_ms(config_);
  }
  auto listen = parseListen(config_.listen);
  config_.listen_host = listen->first;  // validated when the key was read
  config_.listen_port = listen->second;
  return okStatus();
}

Status Loader::applyAwsCredentials() {
  const std::string* key_id = envValue("AWS_ACCESS_KEY_ID");
  const std::string* secret = envValue("AWS_SECRET_ACCESS_KEY");
  if (!key_id && !secret) return okStatus();
  if (!key_id || !secret) {
    // The message names the variables, never their values.
    return Error::invalidArgument(
        std::string("config: ") + (key_id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") +
        " is set but " + (key_id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") +
        " is not; set both or neither");
  }
  const std::string* token = envValue("AWS_SESSION_TOKEN");
  config_.events.credentials = AwsCredentials{*key_id, *secret, token ? *token : ""};
  return okStatus();
}

Status Loader::checkConsistency() const {
  const RetryConfig& retry = config_.delivery_service.retry;
  if (retry.max_delay_ms < retry.initial_delay_ms) {
    return configError("delivery_service.retry.max_delay_ms",
                       "must be at least delivery_service.retry.initial_delay_ms (" +
                           std::to_string(retry.initial_delay_ms) + ") (got " +
                           std::to_string(retry.max_delay_ms) + ")");
  }
  if (config_.tls.cert_file.has_value() != config_.tls.key_file.has_value()) {
    return configError(config_.tls.cert_file ? "tls.key_file" : "tls.cert_file",
                       std::string("must be set with ") +
                           (config_.tls.cert_file ? "tls.cert_file" : "tls.key_file") +
                           " (HTTPS needs both, plain HTTP neither)");
  }
  const bool has_token = config_.api_token.has_value() || config_.admin_token.has_value();
  if (!config_.listensOnLoopback() && !has_token && !config_.allow_unauthenticated) {
    return configError("listen", config_.listen +
                                     " is not a loopback address; set api_token/admin_token or "
                                     "allow_unauthenticated: true");
  }
  return okStatus();
}

}  // namespace

bool Config::listensOnLoopback() const {
  std::string host = listen_host;
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) != 1) return false;
  return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
}

bool Config::sendsTokensInClear() const {
  const bool has_token = api_token || admin_token || metrics_token;
  return has_token && !listensOnLoopback() && !usesTls();
}

Result<Config> loadConfig(const ConfigSources& sources) {
  Loader loader(sources);
  if (sources.file_text) {
    const std::string name = sources.file_path.value_or("the config file");
    if (auto status = loader.loadText(name, *sources.file_text); !status) return status.error();
  } else if (sources.file_path) {
    if (auto status = loader.loadFile(*sources.file_path); !status) return status.error();
  }
  if (auto status = loader.loadEnvironment(); !status) return status.error();
  if (auto status = loader.applyDerivedDefaults(); !status) return status.error();
  if (auto status = loader.checkConsistency(); !status) return status.error();
  return loader.take();
}

std::map<std::string, std::string> processEnvironment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    env.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  return env;
}

std::vector<std::pair<std::string, std::string>> configKeyNames() {
  std::vector<std::pair<std::string, std::string>> names;
  for (const auto& key : keyTable().keys()) names.emplace_back(key.path, key.env_name);
  return names;
}

}  // namespace outpost
