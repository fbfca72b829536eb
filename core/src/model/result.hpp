// What a run found, in the words every part of cc-ci shares: phases, step
// statuses, steps, lanes, recipe results and the run report.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/rungs.hpp"
#include "recipe/target.hpp"

namespace ccci {

/// The stages of a lane, each under its own timeout. A phase proves one rung
/// (rung_of): deploy the first, probe the checks (and serving, through its
/// readiness step), the data phases theirs, teardown the clean teardown.
enum class Phase { deploy, probe, persistence, backup_restore, upgrade, lint, teardown };
/// failed: a check said no. errored: the check could not be run (abra missing,
/// timeout, crash). skipped: not run, and the message says why. flaky: a
/// check that passed only when retried (--retries); it counts as a pass for
/// levels and the exit code, and is reported as flaky, never as passed.
enum class Status { passed, failed, errored, skipped, flaky };
/// What a step is, so levels can be computed: a lifecycle action, the host's
/// readiness probe, or a recipe-specific check.
enum class StepKind { action, readiness, check };

/// Every phase, status, step kind and lane, in the order the schema lists them.
inline constexpr std::array kPhases = {Phase::deploy,         Phase::probe,   Phase::persistence,
                                       Phase::backup_restore, Phase::upgrade, Phase::lint,
                                       Phase::teardown};
inline constexpr std::array kStatuses = {Status::passed, Status::failed, Status::errored, Status::skipped,
                                         Status::flaky};
inline constexpr std::array kStepKinds = {StepKind::action, StepKind::readiness, StepKind::check};
inline constexpr std::array kLanes = {Lane::fresh, Lane::upgrade, Lane::lint};

std::string_view to_string(Phase phase);
Rung rung_of(Phase phase);

/// A skipped step whose message starts so makes its phase's rung not_applicable.
inline constexpr std::string_view kNotApplicable = "not applicable: ";
/// The message of the skipped `seed()` step of a plugin without data hooks.
inline constexpr std::string_view kNoSeedHook =
    "seed() wrote no data (the plugin has no seed hook, or the recipe gives it nowhere to write), so none "
    "can be shown to survive";
/// The check that inspects the server after teardown (the clean-teardown rung).
inline constexpr std::string_view kNothingLeft = "nothing of the app is left on the server";
/// The host's own removal of a stack that the recipe's teardown left.
inline constexpr std::string_view kHostRemovedStack = "docker stack rm (teardown did not finish)";
std::string_view to_string(Status status);
std::string_view to_string(StepKind kind);

struct StepResult {
  Lane lane = Lane::fresh;  ///< set by the host, which knows which lane it runs
  Phase phase = Phase::deploy;
  StepKind kind = StepKind::action;
  std::string name{};
  Status status = Status::passed;
  std::chrono::milliseconds duration{0};
  std::string message{};
};

std::string_view to_string(Lane lane);
/// "upgrade" -> Lane::upgrade; throws std::invalid_argument for anything else.
Lane lane_from_string(const std::string& text);

/// One lane of a recipe: its own deployment (none for lint) on its own server slot.
struct LaneResult {
  Lane lane = Lane::fresh;
  std::string server{};
  std::string domain{};
  Status status = Status::skipped;
  std::chrono::milliseconds duration{0};
  std::string log{};   ///< relative to the report dir
  std::string kept{};  ///< what --keep kept
  std::string from{};  ///< upgrade: the release the lane started from
  /// abra subcommands the lane ran ("app new": 1, "app deploy": 3), the host's own teardown included.
  std::map<std::string, int> abra_calls{};
};

/// The picture of the app's landing page, taken in the fresh lane once the app was ready.
struct Screenshot {
  bool attempted = false;
  std::string file{};     ///< relative to the report dir; empty: none
  std::string missing{};  ///< why there is none
};

struct RecipeResult {
  std::string recipe{};
  std::string server{};
  std::string domain{};
  Status status = Status::skipped;
  int level = 0;
  std::string level_reason{};  ///< why the level is not higher
  std::chrono::milliseconds duration{0};
  std::string log{};                ///< path of the recipe's log, relative to the report dir
  std::string kept{};               ///< non-empty when teardown was skipped on purpose: what was kept
  RecipeTarget target{};            ///< the revision tested (empty when none was resolved)
  std::vector<RungResult> rungs{};  ///< one per rung, 1-8, once judged
  std::vector<LaneResult> lanes{};  ///< in lane order; steps carry their lane
  std::vector<StepResult> steps{};
  Screenshot screenshot{};
};

struct RunReport {
  std::string run_id;
  std::chrono::system_clock::time_point started_at;
  std::chrono::system_clock::time_point finished_at;
  bool interrupted = false;
  std::vector<RecipeResult> recipes;
};

/// passed or flaky: what levels and the exit code treat as a pass.
bool counts_as_pass(Status status);
/// "deploy" -> Phase::deploy; throws std::invalid_argument for anything else.
Phase phase_from_string(const std::string& text);
/// "passed" -> Status::passed; throws std::invalid_argument for anything else.
Status status_from_string(const std::string& text);
/// "check" -> StepKind::check; throws std::invalid_argument for anything else.
StepKind step_kind_from_string(const std::string& text);

/// errored beats failed beats flaky beats passed; a recipe with no steps was skipped.
Status overall_status(const std::vector<StepResult>& steps);
/// How many recipes of a run ended in each status: counted here only.
struct StatusCounts {
  int passed = 0, failed = 0, errored = 0, skipped = 0, flaky = 0;
};
StatusCounts count_statuses(const RunReport& report);
/// How long the run took, from its start to its end each to the millisecond,
/// as results.json publishes them: so its duration_ms and its two times agree.
std::chrono::milliseconds run_duration(const RunReport& report);
/// Every recipe was tested and passed (or was flaky). A recipe that was not
/// tested (--timeout, --fail-fast) never counts as passed.
bool run_passed(const RunReport& report);

}  // namespace ccci
