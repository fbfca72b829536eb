// The host's side of one recipe test: a child process to run it, a watchdog
// over its phases, and teardown from the outside when the child cannot.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "model/job.hpp"
#include "model/result.hpp"
#include "run/run_stop.hpp"
#include "run/shared_browser.hpp"

namespace ccci {

/// What the scheduler reports as a run goes on (any of them may be empty).
struct Progress {
  std::function<void(const RecipeJob&, Phase)> phase_started;
  std::function<void(const RecipeJob&, const StepResult&)> step_finished;
  /// One lane of a recipe ended (its result holds that lane only, judged alone).
  std::function<void(const RecipeJob&, const RecipeResult&)> lane_finished;
  /// Every lane of a recipe ended: the recipe's result, judged.
  std::function<void(const RecipeResult&)> recipe_finished;
};

/// How long past a phase's timeout the host waits before it kills the test
/// process: the child ends its own abra calls at the deadline and needs a
/// moment to record that.
inline constexpr std::chrono::seconds kWatchdogGrace{5};

/// What the host recorded of one lane's test process, the host's own steps
/// included. Only facts: the lane's owner (LaneRun, run/lane_run.hpp) makes
/// them the lane's result, so a result is assembled in one place.
struct LaneRecord {
  std::vector<StepResult> steps{};  ///< carry the job's lane, redacted
  std::string kept{};               ///< what --keep kept (empty: nothing)
  Screenshot screenshot{};          ///< as the child took it; the file is the owner's to name
  std::map<std::string, int> abra_calls{};
  std::chrono::milliseconds duration{0};  ///< from the child's start to the end of the host's teardown
};

/// Runs `job` in `self exec-one --job <job_file>`. Kills it when a phase
/// overruns or the run must stop; when it did not finish its own teardown,
/// tears the app down from here. The landing page it asks for is shot by
/// `browser` (null: none is). Never throws for test faults.
LaneRecord supervise(const std::filesystem::path& self, const RecipeJob& job,
                     const std::filesystem::path& job_file, const RunStop& stop, const Progress& progress,
                     SharedBrowser* browser);

}  // namespace ccci
