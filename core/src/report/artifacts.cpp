#include "report/artifacts.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "base/files.hpp"
#include "ccci/process.hpp"
#include "ccci/text.hpp"
#include "model/result.hpp"
#include "model/results_reader.hpp"
#include "recipe/names.hpp"
#include "report/badge.hpp"
#include "report/dashboard.hpp"
#include "report/summary.hpp"

namespace ccci {
namespace {

namespace fs = std::filesystem;

bool is_png(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char head[8] = {};
  in.read(head, sizeof head);
  return in.gcount() == sizeof head && std::string_view(head, sizeof head) == "\x89PNG\r\n\x1a\n";
}

// card.png from card.svg; the reason it could not be drawn, or empty.
std::string draw_png(const fs::path& svg, const fs::path& png, const std::string& rsvg_convert) {
  const fs::path temporary = png.string() + ".tmp";
  std::error_code ignored;
  CommandResult drawn;
  try {
    drawn =
        run_command({.argv = {rsvg_convert, "--format=png", "--output=" + temporary.string(), svg.string()},
                     .timeout = std::chrono::seconds(60)});
  } catch (const std::exception& error) {
    fs::remove(temporary, ignored);
    return rsvg_convert + " could not be started (" + error.what() +
           "; Debian: apt-get install librsvg2-bin)";
  }
  if (drawn.exit_code != 0 || !is_png(temporary)) {
    fs::remove(temporary, ignored);
    const std::string said = drawn.output.substr(0, drawn.output.find('\n'));
    return rsvg_convert + " " + drawn.describe() + (said.empty() ? "" : ": " + said);
  }
  fs::rename(temporary, png);
  return {};
}

}  // namespace

std::optional<fs::path> path_inside(const fs::path& folder, const std::string& relative) {
  const fs::path path = fs::path(relative).lexically_normal();
  if (relative.empty() || path.is_absolute() || path.empty() || *path.begin() == "..") return std::nullopt;
  std::error_code error;
  const fs::path base = fs::weakly_canonical(folder, error);
  if (error) return std::nullopt;
  const fs::path real = fs::weakly_canonical(folder / path, error);
  if (error) return std::nullopt;
  // A link inside the folder must not lead out of it either.
  const fs::path from_base = real.lexically_relative(base);
  if (from_base.empty() || *from_base.begin() == "..") return std::nullopt;
  return real;
}

bool is_artifact(const std::string& relative) {
  static constexpr std::string_view kMade[] = {"summary.md", "index.html", "badge.svg", "card.svg",
                                               "card.png"};
  return std::find(std::begin(kMade), std::end(kMade), relative) != std::end(kMade) ||
         (relative.starts_with("badges/") && relative.ends_with(".svg"));
}

std::vector<std::string> write_artifacts(const fs::path& report_dir, const ArtifactOptions& options) {
  const RunReport results = read_results_file(report_dir / "results.json");
  std::vector<std::string> problems;

  fs::create_directories(report_dir / "badges");
  for (const auto& recipe : results.recipes) {
    const std::string& name = recipe.recipe;
    // The name becomes a file name and a URL: only a recipe name.
    if (!is_recipe_name(name)) {
      problems.push_back("badges/: no badge for a recipe named \"" + valid_utf8(strip_ansi(name)) +
                         "\" (not a recipe name)");
      continue;
    }
    write_file_atomically(report_dir / "badges" / (name + ".svg"), recipe_badge_svg(recipe));
  }
  write_file_atomically(report_dir / "badge.svg", run_badge_svg(results));
  write_file_atomically(report_dir / "card.svg", card_svg(results));

  std::error_code ignored;
  fs::remove(report_dir / "card.png", ignored);  // never leave an earlier run's card behind
  if (const std::string why =
          draw_png(report_dir / "card.svg", report_dir / "card.png", options.rsvg_convert);
      !why.empty())
    problems.push_back("card.png not drawn: " + why);

  write_file_atomically(report_dir / "index.html", run_page_html(results, report_dir));
  const SummaryLinks links{.base_url = options.dashboard_url,
                           .has_dashboard = true,
                           .has_card = fs::exists(report_dir / "card.png")};
  write_file_atomically(report_dir / "summary.md", summary_markdown(results, report_dir, links));
  return problems;
}

}  // namespace ccci
