// Running external commands: the one door every process in cc-ci goes through.
// Internal to cc-ci (not installed): plugins run commands through AbraClient
// and GitClient, which own the pty, deadline and redaction rules.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ccci/command_error.hpp"

namespace ccci {

/// Where a child's stdout and stderr go. stdin is /dev/null unless
/// Command::input_pipe asks for a pipe.
enum class Output {
  capture,          ///< a pipe, read into CommandResult::output
  pseudo_terminal,  ///< a new pty, read into CommandResult::output (abra needs one)
  file,             ///< appended to Command::output_file
};

struct Command {
  std::vector<std::string> argv{};            ///< argv[0] is looked up on PATH if it has no '/'
  std::map<std::string, std::string> env{};   ///< added to (or replacing in) the inherited environment
  std::chrono::milliseconds timeout{60'000};  ///< then the whole process group is killed
  Output output = Output::capture;
  std::string output_file{};  ///< for Output::file
  /// Given to the child as its fds 3, 4, … in this order (e.g. pipes back to
  /// us); every other descriptor of ours is closed on exec. At most four.
  std::vector<int> extra_fds{};
  /// Output kept in memory: the first and last half of this many bytes, with
  /// a line saying how much was cut between them.
  size_t max_output = 4 << 20;
  /// stdin a pipe the caller writes (Subprocess::input_fd) instead of /dev/null.
  bool input_pipe = false;
  /// stderr a pipe of its own (Subprocess::error_fd), with Output::capture:
  /// for a protocol on stdout, where a warning must never land inside an answer.
  bool errors_apart = false;
};

struct CommandResult {
  int exit_code = -1;  ///< -1 when killed by a signal
  int signal = 0;      ///< the signal that ended it, 0 if it exited
  bool timed_out = false;
  std::string output{};  ///< stdout and stderr interleaved; '\r' removed
  std::chrono::milliseconds duration{0};
  /// Bytes of output over Command::max_output that were cut from `output`:
  /// a reader that needs all of it (a listing) must not decide from the rest.
  size_t output_cut = 0;

  bool ok() const { return exit_code == 0 && !timed_out; }
  /// "exited 1", "killed by signal 11 (Segmentation fault)", "timed out after 3s".
  std::string describe() const;
};

/// A child process running in its own session (so its process group can be
/// killed as a whole) that dies with the thread that started it. When it ends,
/// whatever is left of its process group is killed before it is reaped.
class Subprocess {
 public:
  /// Starts `command`; throws CommandError when it cannot be started.
  explicit Subprocess(const Command& command);
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  /// The read end of the captured output, or -1 for Output::file.
  int output_fd() const { return output_fd_; }
  /// The write end of its stdin with Command::input_pipe, else -1.
  int input_fd() const { return input_fd_; }
  /// The read end of its stderr with Command::errors_apart, else -1.
  int error_fd() const { return error_fd_; }
  /// Closes its stdin (the end of its input), if it was a pipe.
  void close_input();
  /// Reaps the child if it has ended; returns its raw wait status then.
  std::optional<int> poll();
  /// Sends `sig` to the child's whole process group.
  void signal_group(int sig) const;
  /// SIGTERM to the group, then SIGKILL after `grace`; reaps the child.
  int terminate(std::chrono::milliseconds grace);

 private:
  pid_t pid_ = -1;
  int output_fd_ = -1;
  int input_fd_ = -1;
  int error_fd_ = -1;
  std::optional<int> status_;
};

/// Runs a command to completion (or timeout) and returns what happened.
/// Never throws for a non-zero exit; throws CommandError if it cannot start.
CommandResult run_command(const Command& command);

/// The last line a command printed (trailing blanks and line ends dropped):
/// what an error message quotes of it.
inline std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (const auto cut = text.rfind('\n'); cut != std::string::npos) text.erase(0, cut + 1);
  return text;
}

/// Fills exit_code/signal of `result` from a raw wait status.
void decode_wait_status(int status, CommandResult& result);

/// Writes all of `data` to `fd`, again after EINTR and short writes. False
/// when a write fails (errno says why) or writes nothing.
bool write_all(int fd, std::string_view data);

}  // namespace ccci
