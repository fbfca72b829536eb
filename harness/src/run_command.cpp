// run_command: a command run to its end (or deadline), its output kept bounded.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <thread>

#include "ccci/process.hpp"

using namespace std::chrono_literals;

namespace ccci {
namespace {

using Clock = std::chrono::steady_clock;

// The start and the end of a command's output, at most about `limit` bytes in
// memory however much it prints: the start holds tables and the end the error.
class BoundedOutput {
 public:
  explicit BoundedOutput(size_t limit) : half_(std::max<size_t>(limit / 2, 1)) {}
  void append(std::string_view data) {
    total_ += data.size();
    const size_t to_head = std::min(data.size(), half_ - std::min(half_, head_.size()));
    head_.append(data.substr(0, to_head));
    tail_.append(data.substr(to_head));
    if (tail_.size() > 2 * half_) tail_.erase(0, tail_.size() - half_);
  }
  size_t cut() const {
    const size_t kept = head_.size() + std::min(tail_.size(), half_);
    return head_.size() + tail_.size() == total_ ? 0 : total_ - kept;
  }
  std::string take() {
    if (head_.size() + tail_.size() == total_) return head_ + tail_;
    const std::string end = tail_.size() > half_ ? tail_.substr(tail_.size() - half_) : tail_;
    return head_ + "\n[... " + std::to_string(total_ - head_.size() - end.size()) +
           " bytes of output cut ...]\n" + end;
  }

 private:
  size_t half_;
  size_t total_ = 0;
  std::string head_;
  std::string tail_;
};

}  // namespace

std::string CommandResult::describe() const {
  if (timed_out) {
    auto seconds = std::chrono::duration<double>(duration).count();
    char text[64];
    std::snprintf(text, sizeof text, "timed out after %.1fs", seconds);
    return text;
  }
  if (signal != 0) {
    const char* name = ::sigdescr_np(signal);
    return "killed by signal " + std::to_string(signal) + " (" + (name ? name : "unknown") + ")";
  }
  return "exited " + std::to_string(exit_code);
}

CommandResult run_command(const Command& command) {
  const auto started = Clock::now();
  const auto deadline = started + command.timeout;
  Subprocess process(command);
  CommandResult result;
  BoundedOutput kept(command.max_output);

  const int fd = process.output_fd();
  bool end_of_output = fd < 0;
  std::optional<int> status;
  Clock::time_point exited_at;
  char buffer[8192];

  for (;;) {
    if (!status && (status = process.poll())) exited_at = Clock::now();
    // After exit, keep reading only what is already buffered: a grandchild that
    // holds the terminal open must not keep us waiting.
    if (status && (end_of_output || Clock::now() - exited_at > 100ms)) break;
    if (!status && Clock::now() >= deadline) {
      result.timed_out = true;
      status = process.terminate(2s);
      break;
    }
    if (end_of_output) {
      std::this_thread::sleep_for(5ms);
      continue;
    }
    pollfd waiting{fd, POLLIN, 0};
    const int ready = ::poll(&waiting, 1, status ? 10 : 5);
    if (ready <= 0) continue;
    const ssize_t count = ::read(fd, buffer, sizeof buffer);
    if (count > 0)
      kept.append({buffer, static_cast<size_t>(count)});
    else if (count == 0 || errno != EINTR)
      end_of_output = true;  // EIO on a pty whose last writer closed
  }
  // Drain what the killed process left in the pipe.
  if (fd >= 0 && result.timed_out) {
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    ssize_t count;
    while ((count = ::read(fd, buffer, sizeof buffer)) > 0) kept.append({buffer, static_cast<size_t>(count)});
  }
  result.output_cut = kept.cut();
  result.output = kept.take();

  decode_wait_status(*status, result);
  std::erase(result.output, '\r');
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return result;
}

}  // namespace ccci
