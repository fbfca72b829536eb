#include "run/runner.hpp"

#include <condition_variable>
#include <cstdlib>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "base/files.hpp"
#include "base/markup.hpp"
#include "ccci/abra_client.hpp"
#include "model/judge.hpp"
#include "model/results_reader.hpp"
#include "recipe/compose.hpp"
#include "recipe/names.hpp"
#include "run/janitor.hpp"

namespace ccci {

namespace fs = std::filesystem;

namespace {

// Each recipe test gets its own ABRA_DIR whose entries link to the shared one
// (servers stay where abra keeps them), except recipes/: the test's own clone
// of the recipe at its target, so that two tests of one recipe at different
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

// The servers of a run and how many tests each is running. A worker takes a
// slot before it starts a test and gives it back after teardown, so no server
// ever runs more tests than its capacity.
class ServerPool {
 public:
  explicit ServerPool(std::vector<ServerSlot> slots) : slots_(std::move(slots)), busy_(slots_.size(), 0) {}

  /// The least busy server with room (preferring `preferred`); waits for one.
  /// Returns nullopt if the run must stop while waiting.
  std::optional<std::string> acquire(const std::string& preferred, const RunStop& stop) {
    std::unique_lock lock(mutex_);
    for (;;) {
      std::optional<size_t> best;
      for (size_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].capacity > 0 && busy_[i] >= slots_[i].capacity) continue;
        if (!best || slots_[i].name == preferred ||
            (slots_[*best].name != preferred && busy_[i] < busy_[*best]))
          best = i;
      }
      if (best) {
        ++busy_[*best];
        return slots_[*best].name;
      }
      if (stop.reason()) return std::nullopt;
      freed_.wait_for(lock, std::chrono::milliseconds(100));
    }
  }

  void release(const std::string& name) {
    {
      std::scoped_lock lock(mutex_);
      for (size_t i = 0; i < slots_.size(); ++i)
        if (slots_[i].name == name) --busy_[i];
    }
    freed_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<ServerSlot> slots_;
  std::vector<int> busy_;
};

RecipeResult not_started(const RecipeJob& job, const std::string& why) {
  RecipeResult result{.recipe = job.recipe, .server = job.server, .domain = job.domain, .target = job.target};
  result.steps.push_back({.lane = job.lane,
                          .phase = job.lane == Lane::lint ? Phase::lint : Phase::deploy,
                          .name = "not started",
                          .status = Status::skipped,
                          .message = why});
  return result;
}

// A lane that is not run at all: its rung's phase says why (unverified).
// A fresh lane not run records nothing: its rungs say no deploy was attempted.
RecipeResult not_run(const RecipeJob& job, const std::string& why) {
  RecipeResult result{.recipe = job.recipe, .target = job.target};
  if (job.lane != Lane::fresh)
    result.steps.push_back({.lane = job.lane,
                            .phase = job.lane == Lane::lint ? Phase::lint : Phase::upgrade,
                            .kind = StepKind::check,
                            .name = std::string(to_string(job.lane)) + " lane",
                            .status = Status::skipped,
                            .message = why});
  result.lanes = {LaneResult{.lane = job.lane, .status = Status::skipped}};
  return result;
}

// A lane whose recipe cannot be deployed as it is: its first step fails, and says why.
RecipeResult broken_lane(const RecipeJob& job, const std::string& why) {
  RecipeResult result{.recipe = job.recipe, .server = job.server, .domain = job.domain, .target = job.target};
  result.steps.push_back({.lane = job.lane,
                          .phase = Phase::deploy,
                          .name = "read the recipe's compose files",
                          .status = Status::failed,
                          .message = why});
  result.lanes = {LaneResult{.lane = job.lane, .status = Status::failed}};
  return result;
}

// A recipe's result from its lanes (in lane order): their steps and lanes
// together, the fresh lane's server, domain and log, then judged as a whole.
RecipeResult merge_lanes(const std::vector<const RecipeResult*>& lanes) {
  RecipeResult merged{.recipe = lanes.front()->recipe, .target = lanes.front()->target};
  for (const RecipeResult* lane : lanes) {
    merged.steps.insert(merged.steps.end(), lane->steps.begin(), lane->steps.end());
    merged.lanes.insert(merged.lanes.end(), lane->lanes.begin(), lane->lanes.end());
    merged.duration += lane->duration;
    if (!lane->kept.empty()) merged.kept += (merged.kept.empty() ? "" : "; ") + lane->kept;
    if (merged.server.empty()) merged.server = lane->server;
    if (merged.domain.empty()) merged.domain = lane->domain;
    if (merged.log.empty() && !lane->lanes.empty()) merged.log = lane->lanes.front().log;
    if (lane->screenshot.attempted) merged.screenshot = lane->screenshot;
  }
  judge(merged);
  return merged;
}

}  // namespace

std::vector<size_t> longest_first(const std::vector<PlannedRecipe>& planned, const fs::path& history) {
  std::vector<size_t> order(planned.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (history.empty()) return order;
  const fs::path file = fs::is_directory(history) ? history / "results.json" : history;
  RunReport previous;
  try {
    previous = read_results_file(file);
  } catch (const ResultsError& problem) {
    throw UsageError("--history " + history.string() + ": no readable results.json there: " + problem.what());
  }
  std::map<std::string, long long> took;
  for (const auto& recipe : previous.recipes) took[recipe.recipe] = recipe.duration.count();
  // A recipe never seen before is assumed to be the longest: it starts first.
  auto expected = [&](size_t index) {
    const auto found = took.find(planned[index].job.recipe);
    return found == took.end() ? std::numeric_limits<long long>::max() : found->second;
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return expected(a) > expected(b); });
  return order;
}

RunReport run_planned(const fs::path& self, const std::vector<PlannedRecipe>& planned,
                      const Schedule& schedule, const RunStop& stop, const Progress& progress,
                      const std::string& run_id) {
  RunReport report;
  report.run_id = run_id;
  report.started_at = std::chrono::system_clock::now();

  // Each planned entry is one lane; a recipe's result is its lanes, merged
  // when the last of them ends.
  std::vector<std::string> recipes;
  for (const auto& entry : planned)
    if (std::find(recipes.begin(), recipes.end(), entry.job.recipe) == recipes.end())
      recipes.push_back(entry.job.recipe);
  report.recipes.resize(recipes.size());
  std::vector<RecipeResult> lanes(planned.size());
  std::map<std::string, size_t> lanes_left;
  for (const auto& entry : planned) ++lanes_left[entry.job.recipe];
  std::mutex lanes_mutex;
  auto lane_done = [&](size_t index, RecipeResult result) {
    const RecipeJob& job = planned[index].job;
    result.target = job.target;
    for (auto& step : result.steps) step.lane = job.lane;
    if (result.lanes.empty())
      result.lanes = {LaneResult{.lane = job.lane,
                                 .server = job.server,
                                 .domain = job.domain,
                                 .status = overall_status(result.steps),
                                 .duration = result.duration}};
    if (planned[index].not_run.empty())
      result.lanes.front().log =
          fs::relative(job.log_file, job.log_file.parent_path().parent_path()).string();
    if (!job.screenshot_file.empty()) {
      std::error_code error;
      if (result.screenshot.attempted && result.screenshot.missing.empty() &&
          fs::exists(job.screenshot_file, error))
        result.screenshot.file =
            fs::relative(job.screenshot_file, job.log_file.parent_path().parent_path()).string();
      else
        fs::remove(job.screenshot_file, error);  // an earlier run's picture is not this one's
    }
    if (progress.lane_finished) progress.lane_finished(job, result);
    std::scoped_lock lock(lanes_mutex);
    lanes[index] = std::move(result);
    if (--lanes_left[job.recipe] > 0) return;
    std::vector<const RecipeResult*> parts;
    for (size_t i = 0; i < planned.size(); ++i)
      if (planned[i].job.recipe == job.recipe) parts.push_back(&lanes[i]);
    RecipeResult& merged = report.recipes[static_cast<size_t>(
        std::find(recipes.begin(), recipes.end(), job.recipe) - recipes.begin())];
    merged = merge_lanes(parts);
    if (progress.recipe_finished) progress.recipe_finished(merged);
  };

  std::vector<size_t> order = schedule.order;
  if (order.empty())
    for (size_t i = 0; i < planned.size(); ++i) order.push_back(i);
  ServerPool pool(schedule.servers);
  std::mutex failures_mutex;
  std::string first_failure;  // the recipe that stopped the run under --fail-fast

  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t position; (position = next.fetch_add(1)) < order.size();) {
      const size_t index = order[position];
      RecipeJob job = planned[index].job;
      if (!planned[index].not_run.empty()) {
        lane_done(index, not_run(job, planned[index].not_run));
        continue;
      }
      if (!planned[index].broken.empty()) {
        lane_done(index, broken_lane(job, planned[index].broken));
        continue;
      }
      auto skip = [&](const std::string& why) { lane_done(index, not_started(job, "not started: " + why)); };
      if (auto reason = stop.reason()) {
        skip(*reason);
        continue;
      }
      {
        std::scoped_lock lock(failures_mutex);
        if (!first_failure.empty()) {
          skip("--fail-fast, and " + first_failure + " did not pass");
          continue;
        }
      }
      // Linting deploys nothing, so it takes no server slot.
      const bool deploys = job.lane != Lane::lint;
      const auto server = deploys ? pool.acquire(job.server, stop) : std::optional<std::string>("");
      if (!server) {
        skip(stop.reason().value_or("the run stopped"));
        continue;
      }
      job.server = *server;
      RecipeResult result;
      // Nothing thrown here may end the run (std::terminate in a worker): the
      // test is errored instead. supervise() tears down whatever it deployed.
      const fs::path work = job.events_file.parent_path();
      try {
        // A clean slate. The work folder is private (0700): its ABRA_DIR links
        // to the shared servers, whose env files hold other apps' settings.
        fs::remove_all(work);
        fs::create_directories(work);
        fs::permissions(work.parent_path(), fs::perms::owner_all);
        fs::permissions(work, fs::perms::owner_all);
        fs::create_directories(job.log_file.parent_path());
        fs::remove(job.log_file);
        prepare_abra_dir(job);
        const fs::path job_file = work / "job.json";
        write_file_atomically(job_file, to_json(job).dump(2));
        std::optional<RunningMarker> running;  // keeps the janitor away from the app
        if (deploys) running.emplace(schedule.state_dir, job.domain);
        result = supervise(self, job, job_file, stop, progress);
      } catch (const std::exception& error) {
        if (result.steps.empty()) {
          result = RecipeResult{.recipe = job.recipe, .server = job.server, .domain = job.domain};
          result.steps.push_back({.phase = deploys ? Phase::deploy : Phase::lint,
                                  .name = "prepare the test",
                                  .status = Status::errored,
                                  .message = std::string("cc-ci could not run this test: ") + error.what()});
        }
      }
      std::error_code ignored;
      fs::remove_all(work, ignored);
      if (deploys) pool.release(*server);
      const bool failed =
          overall_status(result.steps) == Status::failed || overall_status(result.steps) == Status::errored;
      lane_done(index, std::move(result));
      if (schedule.fail_fast && failed) {
        std::scoped_lock lock(failures_mutex);
        if (first_failure.empty()) first_failure = job.recipe;
      }
    }
  };

  const int threads = std::max(1, std::min<int>(schedule.jobs, static_cast<int>(planned.size())));
  std::vector<std::jthread> pool_threads;
  for (int i = 1; i < threads; ++i) pool_threads.emplace_back(worker);
  worker();
  pool_threads.clear();  // joins

  report.finished_at = std::chrono::system_clock::now();
  report.interrupted = stop.interrupted();
  return report;
}

}  // namespace ccci
