// The plan of a run: one planned lane per recipe and lane, each with its
// target resolved, its server, domain and work folder, and the layouts of
// what it will deploy, before anything runs. `cc-ci plan` prints it; `cc-ci
// run` hands it to run_planned (run/runner.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "model/result.hpp"
#include "run/plugin_loader.hpp"

namespace ccci {

/// `<recipe[:4]>-<6 hex>.<suffix>`: one DNS label, so a wildcard certificate
/// covers it, and short, since abra derives stack, secret and volume names
/// from it and Docker caps their length.
std::string make_domain(const std::string& recipe, const std::string& suffix);

/// One lane of one recipe: the job its child process runs.
struct PlannedRecipe {
  const Plugin* plugin = nullptr;
  RecipeInfo info;
  RecipeJob job;
  std::string not_run{};  ///< why this lane is not run (--lanes, no previous release); empty: it runs
  /// Why the recipe cannot be deployed as it is (its compose files do not
  /// read): the lane fails at its first step with this. Empty: it can.
  std::string broken{};
};

/// Whether plan_run resolves each recipe's target with git (run, plan) or
/// leaves it empty (listing plugins needs no repository).
enum class Targets : std::uint8_t { resolve, skip };

/// One planned lane per selected recipe (all when `selection` is empty) and
/// lane (fresh, upgrade, lint; with Targets::skip only fresh), servers assigned
/// round-robin to the lanes that deploy, each with its own domain and a
/// private work folder (its own ABRA_DIR, job file and events) under
/// `work_root`: outside the report folder, whose contents are published. Each recipe's target is resolved
/// before anything runs. Throws UsageError for an unknown recipe, a target
/// for a recipe not in the run, a target git cannot find, or a name Docker
/// would refuse.
std::vector<PlannedRecipe> plan_run(const std::vector<Plugin>& plugins,
                                    const std::vector<std::string>& selection, const Settings& settings,
                                    const std::filesystem::path& work_root,
                                    Targets targets = Targets::resolve);

/// Where a run's work folders go: <state dir>/work/<run id>.
std::filesystem::path work_root(const std::filesystem::path& state_dir, const std::string& run_id);

/// A fresh, sortable id: UTC time plus random hex.
std::string new_run_id();

}  // namespace ccci
