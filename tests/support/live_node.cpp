#include "support/live_node.h"

#include <utility>

namespace outpost::testing {

LiveNode::LiveNode(const TempDir& dir, std::map<std::string, std::string> env)
    : dir_(dir), env_(std::move(env)) {
  process_ = NodeProcess::start(dir_, {env_, ""});
}

bool LiveNode::up() {
  std::lock_guard lock(mutex_);
  return process_ != nullptr;
}

int LiveNode::port() {
  std::lock_guard lock(mutex_);
  return process_ ? process_->port() : 0;
}

std::string LiveNode::database() {
  std::lock_guard lock(mutex_);
  return process_ ? process_->database() : dir_.file("outpost.db");
}

std::string LiveNode::logs() {
  std::lock_guard lock(mutex_);
  return process_ ? process_->logs() : readFile(dir_.file("node.log"));
}

bool LiveNode::killAndRestart() {
  std::lock_guard lock(mutex_);
  if (process_) process_->killHard();
  process_.reset();
  process_ = NodeProcess::start(dir_, {env_, ""});
  return process_ != nullptr;
}

int LiveNode::terminate(std::chrono::milliseconds limit) {
  std::lock_guard lock(mutex_);
  if (!process_) return -1;
  const int status = process_->terminate(limit);
  process_.reset();  // kills it if it is still running
  return status;
}

}  // namespace outpost::testing
