// What a lane's test process may ask of the host, over a socket of its own
// (the child's fd 4): one JSON line per request, one JSON line per answer.
// Today one request: {"shoot": "/path"}, the landing page of the lane's own
// app shot by the run's browser, answered {"missing": "why"} or {"missing":
// null}. The host takes nothing else from the request: the domain, the file
// written and the time allowed are the lane's, so a plugin that writes here
// can have its own app's page shot and nothing more.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "model/job.hpp"
#include "run/shared_browser.hpp"

namespace ccci {

/// The host's side, polled by the lane's watch loop.
class HostRequests {
 public:
  using Clock = std::chrono::steady_clock;
  /// `browser` may be null (no page of the run is shot); `deadline` says
  /// when the phase the child is in must end. Throws CommandError when the
  /// socket cannot be made.
  HostRequests(const RecipeJob& job, SharedBrowser* browser, std::function<Clock::time_point()> deadline);
  HostRequests(const HostRequests&) = delete;
  HostRequests& operator=(const HostRequests&) = delete;
  ~HostRequests();

  /// The child's end, to be given to it as an extra descriptor.
  int child_end() const { return child_end_; }
  /// Once the child has its copy, ours goes.
  void child_started();

  /// Takes in what the child wrote (one read at most) and answers what is
  /// done; never blocks.
  void serve();

 private:
  void take(const std::string& line);
  void answer(const std::optional<std::string>& missing);
  // The child is not heard any more: it broke the protocol, or cannot be answered.
  void stop_hearing();

  static constexpr std::size_t kLongestRequest = 4096;
  // A child that writes junk is cut off, so it can never keep the host's
  // watch loop (and with it the phase's deadline) busy.
  static constexpr int kMostRefused = 8;
  const RecipeJob& job_;
  SharedBrowser* browser_;
  std::function<Clock::time_point()> deadline_;
  int host_end_ = -1;
  int child_end_ = -1;
  std::string pending_;
  int refused_ = 0;
  std::optional<std::future<std::optional<std::string>>> shooting_;
  std::shared_ptr<ShotClaim> claim_ = std::make_shared<ShotClaim>();
};

/// The child's side: asks the host for its landing page and waits for the
/// answer until `deadline`; returns why there is no picture, or nullopt.
std::optional<std::string> ask_host_to_shoot(int host_fd, const std::string& page,
                                             std::chrono::steady_clock::time_point deadline);

}  // namespace ccci
