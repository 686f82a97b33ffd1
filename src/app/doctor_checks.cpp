#include "app/doctor_checks.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "store/migrations.h"

namespace outpost::app::doctor {
namespace {

Check ok(std::string name, std::string detail) {
  return {std::move(name), Verdict::kOk, std::move(detail)};
}
Check warn(std::string name, std::string detail) {
  return {std::move(name), Verdict::kWarn, std::move(detail)};
}
Check fail(std::string name, std::string detail) {
  return {std::move(name), Verdict::kFail, std::move(detail)};
}

std::string joined(const std::vector<std::string>& parts, const char* separator) {
  std::string text;
  for (const auto& part : parts) text += (text.empty() ? "" : separator) + part;
  return text;
}

std::string hex(std::int64_t value) {
  char text[32];
  std::snprintf(text, sizeof text, "0x%" PRIx64, static_cast<std::uint64_t>(value));
  return text;
}

// A 1xx or 3xx comes from something in front of the service (a proxy, a captive portal),
// and the node takes it as no answer (clients/http_client.h).
bool fromSomethingInFront(int status) { return status < 200 || (status >= 300 && status < 400); }

}  // namespace

const char* toString(Verdict verdict) {
  switch (verdict) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kWarn:
      return "warn";
    case Verdict::kFail:
      return "fail";
  }
  return "fail";
}

std::string formatBytes(std::uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0 || value >= 100 ||
      value == static_cast<double>(static_cast<std::uint64_t>(value))) {
    std::snprintf(text, sizeof text, "%.0f %s", value, kUnits[unit]);
  } else {
    std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  }
  return text;
}

std::string formatDuration(std::int64_t millis) {
  const std::int64_t seconds = std::llabs(millis) / 1000;
  const std::int64_t minutes = seconds / 60;
  const std::int64_t hours = minutes / 60;
  const std::int64_t days = hours / 24;
  if (days > 0) return std::to_string(days) + "d " + std::to_string(hours % 24) + "h";
  if (hours > 0) return std::to_string(hours) + "h " + std::to_string(minutes % 60) + "m";
  if (minutes > 0) return std::to_string(minutes) + "m " + std::to_string(seconds % 60) + "s";
  return std::to_string(seconds) + "s";
}

Check checkConfig(const Config& config) {
  std::vector<std::string> notes;
  if (!config.events.sns_topic_arn && !config.events.sqs_queue_url) {
    notes.push_back(
        "no events destination (events.sns_topic_arn, events.sqs_queue_url): offline mode, "
        "events wait in the outbox");
  }
  if (!config.product_service.url) {
    notes.push_back("no product_service.url: orders skip the availability check");
  }
  if (!config.delivery_service.url) {
    notes.push_back("no delivery_service.url: delivery initiations wait");
  }
  if (config.sendsTokensInClear()) {
    notes.push_back("tokens travel in clear: " + config.listen +
                    " is not loopback and TLS is off (tls.cert_file, tls.key_file)");
  }
  if (!config.listensOnLoopback() && !config.api_token && !config.admin_token) {
    notes.push_back("anyone who reaches " + config.listen +
                    " can take orders (allow_unauthenticated, no tokens)");
  }
  if (notes.empty()) return ok("config", "loaded; node " + config.node_id);
  return warn("config", joined(notes, "; "));
}

Check configFailure(const std::string& message) { return fail("config", message); }

Check checkDatabase(const std::string& path, const store::DatabaseFileReading& reading,
                    bool directory_writable, int latest) {
  const std::string name = "database";
  if (!reading.exists) {
    if (directory_writable) return ok(name, path + ": no file yet; created at first start");
    return fail(name, "no file at " + path + ", and " + store::directoryOf(path) +
                          " is missing or not writable by this user: the node cannot create it");
  }
  if (!reading.error.empty()) return fail(name, path + ": cannot be read: " + reading.error);
  if (reading.quick_check != "ok") {
    return fail(name, path + ": PRAGMA quick_check: " + reading.quick_check);
  }
  const auto mismatch = store::schemaMismatch(reading.schema_version, latest);
  if (reading.schema_version > latest) return fail(name, path + ": " + *mismatch);
  if (!reading.unwritable.empty()) {
    return fail(name, path + ": not writable by this user: " + joined(reading.unwritable, ", ") +
                          " (the node writes the file, its -wal and -shm, in its directory)");
  }
  std::vector<std::string> notes;
  // An older file is no failure: serve migrates it at start.
  if (mismatch) notes.push_back(*mismatch);
  if (reading.wal_not_read) {
    notes.push_back("a -wal file without its -shm: read without it; the node recovers it");
  }
  if (!notes.empty()) return warn(name, path + ": " + joined(notes, "; "));
  return ok(name, path + ": schema version " + std::to_string(reading.schema_version) +
                      ", quick_check ok, writable");
}

Check checkDisk(const std::string& directory, const Result<std::uint64_t>& free_bytes,
                std::int64_t floor) {
  const std::string name = "disk";
  if (!free_bytes) return fail(name, "cannot read free space: " + free_bytes.error().message);
  const std::string free = formatBytes(*free_bytes) + " free on " + directory;
  if (floor == 0) return ok(name, free + " (storage.min_free_bytes is 0: no floor)");
  const auto floor_bytes = static_cast<std::uint64_t>(floor);
  const std::string floor_text = "storage.min_free_bytes (" + formatBytes(floor_bytes) + ")";
  if (*free_bytes < floor_bytes) return fail(name, free + ", below " + floor_text);
  if (*free_bytes < 2 * floor_bytes) return warn(name, free + ", within twice " + floor_text);
  return ok(name, free + ", floor " + formatBytes(floor_bytes));
}

Check checkFilesystem(const std::string& directory, const Result<std::int64_t>& statfs_type,
                      const std::optional<store::LockProbe>& locks) {
  const std::string name = "filesystem";
  if (!statfs_type) return fail(name, statfs_type.error().message);
  const store::FilesystemClass kind = store::classifyFilesystem(*statfs_type);
  switch (kind.kind) {
    case store::FilesystemKind::kNetwork:
      return fail(name, directory + " is on " + kind.name +
                            ", a network filesystem: SQLite's WAL locking is not safe there; "
                            "keep the database on a local disk");
    case store::FilesystemKind::kLocal:
    case store::FilesystemKind::kMaybeNetwork:
    case store::FilesystemKind::kVolatile:
      break;
  }
  if (locks && !locks->works)
    return fail(name, "locks do not work on " + directory + ": " + locks->error);
  std::string detail = directory + ": " + (kind.name.empty() ? "local" : kind.name) +
                       " filesystem (type " + hex(*statfs_type) + ")";
  if (!locks) {
    detail += ", no file yet to probe locks on";
  } else if (locks->holder != 0) {
    detail +=
        ", locks work (process " + std::to_string(locks->holder) + " holds one: a node is running)";
  } else {
    detail += ", locks work";
  }
  if (kind.kind == store::FilesystemKind::kMaybeNetwork) {
    return warn(name, detail +
                          "; FUSE: fine if it is local, not if it is sshfs or another "
                          "network mount");
  }
  if (kind.kind == store::FilesystemKind::kVolatile) {
    return warn(name, detail + "; the database is lost at reboot");
  }
  return ok(name, detail);
}

Check checkClock(const std::optional<ClockReading>& reading) {
  const std::string name = "clock";
  if (!reading) return ok(name, "not checked: no events destination to compare with");
  if (!reading->service_millis) {
    return warn(name, "could not be checked: no Date from " + reading->service);
  }
  const std::int64_t skew = reading->local_millis - *reading->service_millis;
  const std::string offset = "the clock is " + formatDuration(skew) +
                             (skew >= 0 ? " ahead of " : " behind ") + reading->service;
  if (std::llabs(skew) > kMaxClockSkewMs) {
    return warn(name, offset + ": AWS refuses requests signed more than 5 min off");
  }
  return ok(name, offset);
}

Check checkService(const std::string& name, const std::optional<std::string>& url,
                   const clients::HttpResponse& probe) {
  if (!url) return ok(name, "not configured");
  if (probe.status == 0) return fail(name, *url + ": no answer: " + probe.error);
  const std::string answered = *url + " answered HTTP " + std::to_string(probe.status);
  if (probe.status >= 500) return fail(name, answered + ": the node counts that as down");
  if (fromSomethingInFront(probe.status)) {
    return fail(name, answered +
                          ": something in front of the service (a proxy, a captive portal?); "
                          "the node takes it as no answer");
  }
  return ok(name, answered + ": reachable");
}

Check checkEventDestination(const std::string& name, const std::optional<std::string>& address,
                            const clients::DescribeOutcome& outcome, bool aws_would_refuse) {
  if (!address) return ok(name, "not configured");
  if (outcome.http_status == 0) return fail(name, *address + ": no answer: " + outcome.error);
  if (aws_would_refuse) {
    return warn(name, *address +
                          ": no AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and "
                          "no events.endpoint_url: AWS refuses unsigned requests" +
                          (outcome.error.empty() ? "" : " (" + outcome.error + ")"));
  }
  if (outcome.call_class == clients::CallClass::kSuccess) {
    return ok(name, *address + ": reachable, the signed describe call was accepted");
  }
  if (outcome.call_class == clients::CallClass::kPermanent) {
    return fail(name, *address + ": " + outcome.error +
                          ": refused for good; events sent there would end FAILED");
  }
  return fail(name, *address + ": " + outcome.error +
                        ": the relay would keep the events PENDING and retry");
}

Check checkListen(const Config& config, const ListenReading& reading) {
  const std::string name = "listen";
  if (config.listen_port == 0) return ok(name, config.listen + ": a free port is picked at start");
  const auto& livez = reading.livez;
  if (livez.status == 200 && livez.body.find(R"("status":"ok")") != std::string::npos) {
    return ok(name, "a node is already running on " + config.listen);
  }
  if (livez.status == 400 && livez.body.find("takes HTTPS only") != std::string::npos) {
    return ok(name, "a node is already running on " + config.listen + " (HTTPS)");
  }
  if (livez.status != 0) {
    return fail(name, "port taken by another program: " + config.listen +
                          " answered GET /livez with HTTP " + std::to_string(livez.status));
  }
  switch (reading.bind_errno) {
    case 0:
      return ok(name, config.listen + ": port free");
    case EADDRINUSE:
      return fail(name, "port taken by another program: " + config.listen +
                            " is in use and does not answer HTTP (" + livez.error + ")");
    case EADDRNOTAVAIL:
      return fail(name,
                  config.listen + ": " + config.listen_host + " is not an address of this machine");
    default:
      return fail(name, config.listen + ": cannot bind: " + std::strerror(reading.bind_errno));
  }
}

}  // namespace outpost::app::doctor
