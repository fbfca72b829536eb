#include "run/run_stop.hpp"

#include <csignal>

namespace ccci {

RunStop::RunStop(const std::atomic<int>& signal, std::optional<std::chrono::seconds> timeout)
    : signal_(signal) {
  if (timeout) {
    deadline_ = Clock::now() + *timeout;
    timeout_ = *timeout;
  }
}

std::optional<std::string> RunStop::reason() const {
  if (const int signal = signal_.load())
    return std::string("interrupted by ") + (signal == SIGTERM  ? "SIGTERM"
                                             : signal == SIGHUP ? "SIGHUP"
                                                                : "SIGINT");
  if (deadline_ && Clock::now() >= *deadline_)
    return "the run's --timeout of " + std::to_string(timeout_.count()) + "s ran out";
  return std::nullopt;
}

}  // namespace ccci
