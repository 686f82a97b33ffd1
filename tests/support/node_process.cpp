#include "support/node_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace outpost::testing {
namespace {

std::vector<char*> cStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

struct RunAs {
  uid_t uid;
  gid_t gid;
  std::string binary;  // a copy of OUTPOST_BINARY that this user may run
};

pid_t spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const std::string& output_path, std::optional<RunAs> user = std::nullopt) {
  std::vector<std::string> argv = {user ? user->binary : std::string(OUTPOST_BINARY)};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> envp = {"PATH=/usr/bin:/bin"};
  for (const auto& [name, value] : env) envp.push_back(name + "=" + value);
  auto c_argv = cStrings(argv);
  auto c_envp = cStrings(envp);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    if (user && (setgroups(0, nullptr) != 0 || setgid(user->gid) != 0 || setuid(user->uid) != 0)) {
      _exit(126);
    }
    execve(c_argv[0], c_argv.data(), c_envp.data());
    _exit(127);
  }
  return pid;
}

// Waits for `pid` until `limit`; the exit status, or -1 if it is still running.
int waitFor(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a child's exit
  }
}

RunResult runToCompletion(const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env,
                          std::optional<RunAs> user) {
  TempDir scratch;
  const std::string output = scratch.file("output.txt");
  const pid_t pid = spawn(args, env, output, user);
  RunResult result;
  result.exit_status = waitFor(pid, std::chrono::seconds(60));
  if (result.exit_status == -1) {
    ::kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  result.output = readFile(output);
  return result;
}

}  // namespace

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "outpost-test-XXXXXX").string();
  path_ = mkdtemp(pattern.data());
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

int freeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

double cpuSeconds(pid_t pid) {
  const std::string text = readFile("/proc/" + std::to_string(pid) + "/stat");
  if (text.empty()) return 0;
  std::istringstream fields(text.substr(text.rfind(')') + 2));  // after "(comm) "
  std::string field;
  long long ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // fields 14 and 15: utime, stime
    if (i >= 14) ticks += std::stoll(field);
  }
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int positiveIntSetting(const char* name, int fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  const int parsed = std::atoi(value);
  if (parsed <= 0) {
    ADD_FAILURE() << name << " must be a positive integer, not '" << value << "'";
    return fallback;
  }
  return parsed;
}

double memoryMiB(pid_t pid, const std::string& field) {
  std::istringstream status(readFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024;
  }
  return 0;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void writeFile(const std::string& path, const std::string& contents) {
  std::ofstream(path) << contents;
}

RunResult runOutpost(const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env) {
  return runToCompletion(args, env, std::nullopt);
}

RunResult runOutpostAs(uid_t uid, gid_t gid, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env) {
  // The build tree may sit where that user cannot go (CI builds under /root, 0700).
  TempDir bin;
  const std::string binary = bin.file("outpost");
  std::filesystem::copy_file(OUTPOST_BINARY, binary);
  std::filesystem::permissions(bin.path(), std::filesystem::perms(0755));
  std::filesystem::permissions(binary, std::filesystem::perms(0755));
  return runToCompletion(args, env, RunAs{uid, gid, binary});
}

std::unique_ptr<NodeProcess> NodeProcess::start(const TempDir& dir, NodeOptions options) {
  // A port picked free can be taken before the node binds it; try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::unique_ptr<NodeProcess> node(new NodeProcess());
    node->port_ = freeLoopbackPort();
    node->database_ = options.database.empty() ? dir.file("outpost.db") : options.database;
    node->log_path_ = dir.file("node.log");
    auto env = options.env;
    if (auto cert = env.find("OUTPOST_TLS_CERT_FILE"); cert != env.end()) {
      node->ca_file_ = cert->second;  // self-signed: its own authority
    }
    env["OUTPOST_LISTEN"] = "127.0.0.1:" + std::to_string(node->port_);
    env["OUTPOST_DATABASE"] = node->database_;
    if (!env.contains("OUTPOST_NODE_ID")) env["OUTPOST_NODE_ID"] = "test-node";
    node->pid_ = spawn({"serve"}, env, node->log_path_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitFor(node->pid_, std::chrono::milliseconds(0)) != -1) {
        node->pid_ = -1;
        break;  // exited: likely the port; try another
      }
      auto client = node->client();
      if (auto response = client->Get("/livez"); response && response->status == 200) return node;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling readiness
    }
    if (node->pid_ > 0) {
      ADD_FAILURE() << "outpost did not answer /livez within 15 s; log:\n" << node->logs();
      return nullptr;
    }
  }
  ADD_FAILURE() << "outpost failed to start 5 times; log:\n" << readFile(dir.file("node.log"));
  return nullptr;
}

NodeProcess::~NodeProcess() {
  if (pid_ > 0) killHard();
}

std::unique_ptr<httplib::Client> NodeProcess::client() const {
  auto client =
      ca_file_.empty()
          ? std::make_unique<httplib::Client>("127.0.0.1", port_)
          : std::make_unique<httplib::Client>("https://127.0.0.1:" + std::to_string(port_));
  if (!ca_file_.empty()) client->set_ca_cert_path(ca_file_.c_str());
  client->set_connection_timeout(std::chrono::seconds(5));
  client->set_read_timeout(std::chrono::seconds(15));
  return client;
}

std::string NodeProcess::logs() const { return readFile(log_path_); }

void NodeProcess::killHard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int NodeProcess::terminate(std::chrono::milliseconds limit) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const int status = waitFor(pid_, limit);
  if (status != -1) pid_ = -1;
  return status;
}

bool NodeProcess::running() {
  if (pid_ <= 0) return false;
  if (waitFor(pid_, std::chrono::milliseconds(0)) == -1) return true;
  pid_ = -1;
  return false;
}

}  // namespace outpost::testing
