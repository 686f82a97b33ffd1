// Logger: one JSON object per line on stderr ({"ts", "level", "msg", ...fields}), so an
// operator can read it and a log shipper can parse it. Thread-safe. Never give it a
// secret: tokens and AWS keys are not logged anywhere.
#pragma once

#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "outpost/clock.h"

namespace outpost::observability {

class Logger {
 public:
  explicit Logger(const Clock& clock, std::FILE* sink = stderr) : clock_(clock), sink_(sink) {}

  void info(const std::string& message, nlohmann::json fields = nlohmann::json::object());
  void warn(const std::string& message, nlohmann::json fields = nlohmann::json::object());
  void error(const std::string& message, nlohmann::json fields = nlohmann::json::object());

 private:
  void write(const char* level, const std::string& message, nlohmann::json fields);

  const Clock& clock_;
  std::FILE* sink_;
  std::mutex mutex_;
};

}  // namespace outpost::observability
