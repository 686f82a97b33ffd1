// `outpost doctor`: what an operator runs before opening (SPEC §10). Reads the
// configuration, the database file, its filesystem, the dependencies and the listening
// port, changes none of them, and prints one line per check.
#pragma once

#include <map>
#include <string>

#include "outpost/config.h"
#include "outpost/result.h"

namespace outpost::app {

inline constexpr const char* kDoctorHelp = R"(Usage: outpost doctor [--json] [--config FILE]

Checks what a node needs before it opens, changing nothing (no file is created, not even
the database; nothing is sent but read-only calls), and prints one line per check:
"ok|warn|fail NAME: detail", then a summary.
  config            the configuration loads; warns on offline mode (no events
                    destination), a service not configured, tokens in clear on the network
  database          the file opens read-only, PRAGMA quick_check, its schema version
                    (older: warn, the node migrates it at start; newer: fail), writable by
                    this user (the file, its -wal/-shm and its directory)
  disk              free space against storage.min_free_bytes (default 100 MiB, 0 = off):
                    below it fails, within twice it warns
  filesystem        local (NFS, SMB/CIFS, AFS, Ceph, 9p fail; FUSE and tmpfs warn) and
                    POSIX locks work
  listen            whether the listen port is free, an outpost already runs there, or
                    another program holds it
  product-service   reachable (a GET; any answer below 500), or not configured
  delivery-service  the same
  sns, sqs          a signed describe call (GetTopicAttributes, GetQueueAttributes) proves
                    the destination and the credentials, or not configured
  clock             against the Date of the SNS/SQS answer: over 5 min off warns
Each dependency gets at most 3 s (less when its timeout is smaller), all at once.
--json prints {"checks": [{"name", "status", "detail"}], "ok": bool}.
Exit status: 0 nothing failed (warnings allowed), 1 a check failed, 2 bad usage or a
configuration that does not load (then the config check is the only one).
)";

// `config` as loadConfig returned it: an error is reported as the failing config check.
// `options` are those cli.cpp lets through: --json.
int runDoctorCommand(const Result<Config>& config,
                     const std::map<std::string, std::string>& options);

}  // namespace outpost::app
