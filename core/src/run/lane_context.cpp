#include "run/lane_context.hpp"

#include <string>

namespace ccci {

LaneContext::LaneContext(const RecipeJob& job, LifecycleObserver& observer, AbraClient::Sink dry)
    : job_(job),
      plugin_dir_(job.plugin_file.parent_path()),
      observer_(observer),
      abra_(
          job.abra, redactor_, [this](std::string_view text) { log(text); }, std::move(dry)),
      app_abra_(abra_, job.domain,
                (job.abra.abra_dir.empty() ? default_abra_dir() : std::filesystem::path(job.abra.abra_dir)) /
                    "recipes" / job.recipe),
      docker_engine_(job.docker, job.server) {
  abra_.set_command_listener(
      [&observer](std::string_view command) { observer.abra_ran(std::string(command)); });
  redactor_.set_listener([&observer](const std::string& secret) { observer.secret_added(secret); });
}

void LaneContext::begin(Phase phase, std::chrono::seconds timeout) {
  phase_ = phase;
  rung_ = rung_of(phase);
  deadline_ = Clock::now() + timeout;
  abra_.set_deadline(deadline_);
  log("== " + std::string(to_string(phase)) + " (timeout " + std::to_string(timeout.count()) + "s)");
  observer_.phase_started(phase, timeout);
}

}  // namespace ccci
