// Idempotency-Key support (SPEC §3): the first response to a key is stored in the same
// transaction as what it created, so a retry after a lost answer replays it; a key that
// is still being processed is tracked in memory.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>

#include "store/connection.h"

namespace outpost::idempotency {

inline constexpr std::size_t kMaxKeyLength = 255;
inline constexpr std::int64_t kReplayWindowMillis = 24LL * 60 * 60 * 1000;

struct StoredResponse {
  std::string request_hash;
  int status = 0;
  std::string body;
  std::string resource_id;  // what the request created, e.g. the order id
};

// The stored response for `key` if it was saved at or after `not_before_millis`.
std::optional<StoredResponse> findResponse(store::Connection& connection, const std::string& key,
                                           std::int64_t not_before_millis);

// Saves the response, replacing an expired one for the same key.
void saveResponse(store::Connection& connection, const std::string& key,
                  const StoredResponse& response, std::int64_t now_millis,
                  std::int64_t not_before_millis);

// Rewrites the stored answer for what created `resource_id`: used when work that finished
// before the first answer was sent (the delivery attempt) changed that answer.
void refreshResponseBody(store::Connection& connection, const std::string& resource_id,
                         const std::string& body);

// Deletes up to `limit` stored answers saved before `before_millis`; returns how many.
int pruneExpired(store::Connection& connection, std::int64_t before_millis, int limit);

// Keys whose first request is still being processed. Thread-safe.
class InFlightKeys {
 public:
  // False if the key is already in flight.
  bool tryClaim(const std::string& key);
  void release(const std::string& key);

 private:
  std::mutex mutex_;
  std::unordered_set<std::string> keys_;
};

// Holds a claim for its lifetime.
class KeyClaim {
 public:
  KeyClaim(InFlightKeys& keys, std::string key) : keys_(keys), key_(std::move(key)) {}
  ~KeyClaim() { keys_.release(key_); }
  KeyClaim(const KeyClaim&) = delete;
  KeyClaim& operator=(const KeyClaim&) = delete;

 private:
  InFlightKeys& keys_;
  std::string key_;
};

}  // namespace outpost::idempotency
