#include "run/host_requests.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "ccci/command_error.hpp"

namespace ccci {

namespace {

bool send_all(int fd, const std::string& text) {
  size_t sent = 0;
  while (sent < text.size()) {
    const ssize_t count = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) return false;
    sent += static_cast<size_t>(count);
  }
  return true;
}

}  // namespace

HostRequests::HostRequests(const RecipeJob& job, SharedBrowser* browser,
                           std::function<Clock::time_point()> deadline)
    : job_(job), browser_(browser), deadline_(std::move(deadline)) {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) < 0)
    throw CommandError(std::string("cannot make the test process's request socket: ") + std::strerror(errno));
  host_end_ = ends[0];
  child_end_ = ends[1];
  ::fcntl(host_end_, F_SETFL, O_NONBLOCK);
}

HostRequests::~HostRequests() {
  claim_->withdraw();  // a shot still under way writes nothing for a lane that ended
  for (const int fd : {host_end_, child_end_})
    if (fd >= 0) ::close(fd);
}

void HostRequests::child_started() {
  if (child_end_ >= 0) ::close(child_end_);
  child_end_ = -1;
}

void HostRequests::serve() {
  if (shooting_ && shooting_->wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    answer(shooting_->get());
    shooting_.reset();
  }
  if (host_end_ < 0) return;
  char buffer[kLongestRequest];
  const ssize_t count = ::read(host_end_, buffer, sizeof buffer);
  if (count <= 0) return;  // nothing yet, or the child is gone
  pending_.append(buffer, static_cast<size_t>(count));
  for (auto end = pending_.find('\n'); host_end_ >= 0 && end != std::string::npos;
       end = pending_.find('\n')) {
    const std::string line = pending_.substr(0, end);
    pending_.erase(0, end + 1);
    take(line);
  }
  if (pending_.size() > kLongestRequest) stop_hearing();  // not our protocol
}

void HostRequests::stop_hearing() {
  if (host_end_ >= 0) ::close(host_end_);
  host_end_ = -1;
  pending_.clear();
}

void HostRequests::take(const std::string& line) {
  const auto request = nlohmann::json::parse(line, nullptr, false);
  const auto* page =
      request.is_object() && request.size() == 1 && request.contains("shoot") && request["shoot"].is_string()
          ? request["shoot"].get_ptr<const std::string*>()
          : nullptr;
  std::string refusal;
  if (page == nullptr)
    refusal = "the host was asked something it does not do";
  else if (!is_page_path(*page))
    refusal = "the page to shoot is not a path on the app's domain";
  else if (shooting_)
    refusal = "a page of this lane is being shot already";
  if (!refusal.empty()) {
    answer(refusal);
    if (++refused_ >= kMostRefused) stop_hearing();
    return;
  }
  if (browser_ == nullptr || job_.screenshot_file.empty()) {
    answer("screenshots are off in this run");
    return;
  }
  shooting_ = browser_->shoot({.browser = job_.browser,
                               .domain = job_.domain,
                               .page = *page,
                               .http = job_.http,
                               .output = job_.screenshot_file,
                               .deadline = deadline_()},
                              claim_);
}

void HostRequests::answer(const std::optional<std::string>& missing) {
  const nlohmann::json reply{{"missing", missing ? nlohmann::json(*missing) : nlohmann::json(nullptr)}};
  // A browser's last words may be cut inside a character: replaced, never thrown over.
  const std::string line = reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (host_end_ >= 0 && !send_all(host_end_, line)) stop_hearing();  // gone, or not reading
}

std::optional<std::string> ask_host_to_shoot(int host_fd, const std::string& page,
                                             std::chrono::steady_clock::time_point deadline) {
  if (!send_all(host_fd, nlohmann::json{{"shoot", page}}.dump() + "\n")) return "the host could not be asked";
  std::string reply;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "the host did not answer in time";
    pollfd waiting{host_fd, POLLIN, 0};
    const int ready = ::poll(&waiting, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) return "the host could not be heard";
    if (ready <= 0) continue;
    char buffer[1024];
    const ssize_t count = ::read(host_fd, buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) return "the host hung up";
    reply.append(buffer, static_cast<size_t>(count));
    if (const auto end = reply.find('\n'); end != std::string::npos) {
      const auto answer = nlohmann::json::parse(reply.substr(0, end), nullptr, false);
      if (!answer.is_object() || !answer.contains("missing")) return "the host's answer was not understood";
      if (answer["missing"].is_null()) return std::nullopt;
      return answer["missing"].is_string() ? answer["missing"].get<std::string>()
                                           : "the host's answer was not understood";
    }
    if (reply.size() > 65536) return "the host's answer was not understood";
  }
}

}  // namespace ccci
