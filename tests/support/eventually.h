// Polls a condition that other threads or processes make true (a node's jobs, a server
// thread), until it holds or `limit` passes. The poll interval is short; it is a wait for a
// condition, never a sleep standing in for one.
#pragma once

#include <chrono>
#include <functional>

namespace outpost::testing {

bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds limit = std::chrono::seconds(5),
                std::chrono::milliseconds poll = std::chrono::milliseconds(10));

}  // namespace outpost::testing
