// The flow of one recipe test: deploy, readiness, probe, teardown (always).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ccci/redactor.hpp"
#include "model/job.hpp"
#include "model/result.hpp"
#include "run/screenshot.hpp"

namespace ccci {

/// Hears what the lifecycle does, as it does it.
class LifecycleObserver {
 public:
  virtual ~LifecycleObserver() = default;
  virtual void phase_started(Phase phase, std::chrono::seconds timeout) = 0;
  virtual void step_finished(const StepResult& step) = 0;
  /// Teardown ran to its end (whatever its steps said).
  virtual void teardown_finished() = 0;
  /// Teardown was skipped on purpose; `what` says what was kept and how to remove it.
  virtual void kept(const std::string& what) = 0;
  /// The checks the test declares, in order, before any of them runs: the host
  /// names the ones that never ran when the test process dies early.
  virtual void checks_declared(const std::vector<std::string>& /*checks*/) {}
  /// The test process ran the whole lifecycle. Its absence means the process
  /// ended early (a plugin that called exit(), a crash), whatever its exit code.
  virtual void test_finished() {}
  /// A value the test registered as secret: the host redacts it from what the
  /// test process prints and uses it for its own teardown.
  virtual void secret_added(const std::string& /*value*/) {}
  /// abra is about to run `subcommand` ("app deploy"): the report counts them per lane.
  virtual void abra_ran(const std::string& /*subcommand*/) {}
  /// The landing page was shot (`missing` empty) or could not be, and why.
  virtual void screenshot_taken(const std::string& /*missing*/) {}
  /// Shoots the landing page as `request` says; returns why there is no
  /// picture, or nullopt. Here with a browser of its own; the test process
  /// asks the host instead, whose one browser serves the whole run.
  virtual std::optional<std::string> shoot(const ScreenshotRequest& request) {
    return take_screenshot(request);
  }
};

using PlanSink = std::function<void(Phase, std::string_view)>;

/// The time a phase may take: a redeploy and an upgrade get a deploy's and a
/// readiness wait's together; backup and restore one more readiness wait (it
/// restores twice: into the running app, then onto emptied volumes).
std::chrono::seconds phase_timeout(const PhaseTimeouts& timeouts, Phase phase);

/// Runs `test` as `job` says, in this process. Exceptions from the plugin
/// become errored steps; teardown runs once deploy was attempted, unless the
/// keep policy says otherwise.
void run_lifecycle(RecipeTest& test, const RecipeJob& job, LifecycleObserver& observer);

/// Walks `test` as a run would, but runs nothing: abra is dry, checks are only
/// listed, and each would-be action goes to `plan`, in order.
void plan_lifecycle(RecipeTest& test, const RecipeJob& job, const PlanSink& plan);

/// The lint lane of `job` (no plugin, no deployment): `abra recipe lint` on
/// the target checkout, and a check that no error-severity rule fails.
void run_lint_lane(const RecipeJob& job, LifecycleObserver& observer);
void plan_lint_lane(const RecipeJob& job, const PlanSink& plan);

/// The checks `test` declares, in order, found by walking it dry.
std::vector<std::string> declared_checks(RecipeTest& test, const RecipeJob& job);

/// The child's side of a recipe test (`cc-ci exec-one`): loads the job's
/// plugin, declares its checks, runs its lifecycle and says it finished, all
/// as events for the host. Returns the process exit code.
/// `secrets_fd` (if not -1) is the host's pipe for the secrets the test
/// registers, `host_fd` (if not -1) its socket for requests (run/host_requests.hpp).
int execute_job_file(const std::filesystem::path& job_file, int secrets_fd, int host_fd = -1);

/// Only the teardown phase of `test` (the host uses it when a test process
/// died), redacting every secret `known` holds.
void run_teardown(RecipeTest& test, const RecipeJob& job, LifecycleObserver& observer, const Redactor& known);

}  // namespace ccci
