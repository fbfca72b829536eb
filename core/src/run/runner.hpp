// Planning a run (which recipe where, under which name) and scheduling it.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "model/result.hpp"
#include "run/plan.hpp"
#include "run/supervisor.hpp"

namespace ccci {

struct Schedule {
  int jobs = 1;
  std::vector<ServerSlot> servers{{"default", 0}};
  bool fail_fast = false;             ///< after a failure, start no more tests
  std::vector<size_t> order{};        ///< indices into the plan, in start order; empty: as planned
  std::filesystem::path state_dir{};  ///< where running markers go (see janitor.hpp)
};

/// The plan's indices, longest first by the durations in a previous
/// results.json (`history` is its folder or the file); unknown recipes first.
/// Without a history, the plan's order. Throws UsageError for an unreadable history.
std::vector<size_t> longest_first(const std::vector<PlannedRecipe>& planned,
                                  const std::filesystem::path& history);

/// Runs the planned tests, `schedule.jobs` at a time and within each server's
/// capacity, each in its own child process. Recipes not started because the
/// run stopped (or under --fail-fast) are reported as skipped, with the reason.
RunReport run_planned(const std::filesystem::path& self, const std::vector<PlannedRecipe>& planned,
                      const Schedule& schedule, const RunStop& stop, const Progress& progress,
                      const std::string& run_id);

}  // namespace ccci
