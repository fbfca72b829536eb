#include "run/child_channels.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/markup.hpp"
#include "ccci/process.hpp"

namespace ccci {

ChildChannels::ChildChannels(const std::filesystem::path& log_file, Redactor& redactor)
    : redactor_(redactor) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
    throw CommandError(std::string("cannot make a pipe: ") + std::strerror(errno));
  secrets_read_ = fds[0];
  secrets_write_ = fds[1];
  log_fd_ = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

ChildChannels::~ChildChannels() {
  for (int fd : {secrets_read_, secrets_write_, log_fd_})
    if (fd >= 0) ::close(fd);
}

void ChildChannels::child_started(int output_fd) {
  ::close(secrets_write_);
  secrets_write_ = -1;
  output_fd_ = output_fd;
  ::fcntl(output_fd_, F_SETFL, ::fcntl(output_fd_, F_GETFL) | O_NONBLOCK);
}

void ChildChannels::pump(std::chrono::milliseconds wait) {
  pollfd fds[2] = {{secrets_read_, POLLIN, 0}, {output_fd_, POLLIN, 0}};
  ::poll(fds, output_fd_ >= 0 ? 2 : 1, static_cast<int>(wait.count()));
  read_secrets();
  if (output_fd_ >= 0) read_output();
}

void ChildChannels::finish() {
  read_secrets();
  if (output_fd_ >= 0) read_output();
  if (!pending_output_.empty()) write_log(pending_output_ + "\n");
  pending_output_.clear();
}

std::string ChildChannels::unhex(std::string_view hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return bytes;
}

void ChildChannels::read_secrets() {
  char buffer[4096];
  for (ssize_t count; (count = ::read(secrets_read_, buffer, sizeof buffer)) > 0;)
    pending_secrets_.append(buffer, static_cast<size_t>(count));
  for (size_t end; (end = pending_secrets_.find('\n')) != std::string::npos;) {
    const std::string line = pending_secrets_.substr(0, end);
    pending_secrets_.erase(0, end + 1);
    if (line.size() % 2 == 0 && line.find_first_not_of("0123456789abcdef") == std::string::npos)
      redactor_.add(unhex(line));
  }
}

void ChildChannels::read_output() {
  char buffer[8192];
  for (ssize_t count; (count = ::read(output_fd_, buffer, sizeof buffer)) > 0;)
    pending_output_.append(buffer, static_cast<size_t>(count));
  // Whole lines only: a secret split over two reads is still masked.
  const auto end = pending_output_.rfind('\n');
  if (end != std::string::npos) {
    write_log(pending_output_.substr(0, end + 1));
    pending_output_.erase(0, end + 1);
  }
  if (pending_output_.size() > kLongestLine) {  // a runaway line without newline
    write_log(pending_output_ + "\n");
    pending_output_.clear();
  }
}

void ChildChannels::write_log(const std::string& text) {
  if (log_fd_ < 0) return;
  // A full disk loses log lines, never the run.
  // Made safe to `cat` (an app's escape sequences and invalid bytes never
  // reach a terminal or a CI log through the log file), redacted before and
  // after: a secret split by an escape sequence is whole once it is dropped.
  [[maybe_unused]] const bool written =
      write_all(log_fd_, redactor_.apply(terminal_text(redactor_.apply(text))));
}

}  // namespace ccci
