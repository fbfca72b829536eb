// The child-to-host channel: one JSON object per line, appended to a file.
// A line is written whole with one write(2), so the host never reads half a
// line, and everything up to a crash is kept.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "run/lifecycle.hpp"

namespace ccci {

/// The child's side: a LifecycleObserver that appends events to a file.
class EventWriter final : public LifecycleObserver {
 public:
  /// `secrets_fd`: where secret_added() writes (a pipe to the host, never a file); -1 drops them.
  /// `host_fd`: the host's socket for requests; -1: shoot() starts a browser of its own.
  explicit EventWriter(const std::filesystem::path& file, int secrets_fd = -1, int host_fd = -1);
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;
  ~EventWriter() override;

  void phase_started(Phase phase, std::chrono::seconds timeout) override;
  void step_finished(const StepResult& step) override;
  void teardown_finished() override;
  void kept(const std::string& what) override;
  void checks_declared(const std::vector<std::string>& checks) override;
  void test_finished() override;
  void secret_added(const std::string& value) override;
  void abra_ran(const std::string& subcommand) override;
  void screenshot_taken(const std::string& missing) override;
  std::optional<std::string> shoot(const ScreenshotRequest& request) override;
  /// The child could not run the test at all.
  void fatal(const std::string& message);

 private:
  void write(const nlohmann::json& event);
  int fd_ = -1;
  int secrets_fd_ = -1;
  int host_fd_ = -1;
};

/// The host's side: reads the complete lines added since the last call and
/// hands each event to an observer.
class EventReader {
 public:
  explicit EventReader(std::filesystem::path file) : file_(std::move(file)) {}
  /// Returns the messages of "fatal" events; the others go to `observer`.
  std::vector<std::string> drain(LifecycleObserver& observer);

 private:
  std::filesystem::path file_;
  std::uintmax_t offset_ = 0;
  std::string partial_;
};

}  // namespace ccci
