// Planning a run (which recipe where, under which name) and scheduling it.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "plugin_loader.hpp"
#include "report.hpp"
#include "settings.hpp"
#include "supervisor.hpp"

namespace ccci {

/// `<recipe[:4]>-<6 hex>.<suffix>`: one DNS label, so a wildcard certificate
/// covers it, and short, since abra derives stack, secret and volume names
/// from it and Docker caps their length.
std::string make_domain(const std::string& recipe, const std::string& suffix);

struct PlannedRecipe {
  const Plugin* plugin = nullptr;
  RecipeInfo info;
  RecipeJob job;
};

/// One planned test per selected recipe (all when `selection` is empty),
/// servers assigned round-robin. Throws UsageError for an unknown recipe.
std::vector<PlannedRecipe> plan_run(const std::vector<Plugin>& plugins,
                                    const std::vector<std::string>& selection, const Settings& settings);

/// Runs the planned tests, `jobs` at a time, each in its own child process.
/// Recipes not started when `interrupt` is set are reported as skipped.
RunReport run_planned(const std::filesystem::path& self, const std::vector<PlannedRecipe>& planned, int jobs,
                      const std::atomic<int>& interrupt, const Progress& progress, const std::string& run_id);

/// A fresh, sortable id: UTC time plus random hex.
std::string new_run_id();

}  // namespace ccci
