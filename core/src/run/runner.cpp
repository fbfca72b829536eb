#include "run/runner.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "base/usage_error.hpp"
#include "model/results_reader.hpp"
#include "run/lane_run.hpp"
#include "run/run_book.hpp"
#include "run/server_pool.hpp"

namespace ccci {

namespace fs = std::filesystem;

namespace {

// One worker: starts lanes, one at a time, until none is left to start.
void run_lanes(const std::vector<PlannedRecipe>& planned, RunBook& book, const SharedByLanes& shared) {
  while (const auto index = book.next_lane()) {
    std::optional<std::string> held_back = shared.stop.reason();
    if (!held_back) held_back = book.fail_fast_stop();
    LaneRun::Ended ended = LaneRun(planned[*index], shared).run(held_back);
    book.lane_ended(*index, std::move(ended.result), ended.failed);
  }
}

// One browser for the landing pages of every lane that shoots one; none
// when no lane does (screenshots off, no fresh lane).
std::unique_ptr<SharedBrowser> browser_for(const std::vector<PlannedRecipe>& planned) {
  std::vector<std::string> domains;
  const RecipeJob* shooting =
      nullptr;  // --browser and the HTTP settings are the run's, the same in each lane
  for (const auto& lane : planned)
    if (lane.not_run.empty() && !lane.job.screenshot_file.empty() && !lane.job.browser.empty()) {
      domains.push_back(lane.job.domain);
      shooting = &lane.job;
    }
  if (shooting == nullptr) return nullptr;
  return std::make_unique<SharedBrowser>(shooting->browser, shooting->http, std::move(domains));
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

  ServerPool servers(schedule.servers);
  RunBook book(planned, schedule.order, schedule.fail_fast, progress);
  const auto browser = browser_for(planned);
  const SharedByLanes shared{.self = self,
                             .stop = stop,
                             .progress = progress,
                             .state_dir = schedule.state_dir,
                             .servers = servers,
                             .browser = browser.get()};
  auto worker = [&] { run_lanes(planned, book, shared); };
  const int threads = std::max(1, std::min<int>(schedule.jobs, static_cast<int>(planned.size())));
  std::vector<std::jthread> pool_threads;
  for (int i = 1; i < threads; ++i) pool_threads.emplace_back(worker);
  worker();
  pool_threads.clear();  // joins

  report.recipes = book.take_recipes();
  report.finished_at = std::chrono::system_clock::now();
  report.interrupted = stop.interrupted();
  return report;
}

}  // namespace ccci
