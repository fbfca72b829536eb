#include "run/run_book.hpp"

#include "model/judge.hpp"

namespace ccci {

namespace {

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

std::vector<size_t> plan_order(size_t lanes) {
  std::vector<size_t> order(lanes);
  for (size_t i = 0; i < lanes; ++i) order[i] = i;
  return order;
}

}  // namespace

RunBook::RunBook(const std::vector<PlannedRecipe>& planned, std::vector<size_t> order, bool fail_fast,
                 const Progress& progress)
    : planned_(planned),
      order_(order.empty() ? plan_order(planned.size()) : std::move(order)),
      fail_fast_(fail_fast),
      progress_(progress),
      lanes_(planned.size()) {
  // Each planned entry is one lane; a recipe's result is its lanes, merged
  // when the last of them ends, in the place of the recipe's first lane.
  for (const auto& entry : planned) {
    ++lanes_left_[entry.job.recipe];
    if (recipe_slot_.emplace(entry.job.recipe, recipe_slot_.size()).second) recipes_.emplace_back();
  }
}

std::optional<size_t> RunBook::next_lane() {
  const size_t position = next_.fetch_add(1);
  if (position >= order_.size()) return std::nullopt;
  return order_[position];
}

std::optional<std::string> RunBook::fail_fast_stop() const {
  std::scoped_lock lock(failure_mutex_);
  if (first_failure_.empty()) return std::nullopt;
  return "--fail-fast, and " + first_failure_ + " did not pass";
}

void RunBook::lane_ended(size_t index, RecipeResult result, bool failed) {
  const RecipeJob& job = planned_[index].job;
  if (progress_.lane_finished) progress_.lane_finished(job, result);
  {
    std::scoped_lock lock(lanes_mutex_);
    lanes_[index] = std::move(result);
    if (--lanes_left_[job.recipe] == 0) {
      std::vector<const RecipeResult*> parts;
      for (size_t i = 0; i < planned_.size(); ++i)
        if (planned_[i].job.recipe == job.recipe) parts.push_back(&lanes_[i]);
      RecipeResult& merged = recipes_[recipe_slot_.at(job.recipe)];
      merged = merge_lanes(parts);
      // Under the lock, so recipes are reported one at a time and never before their last lane.
      if (progress_.recipe_finished) progress_.recipe_finished(merged);
    }
  }
  if (!fail_fast_ || !failed) return;
  std::scoped_lock lock(failure_mutex_);
  if (first_failure_.empty()) first_failure_ = job.recipe;
}

std::vector<RecipeResult> RunBook::take_recipes() {
  std::scoped_lock lock(lanes_mutex_);
  return std::move(recipes_);
}

}  // namespace ccci
