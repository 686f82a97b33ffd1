// Test support for integration tests: a temp directory, a free loopback port, and the
// real outpost binary started as a child process and driven over HTTP.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace outpost::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A port nothing listens on right now (bound and released; tests retry on a clash).
int freeLoopbackPort();

std::string readFile(const std::string& path);

// User + system CPU seconds process `pid` has used so far (/proc/PID/stat); 0 if it is gone.
double cpuSeconds(pid_t pid);
// A memory figure of process `pid` in MiB, from /proc/PID/status: "VmRSS" (resident now)
// or "VmHWM" (the most it was ever resident); 0 if it is gone.
double memoryMiB(pid_t pid, const std::string& field);

// A benchmark's setting from the environment: a positive integer, or `fallback` when unset
// (a test failure, and `fallback`, when it is anything else).
int positiveIntSetting(const char* name, int fallback);
void writeFile(const std::string& path, const std::string& contents);

struct RunResult {
  int exit_status = -1;
  std::string output;  // stdout and stderr together
};

// Runs the outpost binary to completion with exactly `env` as its environment.
RunResult runOutpost(const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env = {});

// As runOutpost, run as user `uid` and group `gid` with no supplementary groups (the
// caller must be root), e.g. to see the files as a user other than their owner does.
RunResult runOutpostAs(uid_t uid, gid_t gid, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env = {});

struct NodeOptions {
  std::map<std::string, std::string> env;  // OUTPOST_* settings; LISTEN and DATABASE are set
  std::string database;                    // defaults to <dir>/outpost.db
};

class NodeProcess {
 public:
  // Starts `outpost serve` in `dir` and waits until /livez answers. Fails the test (and
  // returns nullptr) if it does not within 15 s.
  static std::unique_ptr<NodeProcess> start(const TempDir& dir, NodeOptions options = {});
  ~NodeProcess();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& database() const { return database_; }
  // HTTPS, trusting the node's own certificate, when OUTPOST_TLS_CERT_FILE was set.
  std::unique_ptr<httplib::Client> client() const;
  std::string logs() const;

  // SIGKILL: the process gets no chance to clean up.
  void killHard();
  // SIGTERM, then waits up to `limit` for the exit; returns the exit status or -1.
  int terminate(std::chrono::milliseconds limit = std::chrono::seconds(10));
  // Whether the process is still alive (reaps it if it has exited).
  bool running();

 private:
  NodeProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string database_;
  std::string log_path_;
  std::string ca_file_;  // empty: plain HTTP
};

}  // namespace outpost::testing
