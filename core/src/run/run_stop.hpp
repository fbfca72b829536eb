// Why a run stops early: a signal (SIGINT/SIGTERM) or the whole-run timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

namespace ccci {

class RunStop {
 public:
  using Clock = std::chrono::steady_clock;

  /// `signal` is set by the signal handler; `timeout` is --timeout, if given.
  explicit RunStop(const std::atomic<int>& signal,
                   std::optional<std::chrono::seconds> timeout = std::nullopt);

  /// Set once the run must stop: "interrupted by SIGINT", "the run's --timeout of 60s ran out".
  std::optional<std::string> reason() const;
  /// A signal arrived (exit code 130).
  bool interrupted() const { return signal_.load() != 0; }

 private:
  const std::atomic<int>& signal_;
  std::optional<Clock::time_point> deadline_;
  std::chrono::seconds timeout_{0};
};

}  // namespace ccci
