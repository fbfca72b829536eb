// The flow of one recipe test: deploy, readiness, probe, teardown (always).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "job.hpp"
#include "report.hpp"

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
};

using PlanSink = std::function<void(Phase, std::string_view)>;

/// Runs `test` as `job` says, in this process. Exceptions from the plugin
/// become errored steps; teardown runs once deploy was attempted, unless the
/// keep policy says otherwise.
void run_lifecycle(RecipeTest& test, const RecipeJob& job, LifecycleObserver& observer);

/// Walks `test` as a run would, but runs nothing: abra is dry, checks are only
/// listed, and each would-be action goes to `plan`, in order.
void plan_lifecycle(RecipeTest& test, const RecipeJob& job, const PlanSink& plan);

/// Only the teardown phase of `test` (the host uses it when a test process died).
void run_teardown(RecipeTest& test, const RecipeJob& job, LifecycleObserver& observer);

}  // namespace ccci
