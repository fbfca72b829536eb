#include "ccci/process.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <pthread.h>
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
constexpr size_t kMostExtraFds = 4;

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
// stdin from /dev/null or our pipe, the extra descriptors as fds 3, 4, … if asked,
// every other descriptor closed on exec (no log file or pipe of the host leaks
// into abra), and death with the thread that started it, so no command
// outlives cc-ci. Any failure ends the child before exec: a half set-up child
// must never run the command.
struct ChildSetup : bp::extend::handler {
  int output_fd;
  bool terminal;
  const int* extra_fds;  // the Command's, which outlives the child's set-up
  int extra_count;
  int input_fd;  // -1: /dev/null
  int error_fd;  // -1: with the output
  pid_t parent;
  char** environment;
  const sigset_t* host_mask;  // the starting thread's signal mask, all blocked while vfork runs

  template <typename Executor>
  void on_setup(Executor& exec) const {
    exec.env = environment;  // built by us: Boost 1.74's environment lookup over-reads (ASan)
  }

  template <typename Executor>
  void on_exec_setup(Executor& exec) const {
    // `what` stays within std::string's inline buffer (15 characters), so
    // Boost's copy of it allocates nothing in the memory the host shares.
    auto fail = [&exec](const char* what) {
      exec.set_error(std::error_code(errno, std::system_category()), what);  // tells the parent
      ::_exit(127);
    };
    // The host's signal handlers would run here, in its memory (a Ctrl-C
    // counted twice): each is reset to the default before the mask that
    // blocked every signal across vfork is lifted. Ignored ones stay ignored.
    for (int sig = 1; sig < NSIG; ++sig) {
      struct sigaction action {};
      if (::sigaction(sig, nullptr, &action) == 0 && action.sa_handler != SIG_IGN &&
          action.sa_handler != SIG_DFL) {
        action = {};
        action.sa_handler = SIG_DFL;
        ::sigaction(sig, &action, nullptr);
      }
    }
    ::pthread_sigmask(SIG_SETMASK, host_mask, nullptr);
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
    // Each extra descriptor first goes above every target, so that putting
    // one in place never closes another that is still to be moved.
    const int first_closed = 3 + extra_count;
    int moved[kMostExtraFds] = {};
    for (int i = 0; i < extra_count; ++i)
      if ((moved[i] = ::fcntl(extra_fds[i], F_DUPFD_CLOEXEC, first_closed)) < 0) fail("fcntl");
    for (int i = 0; i < extra_count; ++i)
      if (::dup2(moved[i], 3 + i) < 0) fail("dup2");  // dup2 clears close-on-exec on the copy
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

}  // namespace

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

// Every signal blocked in this thread for the object's lifetime.
struct SignalsBlocked {
  sigset_t before{};
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &before);
  }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;
  ~SignalsBlocked() { ::pthread_sigmask(SIG_SETMASK, &before, nullptr); }
};

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
  if (command.extra_fds.size() > kMostExtraFds)
    throw CommandError(command.argv.front() + ": too many extra descriptors");
  const std::string executable = resolve_executable(command.argv.front());
  Pipe output = open_output(command);
  // The pipes the child reads its input from and writes its errors to.
  Pipe input = command.input_pipe ? open_pipe() : Pipe();
  Pipe errors = command.errors_apart && command.output == Output::capture ? open_pipe() : Pipe();

  Environment environment(command.env);
  std::vector<std::string> arguments(command.argv.begin() + 1, command.argv.end());
  std::error_code error;
  // No signal is handled in the vfork child before it resets the handlers.
  const SignalsBlocked blocked;
  bp::child child(bp::exe = executable, bp::args = arguments,
                  ChildSetup{{},
                             output.write.get(),
                             command.output == Output::pseudo_terminal,
                             command.extra_fds.data(),
                             static_cast<int>(command.extra_fds.size()),
                             input.read.get(),
                             errors.write.get(),
                             ::getpid(),
                             environment.get(),
                             &blocked.before},
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

}  // namespace ccci
