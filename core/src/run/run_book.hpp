// The run's book of lanes, shared by the workers that run them.
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "model/result.hpp"
#include "run/plan.hpp"
#include "run/supervisor.hpp"

namespace ccci {

/// Which lane starts next, which have ended, each recipe's result once its
/// last lane ended, and under --fail-fast the recipe that stopped the run.
/// Every worker holds the same book; each member is behind the book's locks,
/// so no worker shares anything else.
class RunBook {
 public:
  /// `order`: indices into `planned`, in start order; empty: as planned.
  /// `planned` and `progress` must outlive the book.
  RunBook(const std::vector<PlannedRecipe>& planned, std::vector<size_t> order, bool fail_fast,
          const Progress& progress);

  /// The plan index of the next lane to start; nullopt once every lane started.
  std::optional<size_t> next_lane();
  /// Under --fail-fast, once a lane failed: why no further lane starts.
  std::optional<std::string> fail_fast_stop() const;
  /// Takes lane `index`'s finished result: tells progress the lane ended,
  /// and when it was its recipe's last, merges the recipe's lanes, judges
  /// them as one and tells progress the recipe ended. `failed`: the lane ran
  /// and failed, which under --fail-fast lets no further lane start.
  void lane_ended(size_t index, RecipeResult result, bool failed);
  /// The recipes' results, one per recipe in plan order, once every lane ended.
  std::vector<RecipeResult> take_recipes();

 private:
  const std::vector<PlannedRecipe>& planned_;
  const std::vector<size_t> order_;
  const bool fail_fast_;
  const Progress& progress_;
  std::atomic<size_t> next_{0};  // position in order_ of the next lane to start

  std::mutex lanes_mutex_;                     // guards lanes_, lanes_left_ and recipes_
  std::vector<RecipeResult> lanes_;            // by plan index
  std::map<std::string, size_t> lanes_left_;   // per recipe, the lanes not ended yet
  std::map<std::string, size_t> recipe_slot_;  // per recipe, its place in recipes_
  std::vector<RecipeResult> recipes_;          // merged, in plan order

  // Its own lock: a worker deciding whether to start is never held up by a
  // recipe's merge and its progress output.
  mutable std::mutex failure_mutex_;
  std::string first_failure_;  // the recipe that stopped the run under --fail-fast
};

}  // namespace ccci
