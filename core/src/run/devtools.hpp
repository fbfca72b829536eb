// A browser driven over the Chrome DevTools Protocol on a pipe pair
// (Chromium's --remote-debugging-pipe: it reads commands on its fd 3 and
// writes answers and events on its fd 4, each a JSON text ended by a NUL).
// One browser process serves many pages, so a run pays its start once.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "ccci/conversation.hpp"

namespace ccci {

/// What the browser answered instead of a result, or why it gave none (it
/// ended, it was too slow): the message says which.
struct DevToolsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class DevTools {
 public:
  using Clock = std::chrono::steady_clock;

  /// Starts `argv` (the browser and its flags; --remote-debugging-pipe is
  /// added) with `env` added to ours. Throws CommandError when it cannot.
  DevTools(std::vector<std::string> argv, std::map<std::string, std::string> env);
  DevTools(const DevTools&) = delete;
  DevTools& operator=(const DevTools&) = delete;
  /// Asks the browser to close, and ends its processes if it does not.
  ~DevTools();

  /// Sends `method` (to the page of `session`, or the browser itself when
  /// empty) and returns its result. Throws DevToolsError.
  nlohmann::json call(std::string_view method, const nlohmann::json& params = nlohmann::json::object(),
                      const std::string& session = {},
                      Clock::time_point deadline = Clock::now() + kAnswerTime);

  /// Waits for the event `method` of `session`; events that came while
  /// waiting for an answer count. Throws DevToolsError.
  nlohmann::json wait_for_event(std::string_view method, const std::string& session,
                                Clock::time_point deadline);

  /// The browser ended or stopped answering: every call would fail.
  bool broken() const { return broken_; }

  static constexpr std::chrono::seconds kAnswerTime{30};

 private:
  // The next message, parsed; throws DevToolsError (and marks the browser broken).
  nlohmann::json next_message(Clock::time_point deadline);
  void keep_event(nlohmann::json event);

  // A screenshot's PNG in base64 is the largest message expected.
  static constexpr std::size_t kLongestMessage = std::size_t{64} << 20;
  static constexpr std::size_t kEventsKept = 256;
  Conversation browser_;
  std::int64_t last_id_ = 0;
  std::deque<nlohmann::json> events_;  // not yet waited for, oldest first
  bool broken_ = false;
};

}  // namespace ccci
