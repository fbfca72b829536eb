#include "ccci/conversation.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ccci {

namespace {

using Clock = std::chrono::steady_clock;

Command conversing(Command command) {
  command.output = Output::capture;
  command.input_pipe = true;
  command.errors_apart = true;
  return command;
}

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

}  // namespace

Conversation::Conversation(Command command)
    : name_(command.argv.empty() ? "" : command.argv.front()),
      answer_timeout_(command.timeout),
      process_(conversing(std::move(command))) {
  ::fcntl(process_.error_fd(), F_SETFL, O_NONBLOCK);  // read as it comes, never waited for
}

void Conversation::send(std::string_view text) {
  errors_.clear();  // what it says on stderr from here on belongs to this question
  if (process_.input_fd() < 0 || !write_without_sigpipe(process_.input_fd(), text))
    fail(std::string("cannot be asked: ") + std::strerror(errno));
}

void Conversation::read_errors() {
  char buffer[4096];
  ssize_t count = 0;
  while (errors_open_ && (count = ::read(process_.error_fd(), buffer, sizeof buffer)) > 0) {
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
    if (left.count() <= 0) fail("gave no answer in " + std::to_string(answer_timeout_.count()) + " ms");
    pollfd waiting[2] = {{process_.output_fd(), POLLIN, 0}, {process_.error_fd(), POLLIN, 0}};
    const int ready =
        ::poll(waiting, errors_open_ ? 2 : 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) fail(std::string("cannot be read: ") + std::strerror(errno));
    if (ready <= 0) continue;
    if (errors_open_ && waiting[1].revents != 0) read_errors();
    if (waiting[0].revents == 0) continue;
    const ssize_t count = ::read(process_.output_fd(), buffer, sizeof buffer);
    if (count > 0) {
      buffered_.append(buffer, static_cast<size_t>(count));
      return;
    }
    if (count == 0) fail("stopped answering");
    if (errno != EINTR && errno != EAGAIN) fail(std::string("cannot be read: ") + std::strerror(errno));
  }
}

std::string Conversation::read_line(std::size_t max_bytes) {
  const auto deadline = Clock::now() + answer_timeout_;
  size_t searched = 0;
  for (;;) {
    const auto end = buffered_.find('\n', searched);
    if (end != std::string::npos && end <= max_bytes) {
      std::string line = buffered_.substr(0, end);
      buffered_.erase(0, end + 1);
      return line;
    }
    if (buffered_.size() > max_bytes)
      fail("answered a line longer than " + std::to_string(max_bytes) + " bytes");
    searched = buffered_.size();
    fill(deadline);
  }
}

std::string Conversation::read_bytes(std::size_t count) {
  const auto deadline = Clock::now() + answer_timeout_;
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
