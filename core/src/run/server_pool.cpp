#include "run/server_pool.hpp"

#include <chrono>

namespace ccci {

ServerPool::ServerPool(std::vector<ServerSlot> slots) : slots_(std::move(slots)), busy_(slots_.size(), 0) {}

std::optional<std::string> ServerPool::acquire(const std::string& preferred, const RunStop& stop) {
  std::unique_lock lock(mutex_);
  for (;;) {
    std::optional<size_t> best;
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].capacity > 0 && busy_[i] >= slots_[i].capacity) continue;
      if (!best || slots_[i].name == preferred ||
          (slots_[*best].name != preferred && busy_[i] < busy_[*best]))
        best = i;
    }
    if (best) {
      ++busy_[*best];
      return slots_[*best].name;
    }
    // A slot freed wakes us; the timeout is for a stop, which frees none.
    if (stop.reason()) return std::nullopt;
    freed_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

void ServerPool::release(const std::string& name) {
  {
    std::scoped_lock lock(mutex_);
    for (size_t i = 0; i < slots_.size(); ++i)
      if (slots_[i].name == name) --busy_[i];
  }
  freed_.notify_one();
}

}  // namespace ccci
