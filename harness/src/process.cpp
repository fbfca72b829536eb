#include "ccci/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
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

// Runs in the forked child before exec: a new session (so the host can kill
// the whole process group), output to our pipe/pty/file, stdin from /dev/null,
// and death with the thread that started it, so no command outlives cc-ci.
struct ChildSetup : bp::extend::handler {
  int output_fd;
  bool controlling_terminal;
  pid_t parent;

  template <typename Executor>
  void on_exec_setup(Executor& exec) const {
    auto fail = [&exec](const char* what) {
      exec.set_error(std::error_code(errno, std::system_category()), what);
    };
    if (::setsid() < 0) return fail("setsid");
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) return fail("prctl");
    if (::getppid() != parent) ::_exit(127);  // the parent is already gone
    if (controlling_terminal && ::ioctl(output_fd, TIOCSCTTY, 0) < 0) return fail("TIOCSCTTY");
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd < 0) return fail("open /dev/null");
    // A terminal is also stdin, as for a user at a shell.
    const int input_fd = controlling_terminal ? output_fd : null_fd;
    if (::dup2(input_fd, 0) < 0 || ::dup2(output_fd, 1) < 0 || ::dup2(output_fd, 2) < 0) return fail("dup2");
  }
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
  FileDescriptor master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (master.get() < 0) throw_errno("posix_openpt");
  if (::grantpt(master.get()) < 0 || ::unlockpt(master.get()) < 0) throw_errno("grantpt");
  char name[128];
  if (::ptsname_r(master.get(), name, sizeof name) != 0) throw_errno("ptsname");
  FileDescriptor slave(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (slave.get() < 0) throw_errno(std::string("open ") + name);
  // Wide enough that table output is not wrapped; no echo, no "\n" -> "\r\n".
  winsize size{};
  size.ws_col = 200;
  size.ws_row = 50;
  ::ioctl(slave.get(), TIOCSWINSZ, &size);
  termios modes{};
  if (::tcgetattr(slave.get(), &modes) == 0) {
    modes.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    modes.c_oflag &= ~static_cast<tcflag_t>(ONLCR);
    ::tcsetattr(slave.get(), TCSANOW, &modes);
  }
  return PseudoTerminal{std::move(master), std::move(slave)};
}

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

void decode_wait_status(int status, CommandResult& result) {
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
    result.signal = 0;
  } else if (WIFSIGNALED(status)) {
    result.exit_code = -1;
    result.signal = WTERMSIG(status);
  }
}

Subprocess::Subprocess(const Command& command) {
  if (command.argv.empty()) throw CommandError("empty command");
  const std::string executable = resolve_executable(command.argv.front());

  FileDescriptor read_end;
  FileDescriptor child_end;
  switch (command.output) {
    case Output::capture: {
      int fds[2];
      if (::pipe2(fds, O_CLOEXEC) < 0) throw_errno("pipe");
      read_end = FileDescriptor(fds[0]);
      child_end = FileDescriptor(fds[1]);
      break;
    }
    case Output::pseudo_terminal: {
      PseudoTerminal terminal = open_pseudo_terminal();
      read_end = std::move(terminal.master);
      child_end = std::move(terminal.slave);
      break;
    }
    case Output::file:
      child_end = FileDescriptor(
          ::open(command.output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
      if (child_end.get() < 0) throw_errno("open " + command.output_file);
      break;
  }

  bp::environment environment = boost::this_process::environment();
  for (const auto& [key, value] : command.env) environment[key] = value;

  std::vector<std::string> arguments(command.argv.begin() + 1, command.argv.end());
  std::error_code error;
  bp::child child(bp::exe = executable, bp::args = arguments, bp::env = environment,
                  ChildSetup{{}, child_end.get(), command.output == Output::pseudo_terminal, ::getpid()},
                  error);
  if (error) throw CommandError(command.argv.front() + ": cannot start: " + error.message());
  pid_ = child.id();
  child.detach();  // we reap it ourselves, with the raw wait status
  output_fd_ = read_end.release();
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      output_fd_(std::exchange(other.output_fd_, -1)),
      status_(other.status_) {}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !status_) terminate(500ms);
  if (output_fd_ >= 0) ::close(output_fd_);
}

std::optional<int> Subprocess::poll() {
  if (status_ || pid_ <= 0) return status_;
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_) status_ = status;
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
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    status_ = status;
  }
  // Members of the group that outlived the leader go too.
  ::killpg(pid_, SIGKILL);
  return *status_;
}

CommandResult run_command(const Command& command) {
  const auto started = Clock::now();
  const auto deadline = started + command.timeout;
  Subprocess process(command);
  CommandResult result;

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
      result.output.append(buffer, static_cast<size_t>(count));
    else if (count == 0 || errno != EINTR)
      end_of_output = true;  // EIO on a pty whose last writer closed
  }
  // Drain what the killed process left in the pipe.
  if (fd >= 0 && result.timed_out) {
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    ssize_t count;
    while ((count = ::read(fd, buffer, sizeof buffer)) > 0)
      result.output.append(buffer, static_cast<size_t>(count));
  }

  decode_wait_status(*status, result);
  std::erase(result.output, '\r');
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return result;
}

}  // namespace ccci
