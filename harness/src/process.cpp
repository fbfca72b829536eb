#include "ccci/process.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <utmp.h>

// vfork, not fork: a fork of a host with several threads copies its page
// tables, then pays a copy-on-write fault (and a TLB shootdown across cores)
// for each page its threads touch; a plan of 200 recipes spent most of its
// CPU there. The child runs only system calls before exec (ChildSetup).
// Boost.Process has vfork for glibc but does not assume it.
#define BOOST_POSIX_HAS_VFORK 1  // NOLINT(cppcoreguidelines-macro-usage)
#include <algorithm>
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/posix.hpp>
#include <boost/process/search_path.hpp>
#include <cerrno>
#include <cstring>
#include <thread>

namespace bp = boost::process;
using namespace std::chrono_literals;

namespace ccci {
namespace {

using Clock = std::chrono::steady_clock;

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  ~FileDescriptor() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

[[noreturn]] void throw_errno(const std::string& what) {
  throw CommandError(what + ": " + std::strerror(errno));
}

// Runs in the vforked child before exec, which shares the host's memory until
// then: system calls only, nothing allocated but on failure. A new session (so
// the host can kill the whole process group), output to our pipe/pty/file,
// stdin from /dev/null or our pipe, one extra descriptor as fd 3 if asked,
// every other descriptor closed on exec (no log file or pipe of the host leaks
// into abra), and death with the thread that started it, so no command
// outlives cc-ci. Any failure ends the child before exec: a half set-up child
// must never run the command.
struct ChildSetup : bp::extend::handler {
  int output_fd;
  bool terminal;
  int extra_fd;
  int input_fd;  // -1: /dev/null
  int error_fd;  // -1: with the output
  pid_t parent;
  char** environment;

  template <typename Executor>
  void on_setup(Executor& exec) const {
    exec.env = environment;  // built by us: Boost 1.74's environment lookup over-reads (ASan)
  }

  template <typename Executor>
  void on_exec_setup(Executor& exec) const {
    auto fail = [&exec](const char* what) {
      exec.set_error(std::error_code(errno, std::system_category()), what);  // tells the parent
      ::_exit(127);
    };
    if (terminal) {
      if (::login_tty(output_fd) < 0) fail("login_tty");  // setsid, controlling tty, stdio
    } else {
      if (::setsid() < 0) fail("setsid");
      const int in_fd = input_fd >= 0 ? input_fd : ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (in_fd < 0) fail("open /dev/null");
      if (::dup2(in_fd, 0) < 0 || ::dup2(output_fd, 1) < 0 ||
          ::dup2(error_fd >= 0 ? error_fd : output_fd, 2) < 0)
        fail("dup2");
    }
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail("prctl");
    if (::getppid() != parent) ::_exit(127);  // the parent is already gone
    int first_closed = 3;
    if (extra_fd >= 0) {
      if (extra_fd == 3) {
        if (::fcntl(3, F_SETFD, 0) < 0) fail("fcntl");
      } else if (::dup2(extra_fd, 3) < 0) {
        fail("dup2");
      }
      first_closed = 4;
    }
    if (::close_range(static_cast<unsigned>(first_closed), ~0U, CLOSE_RANGE_CLOEXEC) < 0)
      for (int fd = first_closed; fd < 4096; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
};

// The child's environment: ours, with `overrides` added or replacing.
class Environment {
 public:
  explicit Environment(const std::map<std::string, std::string>& overrides) {
    for (char** entry = ::environ; entry != nullptr && *entry != nullptr; ++entry) {
      const std::string_view text(*entry);
      if (!overrides.contains(std::string(text.substr(0, text.find('='))))) entries_.emplace_back(text);
    }
    for (const auto& [key, value] : overrides) entries_.push_back(key + "=" + value);
    for (auto& entry : entries_) pointers_.push_back(entry.data());
    pointers_.push_back(nullptr);
  }
  char** get() { return pointers_.data(); }

 private:
  std::vector<std::string> entries_;
  std::vector<char*> pointers_;
};

std::string resolve_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  auto found = bp::search_path(name);
  if (found.empty()) throw CommandError(name + ": command not found on PATH");
  return found.string();
}

struct PseudoTerminal {
  FileDescriptor master;
  FileDescriptor slave;
};

PseudoTerminal open_pseudo_terminal() {
  // Wide enough that table output is not wrapped.
  winsize size{};
  size.ws_col = 200;
  size.ws_row = 50;
  int master = -1;
  int slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, &size) < 0) throw_errno("openpty");
  PseudoTerminal terminal{FileDescriptor(master), FileDescriptor(slave)};
  if (::fcntl(master, F_SETFD, FD_CLOEXEC) < 0 || ::fcntl(slave, F_SETFD, FD_CLOEXEC) < 0)
    throw_errno("fcntl");
  // No echo, no "\n" -> "\r\n".
  termios modes{};
  if (::tcgetattr(slave, &modes) == 0) {
    modes.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    modes.c_oflag &= ~static_cast<tcflag_t>(ONLCR);
    ::tcsetattr(slave, TCSANOW, &modes);
  }
  return terminal;
}

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

bool write_all(int fd, std::string_view data) {
  for (size_t done = 0; done < data.size();) {
    const ssize_t count = ::write(fd, data.data() + done, data.size() - done);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) return false;
    done += static_cast<size_t>(count);
  }
  return true;
}

void decode_wait_status(int status, CommandResult& result) {
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
    result.signal = 0;
  } else if (WIFSIGNALED(status)) {
    result.exit_code = -1;
    result.signal = WTERMSIG(status);
  }
}

namespace {

// One pipe: what is written to `write` is read from `read`.
struct Pipe {
  FileDescriptor read{-1};
  FileDescriptor write{-1};
};

Pipe open_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) throw_errno("pipe");
  return {FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

// Where the child's output goes: `write` is its end, `read` ours (none for a file).
Pipe open_output(const Command& command) {
  switch (command.output) {
    case Output::capture:
      return open_pipe();
    case Output::pseudo_terminal: {
      PseudoTerminal terminal = open_pseudo_terminal();
      return {std::move(terminal.master), std::move(terminal.slave)};
    }
    case Output::file:
      break;
  }
  FileDescriptor file(::open(command.output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (file.get() < 0) throw_errno("open " + command.output_file);
  return {FileDescriptor(), std::move(file)};
}

}  // namespace

Subprocess::Subprocess(const Command& command) {
  if (command.argv.empty()) throw CommandError("empty command");
  const std::string executable = resolve_executable(command.argv.front());
  Pipe output = open_output(command);
  // The pipes the child reads its input from and writes its errors to.
  Pipe input = command.input_pipe ? open_pipe() : Pipe();
  Pipe errors = command.errors_apart && command.output == Output::capture ? open_pipe() : Pipe();

  Environment environment(command.env);
  std::vector<std::string> arguments(command.argv.begin() + 1, command.argv.end());
  std::error_code error;
  bp::child child(bp::exe = executable, bp::args = arguments,
                  ChildSetup{{},
                             output.write.get(),
                             command.output == Output::pseudo_terminal,
                             command.extra_fd,
                             input.read.get(),
                             errors.write.get(),
                             ::getpid(),
                             environment.get()},
                  bp::posix::use_vfork, error);
  if (error) throw CommandError(command.argv.front() + ": cannot start: " + error.message());
  pid_ = child.id();
  child.detach();  // we reap it ourselves, with the raw wait status
  output_fd_ = output.read.release();
  input_fd_ = input.write.release();
  error_fd_ = errors.read.release();
}

void Subprocess::close_input() {
  if (input_fd_ >= 0) ::close(input_fd_);
  input_fd_ = -1;
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      output_fd_(std::exchange(other.output_fd_, -1)),
      input_fd_(std::exchange(other.input_fd_, -1)),
      error_fd_(std::exchange(other.error_fd_, -1)),
      status_(other.status_) {}

Subprocess::~Subprocess() {
  close_input();
  if (pid_ > 0 && !status_) terminate(500ms);
  for (const int fd : {output_fd_, error_fd_})
    if (fd >= 0) ::close(fd);
}

std::optional<int> Subprocess::poll() {
  if (status_ || pid_ <= 0) return status_;
  // Look without reaping: while the leader is a zombie its id cannot be
  // reused, so the group can be ended safely first. Whatever it left running
  // in its group (a daemon abra forked, a plugin's helper) ends with it.
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid != pid_)
    return status_;
  ::killpg(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  status_ = status;
  return status_;
}

void Subprocess::signal_group(int sig) const {
  if (pid_ <= 0 || status_) return;
  // Before the child's setsid() the group does not exist yet: signal the child itself.
  if (::killpg(pid_, sig) < 0) ::kill(pid_, sig);
}

int Subprocess::terminate(std::chrono::milliseconds grace) {
  signal_group(SIGTERM);
  const auto give_up = Clock::now() + grace;
  while (!poll() && Clock::now() < give_up) std::this_thread::sleep_for(10ms);
  if (!status_) {
    signal_group(SIGKILL);
    while (!poll()) std::this_thread::sleep_for(1ms);  // poll() ends the rest of the group, then reaps
  }
  return *status_;
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
  if (!command.keep_carriage_returns) std::erase(result.output, '\r');
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return result;
}

}  // namespace ccci
