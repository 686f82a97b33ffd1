#include "app/doctor.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <future>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "app/doctor_checks.h"
#include "app/node_address.h"
#include "clients/delivery_client.h"
#include "clients/event_destinations.h"
#include "clients/http_client.h"
#include "clients/product_client.h"
#include "outpost/clock.h"
#include "store/file_probe.h"
#include "store/migrations.h"

namespace outpost::app {
namespace {

using doctor::Check;
using doctor::Verdict;

// Each dependency gets this long at most (its own timeout when smaller), all at once, so a
// box with everything down answers within a few seconds.
constexpr std::int64_t kDependencyLimitMs = 3000;

std::int64_t limited(std::int64_t timeout_ms) { return std::min(kDependencyLimitMs, timeout_ms); }

// A describe call's answer and our wall clock when it came, for the clock check.
struct EventProbe {
  clients::DescribeOutcome outcome;
  std::int64_t local_millis = 0;
};

// nullptr: no such destination configured.
std::optional<EventProbe> describe(clients::AwsDestination* destination, const Clock& clock) {
  if (destination == nullptr) return std::nullopt;
  auto outcome = destination->describe();
  return EventProbe{std::move(outcome), clock.wallMillis()};
}

// The first answer that carried a Date (SNS before SQS); nullopt without a destination.
std::optional<doctor::ClockReading> clockReading(const std::optional<EventProbe>& sns,
                                                 const std::optional<EventProbe>& sqs) {
  std::optional<doctor::ClockReading> reading;
  for (const auto& [service, probe] : {std::pair{"SNS", &sns}, std::pair{"SQS", &sqs}}) {
    if (!*probe) continue;
    const auto service_millis = clients::parseHttpDate((*probe)->outcome.date);
    if (service_millis)
      return doctor::ClockReading{service, service_millis, (*probe)->local_millis};
    if (!reading) reading = doctor::ClockReading{service, std::nullopt, (*probe)->local_millis};
  }
  return reading;
}

// Binds host:port as the node would (SO_REUSEADDR) and lets go at once: 0, or the errno.
int bindErrno(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) {
    return EADDRNOTAVAIL;
  }
  int error = 0;
  const int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  const int on = 1;
  if (fd < 0) {
    error = errno;
  } else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
             bind(fd, found->ai_addr, found->ai_addrlen) != 0) {
    error = errno;
  }
  if (fd >= 0) close(fd);
  freeaddrinfo(found);
  return error;
}

doctor::ListenReading probeListen(const Config& config, clients::HttpClient& http) {
  doctor::ListenReading reading;
  if (config.listen_port == 0) return reading;
  clients::HttpRequest request;
  // Plain HTTP even with TLS: the node answers it 400 "this port takes HTTPS only".
  request.url = "http://" + nodeAddress(config).shown + "/livez";
  request.timeout_ms = kDependencyLimitMs;
  reading.livez = http.send(request);
  if (reading.livez.status == 0)
    reading.bind_errno = bindErrno(config.listen_host, config.listen_port);
  return reading;
}

clients::HttpResponse probeProduct(const Config& config, clients::HttpClient& http) {
  if (!config.product_service.url) return {};
  return clients::ProductClient(http, *config.product_service.url,
                                limited(config.product_service.timeout_ms))
      .probe();
}

clients::HttpResponse probeDelivery(const Config& config, clients::HttpClient& http) {
  if (!config.delivery_service.url) return {};
  return clients::DeliveryClient(http, *config.delivery_service.url,
                                 limited(config.delivery_service.timeout_ms))
      .probe();
}

// The local checks, here; every dependency on its own thread at once.
std::vector<Check> runChecks(const Config& config) {
  clients::CurlHttpClient http;
  const SystemClock clock;
  const clients::AwsTarget target{config.events.region, config.events.endpoint_url,
                                  config.events.credentials,
                                  limited(config.breakers.at("events").timeout_ms), nullptr};
  std::optional<clients::SnsTopic> topic;
  std::optional<clients::SqsQueue> queue;
  if (config.events.sns_topic_arn) topic.emplace(http, target, *config.events.sns_topic_arn);
  if (config.events.sqs_queue_url) queue.emplace(http, target, *config.events.sqs_queue_url);
  const auto destination = [](auto& optional) -> clients::AwsDestination* {
    return optional ? &*optional : nullptr;
  };

  auto listen = std::async(std::launch::async, [&] { return probeListen(config, http); });
  auto product = std::async(std::launch::async, [&] { return probeProduct(config, http); });
  auto delivery = std::async(std::launch::async, [&] { return probeDelivery(config, http); });
  auto sns = std::async(std::launch::async, [&] { return describe(destination(topic), clock); });
  auto sqs = std::async(std::launch::async, [&] { return describe(destination(queue), clock); });

  const std::string directory = store::directoryOf(config.database);
  const auto file = store::readDatabaseFile(config.database);
  std::vector<Check> checks;
  checks.push_back(doctor::checkConfig(config));
  checks.push_back(doctor::checkDatabase(config.database, file,
                                         store::writableByThisUser(directory),
                                         store::latestSchemaVersion(store::embeddedMigrations())));
  checks.push_back(
      doctor::checkDisk(directory, store::freeBytes(directory), config.storage.min_free_bytes));
  std::optional<store::LockProbe> locks;
  if (file.exists) locks = store::probeLocks(config.database);
  checks.push_back(doctor::checkFilesystem(directory, store::filesystemType(directory), locks));

  checks.push_back(doctor::checkListen(config, listen.get()));
  checks.push_back(
      doctor::checkService("product-service", config.product_service.url, product.get()));
  checks.push_back(
      doctor::checkService("delivery-service", config.delivery_service.url, delivery.get()));
  const auto sns_probe = sns.get();
  const auto sqs_probe = sqs.get();
  const bool aws_would_refuse = !config.events.credentials && !config.events.endpoint_url;
  checks.push_back(doctor::checkEventDestination(
      "sns", config.events.sns_topic_arn,
      sns_probe ? sns_probe->outcome : clients::DescribeOutcome{}, aws_would_refuse));
  checks.push_back(doctor::checkEventDestination(
      "sqs", config.events.sqs_queue_url,
      sqs_probe ? sqs_probe->outcome : clients::DescribeOutcome{}, aws_would_refuse));
  checks.push_back(doctor::checkClock(clockReading(sns_probe, sqs_probe)));
  return checks;
}

void printText(const std::vector<Check>& checks) {
  int failed = 0;
  int warnings = 0;
  for (const auto& check : checks) {
    failed += check.verdict == Verdict::kFail ? 1 : 0;
    warnings += check.verdict == Verdict::kWarn ? 1 : 0;
    std::printf("%-4s %s: %s\n", doctor::toString(check.verdict), check.name.c_str(),
                check.detail.c_str());
  }
  std::printf("doctor: %zu check%s, %d failed, %d warning%s\n", checks.size(),
              checks.size() == 1 ? "" : "s", failed, warnings, warnings == 1 ? "" : "s");
}

void printJson(const std::vector<Check>& checks, bool ok) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& check : checks) {
    list.push_back({{"name", check.name},
                    {"status", doctor::toString(check.verdict)},
                    {"detail", check.detail}});
  }
  const nlohmann::ordered_json document = {{"checks", list}, {"ok", ok}};
  std::printf(
      "%s\n",
      document.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
}

}  // namespace

int runDoctorCommand(const Result<Config>& config,
                     const std::map<std::string, std::string>& options) {
  // A configuration that does not load is reported as the one failing check, so that --json
  // still prints a document; the other checks need the configuration, and the exit status
  // is 2, as for every command given a bad configuration.
  const std::vector<Check> checks =
      config ? runChecks(*config)
             : std::vector<Check>{doctor::configFailure(config.error().message)};
  const bool ok = std::none_of(checks.begin(), checks.end(),
                               [](const Check& check) { return check.verdict == Verdict::kFail; });
  if (options.contains("--json")) {
    printJson(checks, ok);
  } else {
    printText(checks);
  }
  if (!config) return 2;
  return ok ? 0 : 1;
}

}  // namespace outpost::app
