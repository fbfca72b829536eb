// The dashboard: static HTML that works from a file or any web server, with
// no JavaScript and nothing fetched from the network. Each report folder gets
// a page of its run (index.html: recipes, rungs, lanes, steps, links to the
// logs); a folder of report folders gets an index of recipes by their latest
// level, with the history of levels, linking to each run's page.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "model/result.hpp"

namespace ccci {

/// The page of one run whose files (results.json, logs) are in `report_dir`.
std::string run_page_html(const RunReport& results, const std::filesystem::path& report_dir);

/// One run found under a dashboard folder.
struct DashboardRun {
  std::string folder;  ///< the report folder's name, a safe relative link
  RunReport results;
};

/// The index of `runs` (any order): every recipe with its latest level and
/// the levels of its last runs, newest first; then the runs themselves.
std::string dashboard_html(std::vector<DashboardRun> runs);

/// Writes `root`/index.html for the report folders (each with a
/// results.json) directly under `root` or one level down (ROOT/<recipe>/<build>).
/// Links are not followed; folders whose name is not a plain file name or
/// whose results.json does not read whole (read_results_file) are skipped
/// and named in the returned lines, never rendered in part. Throws when a folder cannot be listed or
/// index.html written.
std::vector<std::string> write_dashboard(const std::filesystem::path& root);

}  // namespace ccci
