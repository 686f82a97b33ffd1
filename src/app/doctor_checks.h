// The checks of `outpost doctor`, each one function from what was read (a file, a
// filesystem, an answer) to a verdict, so each is tested with made-up readings. None of
// them reads or changes anything itself; app/doctor.cpp gathers the readings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "clients/event_destinations.h"
#include "clients/http_client.h"
#include "outpost/config.h"
#include "outpost/result.h"
#include "store/file_probe.h"

namespace outpost::app::doctor {

enum class Verdict { kOk, kWarn, kFail };

const char* toString(Verdict verdict);  // "ok", "warn", "fail"

struct Check {
  std::string name;
  Verdict verdict = Verdict::kOk;
  std::string detail;
};

// Skew past this is a warning: AWS refuses a signature more than 5 min off (SPEC §11).
inline constexpr std::int64_t kMaxClockSkewMs = 5 * 60 * 1000;

// The configuration loaded: what a shop wants to know about it (offline mode, services
// not configured, tokens in clear on the network).
Check checkConfig(const Config& config);
// It did not load: `message` is loadConfig's one line.
Check configFailure(const std::string& message);

// The database file at `path` as store::readDatabaseFile read it (`directory_writable`
// matters when there is no file yet); `latest` is this binary's schema version.
Check checkDatabase(const std::string& path, const store::DatabaseFileReading& reading,
                    bool directory_writable, int latest);

// Free space of the database's filesystem against storage.min_free_bytes (`floor`; 0 =
// off): below the floor fails, below twice the floor warns.
Check checkDisk(const std::string& directory, const Result<std::uint64_t>& free_bytes,
                std::int64_t floor);

// The database's filesystem: a network filesystem fails (SQLite's WAL locks are not safe
// there), FUSE and tmpfs warn; `locks` is nullopt when there is no file to probe yet.
Check checkFilesystem(const std::string& directory, const Result<std::int64_t>& statfs_type,
                      const std::optional<store::LockProbe>& locks);

// The clock against an events endpoint's Date header.
struct ClockReading {
  std::string service;                         // "SNS", "SQS"
  std::optional<std::int64_t> service_millis;  // the parsed Date header, if the answer had one
  std::int64_t local_millis = 0;               // our wall clock when the answer came
};
// `reading` is nullopt when no events destination is configured.
Check checkClock(const std::optional<ClockReading>& reading);

// Product or delivery service: `url` unset is "not configured"; otherwise `probe` is the
// answer to a cheap GET.
Check checkService(const std::string& name, const std::optional<std::string>& url,
                   const clients::HttpResponse& probe);

// An SNS topic or SQS queue: `address` unset is "not configured"; otherwise `outcome` is
// the answer to its describe call. `aws_would_refuse`: no credentials and no endpoint
// override, so the requests go unsigned to AWS itself.
Check checkEventDestination(const std::string& name, const std::optional<std::string>& address,
                            const clients::DescribeOutcome& outcome, bool aws_would_refuse);

// What is at `listen`: the answer to GET /livez there and, when no HTTP came back, the
// errno of binding the address and port (with SO_REUSEADDR, as the node binds; 0: bound).
struct ListenReading {
  clients::HttpResponse livez;
  int bind_errno = 0;
};
Check checkListen(const Config& config, const ListenReading& reading);

// "1.5 GiB", "100 MiB", "512 B".
std::string formatBytes(std::uint64_t bytes);
// "2h 0m", "5m 1s", "3d 4h", "12s".
std::string formatDuration(std::int64_t millis);

}  // namespace outpost::app::doctor
