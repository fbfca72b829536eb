#include "ccci/conversation.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "ccci/command_error.hpp"

namespace ccci {

namespace {

using Clock = std::chrono::steady_clock;

Command conversing(Command command, Channel channel, const int (&asked)[2], const int (&answered)[2]) {
  command.output = Output::capture;
  command.input_pipe = channel == Channel::stdio;
  command.errors_apart = channel == Channel::stdio;
  if (channel == Channel::fds_3_and_4) command.extra_fds = {asked[0], answered[1]};
  return command;
}

// With Channel::fds_3_and_4, the pipe it reads questions from and the one it
// answers on (close-on-exec here: the child's copies are made for it alone).
struct PipePair {
  int asked[2] = {-1, -1};
  int answered[2] = {-1, -1};
  explicit PipePair(Channel channel) {
    if (channel != Channel::fds_3_and_4) return;
    if (::pipe2(asked, O_CLOEXEC) < 0 || ::pipe2(answered, O_CLOEXEC) < 0) {
      const int saved = errno;
      close_child_ends();
      for (const int fd : {asked[1], answered[0]})
        if (fd >= 0) ::close(fd);
      throw CommandError(std::string("cannot make a pipe: ") + std::strerror(saved));
    }
  }
  void close_child_ends() {
    for (int* fd : {&asked[0], &answered[1]})
      if (*fd >= 0) ::close(std::exchange(*fd, -1));
  }
};

// A write to a pipe whose reader is gone raises SIGPIPE, which would end
// cc-ci: blocked in this thread for the write, and a pending one taken back.
bool write_without_sigpipe(int fd, std::string_view text) {
  sigset_t pipe_only;
  sigset_t before;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &before);
  const bool written = write_all(fd, text);
  if (!written && errno == EPIPE) {
    const timespec now{};
    while (sigtimedwait(&pipe_only, nullptr, &now) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  return written;
}

// Starts the command; with Channel::fds_3_and_4 `ask` and `answer` become our
// ends of its pipes, closed again when it cannot start.
Subprocess start(Command command, Channel channel, int& ask, int& answer) {
  PipePair pipes(channel);
  try {
    Subprocess process(conversing(std::move(command), channel, pipes.asked, pipes.answered));
    pipes.close_child_ends();  // its copies only: end of file then means it is gone
    ask = pipes.asked[1];
    answer = pipes.answered[0];
    return process;
  } catch (...) {
    pipes.close_child_ends();
    for (const int fd : {pipes.asked[1], pipes.answered[0]})
      if (fd >= 0) ::close(fd);
    throw;
  }
}

}  // namespace

Conversation::Conversation(Command command, Channel channel)
    : name_(command.argv.empty() ? "" : command.argv.front()),
      answer_timeout_(command.timeout),
      process_(start(std::move(command), channel, own_ask_fd_, own_answer_fd_)) {
  if (channel == Channel::stdio) {
    ask_fd_ = process_.input_fd();
    answer_fd_ = process_.output_fd();
    errors_fd_ = process_.error_fd();
  } else {
    ask_fd_ = own_ask_fd_;
    answer_fd_ = own_answer_fd_;
    errors_fd_ = process_.output_fd();
  }
  ::fcntl(errors_fd_, F_SETFL, O_NONBLOCK);  // read as it comes, never waited for
}

Conversation::~Conversation() {
  for (const int fd : {own_ask_fd_, own_answer_fd_})
    if (fd >= 0) ::close(fd);
}

void Conversation::send(std::string_view text) {
  errors_.clear();  // what it says on stderr from here on belongs to this question
  if (ask_fd_ < 0 || !write_without_sigpipe(ask_fd_, text))
    fail(std::string("cannot be asked: ") + std::strerror(errno));
}

void Conversation::read_errors() {
  char buffer[4096];
  ssize_t count = 0;
  while (errors_open_ && (count = ::read(errors_fd_, buffer, sizeof buffer)) > 0) {
    errors_.append(buffer, static_cast<size_t>(count));
    if (errors_.size() > kErrorsKept) errors_.erase(0, errors_.size() - kErrorsKept);
  }
  if (count == 0) errors_open_ = false;  // closed: no more polling it
}

// Its stderr is read as it comes, or a chatty git would fill the pipe and
// block before it answers.
void Conversation::fill(Clock::time_point deadline) {
  char buffer[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) fail("gave no answer in " + std::to_string(waiting_for_.count()) + " ms");
    pollfd waiting[2] = {{answer_fd_, POLLIN, 0}, {errors_fd_, POLLIN, 0}};
    const int ready =
        ::poll(waiting, errors_open_ ? 2 : 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) fail(std::string("cannot be read: ") + std::strerror(errno));
    if (ready <= 0) continue;
    if (errors_open_ && waiting[1].revents != 0) read_errors();
    if (waiting[0].revents == 0) continue;
    const ssize_t count = ::read(answer_fd_, buffer, sizeof buffer);
    if (count > 0) {
      buffered_.append(buffer, static_cast<size_t>(count));
      return;
    }
    if (count == 0) fail("stopped answering");
    if (errno != EINTR && errno != EAGAIN) fail(std::string("cannot be read: ") + std::strerror(errno));
  }
}

std::string Conversation::read_line(std::size_t max_bytes) {
  return read_until('\n', max_bytes, Clock::now() + answer_timeout_);
}

std::string Conversation::read_until(char end, std::size_t max_bytes, Clock::time_point deadline) {
  waiting_for_ = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  size_t searched = 0;
  for (;;) {
    const auto found = buffered_.find(end, searched);
    if (found != std::string::npos && found <= max_bytes) {
      std::string answer = buffered_.substr(0, found);
      buffered_.erase(0, found + 1);
      return answer;
    }
    if (buffered_.size() > max_bytes)
      fail("answered " + std::string(end == '\n' ? "a line" : "a message") + " longer than " +
           std::to_string(max_bytes) + " bytes");
    searched = buffered_.size();
    fill(deadline);
  }
}

std::string Conversation::read_bytes(std::size_t count) {
  return read_bytes(count, Clock::now() + answer_timeout_);
}

std::string Conversation::read_bytes(std::size_t count, Clock::time_point deadline) {
  waiting_for_ = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  while (buffered_.size() < count) fill(deadline);
  std::string bytes = buffered_.substr(0, count);
  buffered_.erase(0, count);
  return bytes;
}

std::string Conversation::why_stopped() {
  std::string said;
  if (const auto status = process_.poll()) {
    CommandResult ended;
    decode_wait_status(*status, ended);
    said = ended.describe();
  }
  // The last line of what it printed on stderr for this question.
  read_errors();
  const std::string errors = last_line(errors_).substr(0, 300);
  if (said.empty() || errors.empty()) return said + errors;
  return said + ": " + errors;
}

void Conversation::fail(const std::string& what) {
  const int saved = errno;
  // A moment for an ending process to be reaped, so its exit status is named.
  for (int tries = 0; tries < 20 && !process_.poll(); ++tries) ::usleep(5000);
  errno = saved;
  const std::string why = why_stopped();
  throw CommandError(name_ + " " + what + (why.empty() ? "" : " (" + why + ")"));
}

}  // namespace ccci
