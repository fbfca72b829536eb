// What a run leaves for people beside results.json: the PR comment
// (summary.md), the run's badge and card (badge.svg, card.svg, card.png) and a
// badge per recipe (badges/<recipe>.svg). Made from results.json alone, so
// `cc-ci report DIR` remakes them for any earlier run.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ccci {

struct ArtifactOptions {
  std::string dashboard_url{};                ///< where the report folder is served; empty: link nothing
  std::string rsvg_convert = "rsvg-convert";  ///< draws card.png from card.svg (Debian: librsvg2-bin)
};

/// Writes the artifacts of the run whose results.json is in `report_dir`.
/// Returns one line for each artifact that could not be made and why (card.png
/// without rsvg-convert); everything else is written. Throws std::runtime_error
/// when results.json is missing or not a cc-ci results file, or a file cannot
/// be written.
std::vector<std::string> write_artifacts(const std::filesystem::path& report_dir,
                                         const ArtifactOptions& options);

}  // namespace ccci
