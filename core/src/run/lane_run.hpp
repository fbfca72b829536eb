// One planned lane, from its start to its finished result.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "model/result.hpp"
#include "run/plan.hpp"
#include "run/server_pool.hpp"
#include "run/supervisor.hpp"

namespace ccci {

/// What every lane of a run uses and none owns.
struct SharedByLanes {
  std::filesystem::path self;  ///< the cc-ci binary each lane's test process runs
  const RunStop& stop;
  const Progress& progress;
  std::filesystem::path state_dir;  ///< where running markers go (see janitor.hpp)
  ServerPool& servers;
  SharedBrowser* browser = nullptr;  ///< shoots the landing pages; null: no lane shoots one
};

/// The one owner of a lane's result: it decides whether the lane runs,
/// prepares its private work folder and ABRA_DIR, holds its server slot,
/// supervises its test process and cleans up after it, and builds the lane's
/// RecipeResult and LaneResult whole, whichever way the lane ended.
class LaneRun {
 public:
  struct Ended {
    RecipeResult result;  ///< this lane only, finished and judged
    bool failed = false;  ///< it ran and failed or errored; a lane that never started did not
  };

  /// `entry` and `shared` must outlive the lane run.
  LaneRun(const PlannedRecipe& entry, const SharedByLanes& shared);

  /// Runs the lane, unless the plan does not run it, its recipe is broken, or
  /// `held_back` says why it must not start (the run stopped, --fail-fast);
  /// any of these is its result instead. Never throws for the lane's faults.
  Ended run(const std::optional<std::string>& held_back);

 private:
  RecipeResult on_a_server();
  RecipeResult supervised();
  std::filesystem::path prepare_work_folder(const std::filesystem::path& work) const;
  RecipeResult recorded(LaneRecord record) const;
  RecipeResult not_run() const;
  RecipeResult broken() const;
  RecipeResult not_started(const std::string& why) const;
  RecipeResult could_not_run(const std::string& why) const;
  RecipeResult finished(RecipeResult result) const;

  const PlannedRecipe& entry_;
  const SharedByLanes& shared_;
  RecipeJob job_;  // the planned job, on the server the lane got once it got one
};

}  // namespace ccci
