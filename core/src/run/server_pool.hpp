// The servers of a run and how many lanes each is running.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "run/run_stop.hpp"

namespace ccci {

/// A lane takes a slot before it starts and gives it back after teardown, so
/// no server ever runs more lanes than its capacity (0: no limit).
class ServerPool {
 public:
  explicit ServerPool(std::vector<ServerSlot> slots);

  /// The least busy server with room (preferring `preferred`); waits for one.
  /// Returns nullopt if the run must stop while waiting.
  std::optional<std::string> acquire(const std::string& preferred, const RunStop& stop);
  void release(const std::string& name);

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<ServerSlot> slots_;
  std::vector<int> busy_;
};

}  // namespace ccci
