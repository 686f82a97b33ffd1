#include "support/fauxqs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <thread>

namespace outpost::testing {
namespace {

// This file is tests/support/fauxqs.cpp; the repository root is two folders up.
std::filesystem::path repoRoot() {
  return std::filesystem::weakly_canonical(
      std::filesystem::absolute(std::filesystem::path(__FILE__)).parent_path() / ".." / "..");
}

std::filesystem::path nodeBinary() { return repoRoot() / "node_modules" / ".bin" / "node"; }
std::filesystem::path fauxqsPackage() {
  return repoRoot() / "node_modules" / "fauxqs" / "dist" / "app.js";
}
// Our launcher: fauxqs bound to 127.0.0.1 only (its own CLI listens on 0.0.0.0).
std::filesystem::path fauxqsLauncher() {
  return repoRoot() / "tests" / "support" / "fauxqs_loopback.mjs";
}

std::vector<char*> cStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

pid_t spawnFauxqs(const std::map<std::string, std::string>& env, const std::string& log_path) {
  std::vector<std::string> argv = {nodeBinary().string(), fauxqsLauncher().string()};
  std::vector<std::string> envp = {"PATH=/usr/bin:/bin"};
  for (const auto& [name, value] : env) envp.push_back(name + "=" + value);
  const std::string root = repoRoot().string();
  auto c_argv = cStrings(argv);
  auto c_envp = cStrings(envp);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // Dies with the test process, so a crashed test leaves no emulator behind.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    if (chdir(root.c_str()) != 0) _exit(126);
    execve(c_argv[0], c_argv.data(), c_envp.data());
    _exit(127);
  }
  return pid;
}

// True once `pid` has exited (and is reaped).
bool exited(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, WNOHANG) == pid;
}

std::unique_ptr<httplib::Client> clientFor(int port, int read_timeout_seconds) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", port);
  client->set_connection_timeout(std::chrono::seconds(2));
  client->set_read_timeout(std::chrono::seconds(read_timeout_seconds));
  return client;
}

}  // namespace

std::unique_ptr<Fauxqs> Fauxqs::start(const TempDir& dir, const std::string& init_json) {
  for (const auto& file : {nodeBinary(), fauxqsPackage(), fauxqsLauncher()}) {
    if (!std::filesystem::exists(file)) {
      ADD_FAILURE() << "fauxqs is not installed: " << file.string()
                    << " is missing; run `bash scripts/install-deps.sh --with-test-peers`";
      return nullptr;
    }
  }
  std::unique_ptr<Fauxqs> fauxqs(new Fauxqs());
  fauxqs->log_path_ = dir.file("fauxqs.log");
  if (!init_json.empty()) {
    fauxqs->init_path_ = dir.file("fauxqs-init.json");
    writeFile(fauxqs->init_path_, init_json);
  }
  // A port picked free can be taken before fauxqs binds it; try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    fauxqs->port_ = freeLoopbackPort();
    const Launch launched = fauxqs->launch(attempt == 4);
    if (launched == Launch::kUp) return fauxqs;
    if (launched == Launch::kTimedOut) return nullptr;  // reported; another port won't help
  }
  return nullptr;
}

Fauxqs::Launch Fauxqs::launch(bool report_exit) {
  std::map<std::string, std::string> env = {
      {"FAUXQS_PORT", std::to_string(port_)},
      {"FAUXQS_LOGGER", "false"},
  };
  // FAUXQS_HOST is left unset: it only replaces "localhost" in queue URLs of the form
  // http://sqs.<region>.localhost:PORT/000000000000/<name>, and 127.0.0.1 there would give
  // an unresolvable name. fauxqs finds queues by region and name whatever the host, so
  // requests go to endpoint(). Note: fauxqs listens on 0.0.0.0 (hard-coded).
  if (!init_path_.empty()) env["FAUXQS_INIT"] = init_path_;
  pid_ = spawnFauxqs(env, log_path_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (exited(pid_)) {
      pid_ = -1;
      if (report_exit) {
        ADD_FAILURE() << "fauxqs exited during start-up on port " << port_ << "; log:\n" << logs();
      }
      return Launch::kExited;
    }
    auto client = clientFor(port_, 2);
    if (auto response = client->Get("/health"); response && response->status == 200)
      return Launch::kUp;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling readiness
  }
  ADD_FAILURE() << "fauxqs did not answer GET /health on port " << port_ << " within 20 s; log:\n"
                << logs();
  stop();
  return Launch::kTimedOut;
}

Fauxqs::~Fauxqs() { stop(); }

std::string Fauxqs::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string Fauxqs::logs() const { return readFile(log_path_); }

void Fauxqs::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!exited(pid_)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a child's exit
  }
  pid_ = -1;
}

bool Fauxqs::restart() {
  stop();
  return launch(true) == Launch::kUp;
}

nlohmann::json Fauxqs::sqs(const std::string& action, const nlohmann::json& body,
                           int read_timeout_seconds) {
  auto client = clientFor(port_, read_timeout_seconds);
  httplib::Headers headers = {{"X-Amz-Target", "AmazonSQS." + action}};
  auto response = client->Post("/", headers, body.dump(), "application/x-amz-json-1.0");
  if (!response) {
    ADD_FAILURE() << "fauxqs " << action << ": " << httplib::to_string(response.error());
    return nullptr;
  }
  if (response->status != 200) {
    ADD_FAILURE() << "fauxqs " << action << " answered " << response->status << ": "
                  << response->body;
    return nullptr;
  }
  auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (json.is_discarded()) {
    ADD_FAILURE() << "fauxqs " << action << " answered no JSON: " << response->body;
    return nullptr;
  }
  return json;
}

void Fauxqs::setSendFault(const std::string& fault) {
  auto response = clientFor(port_, 5)->Post("/__outpost/fault/" + fault);
  if (!response || response->status != 204) {
    ADD_FAILURE() << "fauxqs did not take the send fault " << fault << ": "
                  << (response ? std::to_string(response->status) + " " + response->body
                               : httplib::to_string(response.error()));
  }
}

std::string Fauxqs::queueUrl(const std::string& queue_name) {
  auto answer = sqs("GetQueueUrl", {{"QueueName", queue_name}});
  if (!answer.is_object() || !answer.contains("QueueUrl")) return "";
  return answer["QueueUrl"].get<std::string>();
}

std::string Fauxqs::createQueue(const std::string& queue_name) {
  auto answer = sqs("CreateQueue", {{"QueueName", queue_name}});
  if (!answer.is_object() || !answer.contains("QueueUrl")) return "";
  return answer["QueueUrl"].get<std::string>();
}

std::vector<nlohmann::json> Fauxqs::receive(const std::string& queue_url, int max_messages,
                                            int wait_seconds) {
  std::vector<nlohmann::json> out;
  auto answer = sqs("ReceiveMessage",
                    {{"QueueUrl", queue_url},
                     {"MaxNumberOfMessages", std::clamp(max_messages, 1, 10)},
                     {"WaitTimeSeconds", std::clamp(wait_seconds, 0, 20)},
                     {"MessageAttributeNames", {"All"}},
                     {"AttributeNames", {"All"}},
                     {"MessageSystemAttributeNames", {"All"}}},
                    wait_seconds + 10);
  if (!answer.is_object() || !answer.contains("Messages")) return out;
  nlohmann::json entries = nlohmann::json::array();
  for (auto& message : answer["Messages"]) {
    entries.push_back({{"Id", std::to_string(entries.size())},
                       {"ReceiptHandle", message.value("ReceiptHandle", "")}});
    out.push_back(std::move(message));
  }
  if (!entries.empty()) {
    auto deleted = sqs("DeleteMessageBatch", {{"QueueUrl", queue_url}, {"Entries", entries}});
    if (deleted.is_object() && deleted.contains("Failed") && !deleted["Failed"].empty()) {
      ADD_FAILURE() << "fauxqs DeleteMessageBatch failed for: " << deleted["Failed"].dump();
    }
  }
  return out;
}

std::vector<nlohmann::json> Fauxqs::receiveAtLeast(const std::string& queue_url, std::size_t count,
                                                   std::chrono::milliseconds limit) {
  std::vector<nlohmann::json> out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (out.size() < count) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::milliseconds(0)) break;
    const int wait = left >= std::chrono::seconds(1) ? 1 : 0;  // SQS long poll, whole seconds
    for (auto& message : receive(queue_url, 10, wait)) out.push_back(std::move(message));
    if (wait == 0 && out.size() < count) break;
  }
  return out;
}

}  // namespace outpost::testing
