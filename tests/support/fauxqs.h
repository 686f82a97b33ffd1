// Test support: fauxqs, an SNS/SQS emulator (npm package, installed under node_modules/ by
// `bash scripts/install-deps.sh --with-test-peers`), run as a child process on a free
// loopback port with its state in memory. A test that needs it fails when it is missing;
// it never skips (SPEC §9).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/node_process.h"

namespace outpost::testing {

class Fauxqs {
 public:
  // Starts fauxqs (node_modules/, installed by `scripts/install-deps.sh --with-test-peers`)
  // through tests/support/fauxqs_loopback.mjs, bound to 127.0.0.1, from the repository
  // root with FAUXQS_PORT set and, when `init_json` is given, FAUXQS_INIT pointing at a copy
  // of it in `dir` (queues, topics, subscriptions created at start-up). Output goes to
  // `dir`/fauxqs.log. Waits up to 20 s for GET /health. Fails the test (ADD_FAILURE, with
  // the log) and returns nullptr if node or fauxqs is missing or it does not come up.
  static std::unique_ptr<Fauxqs> start(const TempDir& dir, const std::string& init_json = "");
  ~Fauxqs();
  Fauxqs(const Fauxqs&) = delete;
  Fauxqs& operator=(const Fauxqs&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }  // -1 while stopped
  std::string endpoint() const;       // "http://127.0.0.1:PORT"
  std::string logs() const;

  // SIGTERM (then SIGKILL after 5 s); connections are refused afterwards and every queue,
  // topic and message is gone (fauxqs keeps state in memory).
  void stop();
  // Starts it again on the same port with the same init file; false (and a test failure)
  // if it does not come up.
  bool restart();

  // The fault for SQS sends from now on (fauxqs_loopback.mjs): "none", "drop" (closed
  // unanswered), "hang" (held until the fault changes) or "server-error" (500). Receives
  // and other calls are never affected. Adds a test failure if fauxqs does not take it.
  void setSendFault(const std::string& fault);

  // SQS JSON protocol, unsigned (fauxqs does not check signatures). Each adds a test
  // failure when fauxqs answers with an error.
  std::string queueUrl(const std::string& queue_name);     // GetQueueUrl; "" on error
  std::string createQueue(const std::string& queue_name);  // CreateQueue; its URL
  // ReceiveMessage with all message attributes and system attributes, then deletes what
  // arrived. Each message is the JSON object SQS returns (MessageId, Body,
  // MessageAttributes, Attributes, ...).
  std::vector<nlohmann::json> receive(const std::string& queue_url, int max_messages = 10,
                                      int wait_seconds = 1);
  // Receives until `count` messages arrived or `limit` passed; returns all it got.
  std::vector<nlohmann::json> receiveAtLeast(const std::string& queue_url, std::size_t count,
                                             std::chrono::milliseconds limit);

 private:
  enum class Launch { kUp, kExited, kTimedOut };
  Fauxqs() = default;
  // Spawns fauxqs on port_ and waits for /health; reports a timeout always and an early
  // exit only when `report_exit`.
  Launch launch(bool report_exit);
  nlohmann::json sqs(const std::string& action, const nlohmann::json& body,
                     int read_timeout_seconds = 10);

  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
  std::string init_path_;  // empty: no init file
};

}  // namespace outpost::testing
