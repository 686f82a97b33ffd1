// How the passes over durable jobs (delivery initiation, compensation, re-checks, alert
// webhook calls) pace themselves, so that every such job behaves alike.
#pragma once

#include <chrono>

namespace outpost::jobs {

// Jobs handled in one pass before the next read; a full pass runs again at once.
inline constexpr int kJobsPerPass = 50;
// Nothing due: look again after this long anyway (a job may have been added by another
// process, or a clock may have stepped).
inline constexpr std::chrono::milliseconds kIdleDelay(60000);
// The store could not be read: try again after this long.
inline constexpr std::chrono::milliseconds kStoreDownDelay(1000);
// The shortest wait between passes over durable jobs: a job due "now" that cannot go yet
// (a clock step, a race with another thread) never makes a pass spin.
inline constexpr std::chrono::milliseconds kMinimumDelay(50);

}  // namespace outpost::jobs
