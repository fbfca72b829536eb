// A long-lived command asked one thing at a time over its stdin, answering on
// its stdout (`git cat-file --batch-command`): one process for a hundred
// questions instead of a hundred processes. Internal to cc-ci.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "ccci/process.hpp"

namespace ccci {

class Conversation {
 public:
  /// Starts `command` with its stdin and stdout as pipes and its stderr apart
  /// (a warning never lands inside an answer). `command.timeout` bounds each
  /// answer, not the whole conversation. Throws CommandError when it cannot
  /// start.
  explicit Conversation(Command command);

  /// Writes `text` to its stdin. Throws CommandError when it is gone.
  void send(std::string_view text);
  /// The next line of its answer, without the '\n'. Throws CommandError when
  /// it ends, takes longer than the timeout, or the line passes `max_bytes`.
  std::string read_line(std::size_t max_bytes);
  /// The next `count` bytes of its answer, with the same errors.
  std::string read_bytes(std::size_t count);

  /// "exited 128: fatal: …": what ended it (once it has ended) and the last
  /// line it printed on stderr, either of them empty; for an error message.
  std::string why_stopped();

 private:
  // Reads what is there into buffered_, waiting up to the deadline; throws
  // when nothing more will come.
  void fill(std::chrono::steady_clock::time_point deadline);
  // Reads what it has printed on stderr, keeping the last kErrorsKept bytes.
  void read_errors();
  [[noreturn]] void fail(const std::string& what);

  std::string name_;
  std::chrono::milliseconds answer_timeout_;
  Subprocess process_;
  std::string buffered_;
  static constexpr std::size_t kErrorsKept = 4096;
  std::string errors_;  // the end of its stderr since the last question
  bool errors_open_ = true;
};

}  // namespace ccci
