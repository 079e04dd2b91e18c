// How storage clients retry: exponential back-off with jitter on throttling,
// 5xx answers and dropped connections, within a bounded number of attempts
// and a bounded time, so an unreachable server is reported instead of
// waited on forever.
#pragma once

#include <chrono>

namespace gg {

struct RetryPolicy {
  int max_attempts = 8;
  /// Retrying stops once this long has passed since a request first failed.
  /// $GG_STORAGE_TIMEOUT (seconds) overrides it.
  double budget_seconds = 30;
  double base_delay = 0.05;
  double max_delay = 4;
  /// How long to wait to connect to a server (each attempt).
  double connect_timeout = 5;

  static RetryPolicy FromEnv();
  /// The wait before attempt `attempt` (2, 3, ...): base * 2^(attempt-2),
  /// capped, with full jitter in [delay/2, delay].
  double Delay(int attempt) const;
};

using Clock = std::chrono::steady_clock;
inline double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace gg
