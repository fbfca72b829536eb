#include "report/artifacts.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "base/files.hpp"
#include "ccci/process.hpp"
#include "ccci/text.hpp"
#include "model/result.hpp"
#include "recipe/names.hpp"
#include "report/badge.hpp"
#include "report/dashboard.hpp"
#include "report/results_shape.hpp"
#include "report/summary.hpp"

namespace ccci {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Far more than a run of the whole catalogue writes (a few MiB), far less
// than would hurt to read.
constexpr std::uintmax_t kResultsMaxBytes = std::uintmax_t{64} << 20;

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

json read_results(const fs::path& report_dir) {
  const fs::path path = report_dir / "results.json";
  // A file of its own, of a size a run writes: never a link to /dev/zero or a FIFO.
  std::error_code error;
  const auto status = fs::symlink_status(path, error);
  if (!fs::exists(status))
    throw std::runtime_error(path.string() + ": no results.json there (is it a cc-ci report folder?)");
  if (!fs::is_regular_file(status)) throw std::runtime_error(path.string() + ": not a plain file");
  if (fs::file_size(path, error) > kResultsMaxBytes)
    throw std::runtime_error(path.string() + ": larger than " + std::to_string(kResultsMaxBytes >> 20) +
                             " MiB, more than any run writes");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  json results;
  try {
    results = json::parse(text.str());
  } catch (const json::exception& error) {
    throw std::runtime_error(path.string() + ": not JSON (" + error.what() + ")");
  }
  // Checked whole before anything renders it: it may come from anywhere.
  if (auto problem = results_problem(results))
    throw std::runtime_error(path.string() + ": not a cc-ci results file (" +
                             valid_utf8(strip_ansi(*problem)) + ")");
  return results;
}

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
  const json results = read_results(report_dir);
  std::vector<std::string> problems;

  fs::create_directories(report_dir / "badges");
  for (const auto& recipe : results["recipes"]) {
    const std::string name = recipe["recipe"].get<std::string>();
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
