#include "storage/retry.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>

namespace gg {

RetryPolicy RetryPolicy::FromEnv() {
  RetryPolicy p;
  if (const char* t = std::getenv("GG_STORAGE_TIMEOUT"); t != nullptr && *t != '\0') {
    double v = std::strtod(t, nullptr);
    if (v > 0) {
      p.budget_seconds = v;
      p.connect_timeout = std::min(p.connect_timeout, v);
    }
  }
  return p;
}

double RetryPolicy::Delay(int attempt) const {
  double d = std::min(max_delay, base_delay * std::pow(2.0, std::max(0, attempt - 2)));
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(d / 2, d)(rng);
}

}  // namespace gg
