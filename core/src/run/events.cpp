#include "run/events.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "ccci/process.hpp"
#include "model/result_json.hpp"
#include "run/host_requests.hpp"

namespace ccci {

using nlohmann::json;

namespace {

constexpr std::chrono::seconds kLongestPhase{7LL * 24 * 3600};

}  // namespace

EventWriter::EventWriter(const std::filesystem::path& file, int secrets_fd, int host_fd)
    : secrets_fd_(secrets_fd), host_fd_(host_fd) {
  fd_ = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) throw std::runtime_error("cannot open " + file.string() + ": " + std::strerror(errno));
}

EventWriter::~EventWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void EventWriter::write(const json& event) {
  // Invalid UTF-8 from a plugin or abra becomes U+FFFD instead of an exception.
  const std::string line = event.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  if (!write_all(fd_, line))
    throw std::runtime_error(std::string("cannot write an event: ") + std::strerror(errno));
}

std::optional<std::string> EventWriter::shoot(const ScreenshotRequest& request) {
  if (host_fd_ < 0) return LifecycleObserver::shoot(request);
  // The host bounds the shot by the phase's deadline; its answer needs a moment more.
  return ask_host_to_shoot(host_fd_, request.page, request.deadline + std::chrono::seconds(2));
}

void EventWriter::secret_added(const std::string& value) {
  if (secrets_fd_ < 0) return;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string line;
  for (const unsigned char c : value) (line += kDigits[c >> 4]) += kDigits[c & 15];
  // Without this the host could log the value in clear: better to stop than to leak.
  if (!write_all(secrets_fd_, line + "\n")) throw std::runtime_error("cannot hand a secret to the host");
}

void EventWriter::phase_started(Phase phase, std::chrono::seconds timeout) {
  write({{"event", "phase"}, {"phase", to_string(phase)}, {"timeout_s", timeout.count()}});
}
void EventWriter::step_finished(const StepResult& step) {
  write({{"event", "step"}, {"step", to_json(step)}});
}
void EventWriter::teardown_finished() {
  write({{"event", "teardown_finished"}});
}
void EventWriter::screenshot_taken(const std::string& missing) {
  write({{"event", "screenshot"}, {"missing", missing}});
}

void EventWriter::kept(const std::string& what) {
  write({{"event", "kept"}, {"what", what}});
}
void EventWriter::checks_declared(const std::vector<std::string>& checks) {
  write({{"event", "checks"}, {"checks", checks}});
}
void EventWriter::test_finished() {
  write({{"event", "finished"}});
}
void EventWriter::abra_ran(const std::string& subcommand) {
  write({{"event", "abra"}, {"command", subcommand}});
}
void EventWriter::fatal(const std::string& message) {
  write({{"event", "fatal"}, {"message", message}});
}

std::vector<std::string> EventReader::drain(LifecycleObserver& observer) {
  std::vector<std::string> fatal;
  std::ifstream in(file_, std::ios::binary);
  if (!in) return fatal;
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  offset_ += chunk.size();
  partial_ += chunk;

  size_t start = 0;
  for (size_t end; (end = partial_.find('\n', start)) != std::string::npos; start = end + 1) {
    const json event = json::parse(partial_.substr(start, end - start), nullptr, false);
    if (event.is_discarded() || !event.is_object()) continue;  // not ours; never trusted
    try {
      const std::string type = event.value("event", "");
      if (type == "phase") {
        const Phase parsed = phase_from_string(event.at("phase").get<std::string>());
        const auto seconds = event.at("timeout_s").get<long long>();
        // The host adds this to its clock: a value past a week is not a timeout cc-ci sets.
        if (seconds < 0 || seconds > kLongestPhase.count()) continue;
        observer.phase_started(parsed, std::chrono::seconds(seconds));
      } else if (type == "step") {
        observer.step_finished(step_from_json(event.at("step")));
      } else if (type == "teardown_finished") {
        observer.teardown_finished();
      } else if (type == "screenshot") {
        observer.screenshot_taken(event.at("missing").get<std::string>());
      } else if (type == "kept") {
        observer.kept(event.at("what").get<std::string>());
      } else if (type == "checks") {
        observer.checks_declared(event.at("checks").get<std::vector<std::string>>());
      } else if (type == "abra") {
        observer.abra_ran(event.at("command").get<std::string>());
      } else if (type == "finished") {
        observer.test_finished();
      } else if (type == "fatal") {
        fatal.push_back(event.at("message").get<std::string>());
      }
    } catch (const std::exception&) {
      // A malformed event from a misbehaving plugin process is ignored.
    }
  }
  partial_.erase(0, start);
  return fatal;
}

}  // namespace ccci
