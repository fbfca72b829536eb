#include "run/lane_run.hpp"

#include "base/files.hpp"
#include "ccci/abra_client.hpp"
#include "model/judge.hpp"
#include "recipe/target.hpp"
#include "run/janitor.hpp"

namespace ccci {

namespace fs = std::filesystem;

namespace {

// Each lane gets its own ABRA_DIR whose entries link to the shared one
// (servers stay where abra keeps them), except recipes/: the lane's own clone
// of the recipe at its target, so that two lanes of one recipe at different
// revisions never see each other's checkout.
void prepare_abra_dir(const RecipeJob& job) {
  const fs::path abra_dir = job.abra.abra_dir;
  fs::create_directories(abra_dir / "recipes");
  const fs::path base = default_abra_dir();
  std::error_code error;
  if (fs::is_directory(base, error)) {
    for (const auto& entry : fs::directory_iterator(base)) {
      const fs::path link = abra_dir / entry.path().filename();
      if (entry.path().filename() == "recipes" || fs::exists(fs::symlink_status(link))) continue;
      fs::create_directory_symlink(fs::absolute(entry.path()), link);
    }
  }
  if (job.target.commit.empty()) return;
  RecipeTarget checkout = job.target;
  // The upgrade lane starts from a release: abra checks its tag out of a
  // clean clone; the change's own working tree comes in at the move.
  if (job.lane == Lane::upgrade) checkout.local_changes = false;
  check_out_target(checkout, abra_dir / "recipes" / job.recipe);
}

}  // namespace

LaneRun::LaneRun(const PlannedRecipe& entry, const SharedByLanes& shared)
    : entry_(entry), shared_(shared), job_(entry.job) {}

LaneRun::Ended LaneRun::run(const std::optional<std::string>& held_back) {
  if (!entry_.not_run.empty()) return {.result = finished(not_run())};
  if (!entry_.broken.empty()) return {.result = finished(broken())};
  if (held_back) return {.result = finished(not_started(*held_back))};
  RecipeResult result = on_a_server();
  const Status status = overall_status(result.steps);
  const bool failed = status == Status::failed || status == Status::errored;
  return {.result = finished(std::move(result)), .failed = failed};
}

// The slot is given back once the lane's app is torn down and its work
// folder gone, before anyone hears that the lane ended.
RecipeResult LaneRun::on_a_server() {
  // Linting deploys nothing, so it takes no server slot.
  const bool deploys = job_.lane != Lane::lint;
  const auto server =
      deploys ? shared_.servers.acquire(job_.server, shared_.stop) : std::optional<std::string>("");
  if (!server) return not_started(shared_.stop.reason().value_or("the run stopped"));
  job_.server = *server;
  RecipeResult result = supervised();
  if (deploys) shared_.servers.release(*server);
  return result;
}

RecipeResult LaneRun::supervised() {
  const fs::path work = job_.events_file.parent_path();
  RecipeResult result;
  // Nothing thrown here may end the run (std::terminate in a worker): the
  // lane is errored instead. supervise() tears down whatever it deployed.
  try {
    const fs::path job_file = prepare_work_folder(work);
    std::optional<RunningMarker> running;  // keeps the janitor away from the app
    if (job_.lane != Lane::lint) running.emplace(shared_.state_dir, job_.domain);
    result =
        recorded(supervise(shared_.self, job_, job_file, shared_.stop, shared_.progress, shared_.browser));
  } catch (const std::exception& error) {
    result = could_not_run(error.what());
  }
  std::error_code ignored;
  fs::remove_all(work, ignored);
  return result;
}

// A clean slate; returns the job file the test process reads.
fs::path LaneRun::prepare_work_folder(const fs::path& work) const {
  // The work folder is private (0700): its ABRA_DIR links to the shared
  // servers, whose env files hold other apps' settings.
  fs::remove_all(work);
  fs::create_directories(work);
  fs::permissions(work.parent_path(), fs::perms::owner_all);
  fs::permissions(work, fs::perms::owner_all);
  fs::create_directories(job_.log_file.parent_path());
  fs::remove(job_.log_file);
  prepare_abra_dir(job_);
  fs::path job_file = work / "job.json";
  write_file_atomically(job_file, to_json(job_).dump(2));
  return job_file;
}

RecipeResult LaneRun::recorded(LaneRecord record) const {
  RecipeResult result{.recipe = job_.recipe,
                      .server = job_.server,
                      .domain = job_.domain,
                      .duration = record.duration,
                      .kept = record.kept,
                      .steps = std::move(record.steps),
                      .screenshot = std::move(record.screenshot)};
  result.lanes = {LaneResult{.lane = job_.lane,
                             .server = job_.server,
                             .domain = job_.domain,
                             .status = overall_status(result.steps),
                             .duration = result.duration,
                             .kept = result.kept,
                             .from = job_.lane == Lane::upgrade ? job_.abra.deploy.version : "",
                             .abra_calls = std::move(record.abra_calls)}};
  return result;
}

// A lane that is not run at all: its rung's phase says why (unverified).
// A fresh lane not run records nothing: its rungs say no deploy was attempted.
RecipeResult LaneRun::not_run() const {
  RecipeResult result{.recipe = job_.recipe};
  if (job_.lane != Lane::fresh)
    result.steps.push_back({.phase = job_.lane == Lane::lint ? Phase::lint : Phase::upgrade,
                            .kind = StepKind::check,
                            .name = std::string(to_string(job_.lane)) + " lane",
                            .status = Status::skipped,
                            .message = entry_.not_run});
  result.lanes = {LaneResult{.lane = job_.lane, .status = Status::skipped}};
  return result;
}

// A lane whose recipe cannot be deployed as it is: its first step fails, and says why.
RecipeResult LaneRun::broken() const {
  RecipeResult result{.recipe = job_.recipe, .server = job_.server, .domain = job_.domain};
  result.steps.push_back({.phase = Phase::deploy,
                          .name = "read the recipe's compose files",
                          .status = Status::failed,
                          .message = entry_.broken});
  result.lanes = {LaneResult{.lane = job_.lane, .status = Status::failed}};
  return result;
}

RecipeResult LaneRun::not_started(const std::string& why) const {
  RecipeResult result{.recipe = job_.recipe, .server = job_.server, .domain = job_.domain};
  result.steps.push_back({.phase = job_.lane == Lane::lint ? Phase::lint : Phase::deploy,
                          .name = "not started",
                          .status = Status::skipped,
                          .message = "not started: " + why});
  result.lanes = {LaneResult{.lane = job_.lane,
                             .server = job_.server,
                             .domain = job_.domain,
                             .status = overall_status(result.steps)}};
  return result;
}

RecipeResult LaneRun::could_not_run(const std::string& why) const {
  RecipeResult result{.recipe = job_.recipe, .server = job_.server, .domain = job_.domain};
  result.steps.push_back({.phase = job_.lane == Lane::lint ? Phase::lint : Phase::deploy,
                          .name = "prepare the test",
                          .status = Status::errored,
                          .message = "cc-ci could not run this test: " + why});
  result.lanes = {LaneResult{.lane = job_.lane,
                             .server = job_.server,
                             .domain = job_.domain,
                             .status = overall_status(result.steps)}};
  return result;
}

// What every lane's result says whichever way it ended: the revision, the
// lane of each step, where its log and picture are; then its judgement.
RecipeResult LaneRun::finished(RecipeResult result) const {
  result.target = job_.target;
  for (auto& step : result.steps) step.lane = job_.lane;
  const fs::path report_dir = job_.log_file.parent_path().parent_path();
  if (entry_.not_run.empty()) result.lanes.front().log = fs::relative(job_.log_file, report_dir).string();
  if (!job_.screenshot_file.empty()) {
    std::error_code error;
    if (result.screenshot.attempted && result.screenshot.missing.empty() &&
        fs::exists(job_.screenshot_file, error))
      result.screenshot.file = fs::relative(job_.screenshot_file, report_dir).string();
    else
      fs::remove(job_.screenshot_file, error);  // an earlier run's picture is not this one's
  }
  judge(result);
  return result;
}

}  // namespace ccci
