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

}  // namespace outpost::jobs
