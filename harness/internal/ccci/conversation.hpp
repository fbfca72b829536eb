// A long-lived command asked one thing at a time over its stdin, answering on
// its stdout (`git cat-file --batch-command`), or over a pipe pair on its fds
// 3 and 4 (Chromium's --remote-debugging-pipe): one process for a hundred
// questions instead of a hundred processes. Internal to cc-ci.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "ccci/process.hpp"

namespace ccci {

/// Where the command is asked and answers.
enum class Channel {
  stdio,        ///< its stdin and stdout; its stderr apart
  fds_3_and_4,  ///< it reads fd 3 and writes fd 4; its stdout and stderr together apart
};

class Conversation {
 public:
  /// Starts `command` with its questions and answers on pipes of their own
  /// and what it prints besides apart (a warning never lands inside an
  /// answer). `command.timeout` bounds each answer, not the whole
  /// conversation. Throws CommandError when it cannot start.
  explicit Conversation(Command command, Channel channel = Channel::stdio);
  Conversation(const Conversation&) = delete;
  Conversation& operator=(const Conversation&) = delete;
  ~Conversation();

  /// Writes `text` to its stdin. Throws CommandError when it is gone.
  void send(std::string_view text);
  /// The next line of its answer, without the '\n'. Throws CommandError when
  /// it ends, takes longer than the timeout, or the line passes `max_bytes`.
  std::string read_line(std::size_t max_bytes);
  /// The next answer up to `end` (dropped), by `deadline` rather than the
  /// command's timeout; the same errors.
  std::string read_until(char end, std::size_t max_bytes, std::chrono::steady_clock::time_point deadline);
  /// The next `count` bytes of its answer, with the same errors.
  std::string read_bytes(std::size_t count);
  /// The same, by `deadline` rather than the command's timeout.
  std::string read_bytes(std::size_t count, std::chrono::steady_clock::time_point deadline);

  /// "exited 128: fatal: …": what ended it (once it has ended) and the last
  /// line it printed on stderr, either of them empty; for an error message.
  std::string why_stopped();

  /// It has not ended (reaping it if it has).
  bool running() { return !process_.poll(); }
  /// Its process id (its process group's too): to end it from another thread.
  pid_t pid() const { return process_.pid(); }

 private:
  // Reads what is there into buffered_, waiting up to the deadline; throws
  // when nothing more will come.
  void fill(std::chrono::steady_clock::time_point deadline);
  // Reads what it has printed on stderr, keeping the last kErrorsKept bytes.
  void read_errors();
  [[noreturn]] void fail(const std::string& what);

  std::string name_;
  std::chrono::milliseconds answer_timeout_;
  std::chrono::milliseconds waiting_for_{0};  // the budget of the answer being read, for its error
  int own_ask_fd_ = -1;  // with Channel::fds_3_and_4, our ends of its pipes (before process_: it sets them)
  int own_answer_fd_ = -1;
  Subprocess process_;
  int ask_fd_ = -1;     // we write questions here
  int answer_fd_ = -1;  // and read answers here
  int errors_fd_ = -1;  // what it prints besides, read as it comes
  std::string buffered_;
  static constexpr std::size_t kErrorsKept = 4096;
  std::string errors_;  // the end of its stderr since the last question
  bool errors_open_ = true;
};

}  // namespace ccci
