// What a run leaves for people beside results.json: the PR comment
// (summary.md), the run's badge and card (badge.svg, card.svg, card.png) and a
// badge per recipe (badges/<recipe>.svg). Made from results.json alone, so
// `cc-ci report DIR` remakes them for any earlier run. The run's page
// (index.html, dashboard.hpp) is one of them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ccci {

struct ArtifactOptions {
  std::string dashboard_url{};                ///< where the report folder is served; empty: link nothing
  std::string rsvg_convert = "rsvg-convert";  ///< draws card.png from card.svg (Debian: librsvg2-bin)
};

/// `relative` (a path from results.json) inside `folder`, or nullopt when it
/// is absolute, climbs out with "..", or resolves (through links) outside.
std::optional<std::filesystem::path> path_inside(const std::filesystem::path& folder,
                                                 const std::string& relative);

/// Whether `relative` (a path inside a report folder) names a file that
/// write_artifacts makes from the others, so remaking it changes no fact.
bool is_artifact(const std::string& relative);

/// Writes the artifacts of the run whose results.json is in `report_dir`.
/// Returns one line for each artifact that could not be made and why (card.png
/// without rsvg-convert); everything else is written. Throws ResultsError
/// (model/results_reader.hpp) when results.json is missing or does not read
/// whole, std::runtime_error when a file cannot be written.
std::vector<std::string> write_artifacts(const std::filesystem::path& report_dir,
                                         const ArtifactOptions& options);

}  // namespace ccci
