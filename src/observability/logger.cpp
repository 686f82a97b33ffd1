#include "observability/logger.h"

#include "common/text.h"

namespace outpost::observability {

void Logger::info(const std::string& message, nlohmann::json fields) {
  write("info", message, std::move(fields));
}
void Logger::warn(const std::string& message, nlohmann::json fields) {
  write("warn", message, std::move(fields));
}
void Logger::error(const std::string& message, nlohmann::json fields) {
  write("error", message, std::move(fields));
}

void Logger::write(const char* level, const std::string& message, nlohmann::json fields) {
  nlohmann::json line = {
      {"ts", formatTimestamp(clock_.wallMillis())}, {"level", level}, {"msg", message}};
  if (fields.is_object()) line.update(fields);
  // replace: a stray invalid byte in a field must not cost the whole line.
  const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard lock(mutex_);
  std::fprintf(sink_, "%s\n", text.c_str());
  std::fflush(sink_);
}

}  // namespace outpost::observability
