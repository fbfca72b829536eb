// A browser driven over the Chrome DevTools Protocol on a pipe pair
// (Chromium's --remote-debugging-pipe: it reads commands on its fd 3 and
// writes answers and events on its fd 4, each a JSON text ended by a NUL).
// One browser process serves many pages, so a run pays its start once.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
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

/// The deadline passed before the answer or event came. The browser is still
/// usable: a late answer is told apart by its id, a late event is kept.
struct DevToolsTimeout : DevToolsError {
  using DevToolsError::DevToolsError;
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
  /// empty) and returns its result. Throws DevToolsError (DevToolsTimeout
  /// when the deadline passed first).
  nlohmann::json call(std::string_view method, const nlohmann::json& params = nlohmann::json::object(),
                      const std::string& session = {},
                      Clock::time_point deadline = Clock::now() + kAnswerTime);

  /// Sends `method` without waiting for its answer (which is then skipped):
  /// for an event handler, which must not read.
  void post(std::string_view method, const nlohmann::json& params, const std::string& session = {});

  /// Called with each event as it is read, before any wait sees it.
  void on_event(std::function<void(const nlohmann::json&)> handler) { handler_ = std::move(handler); }

  /// Waits for the event `method` of `session`; events that came while
  /// waiting for an answer count. Throws DevToolsError.
  nlohmann::json wait_for_event(std::string_view method, const std::string& session,
                                Clock::time_point deadline);

  /// The browser ended or garbled its answers: every call would fail.
  bool broken() const { return broken_; }
  /// The browser's process (and process group) id.
  pid_t pid() const { return browser_.pid(); }

  static constexpr std::chrono::seconds kAnswerTime{30};

 private:
  // The next message, parsed; throws DevToolsTimeout at the deadline, else
  // DevToolsError (and marks the browser broken).
  nlohmann::json next_message(Clock::time_point deadline);
  void keep_event(nlohmann::json event);
  void send(std::int64_t id, std::string_view method, const nlohmann::json& params,
            const std::string& session);

  // A screenshot's PNG in base64 is the largest message expected.
  static constexpr std::size_t kLongestMessage = std::size_t{64} << 20;
  static constexpr std::size_t kEventsKept = 256;
  Conversation browser_;
  std::int64_t last_id_ = 0;
  std::deque<nlohmann::json> events_;  // not yet waited for, oldest first
  std::function<void(const nlohmann::json&)> handler_;
  bool broken_ = false;
};

}  // namespace ccci
