#include "report/dashboard.hpp"

#include <algorithm>
#include <map>

#include "base/files.hpp"
#include "base/markup.hpp"
#include "model/judge.hpp"
#include "model/result.hpp"
#include "model/result_json.hpp"
#include "model/results_reader.hpp"
#include "recipe/names.hpp"
#include "report/artifacts.hpp"
#include "report/badge.hpp"
#include "report/summary.hpp"

namespace ccci {
namespace {

namespace fs = std::filesystem;

// How many earlier levels a recipe's row shows.
constexpr std::size_t kHistory = 20;

// One stylesheet, inline: the page needs no other file and no network.
constexpr std::string_view kStyle = R"(<style>
body{font-family:system-ui,"DejaVu Sans",sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#24292f}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
.muted{color:#57606a}table{border-collapse:collapse;margin:.6rem 0}
th,td{text-align:left;padding:.25rem .6rem;border-bottom:1px solid #eaeef2;vertical-align:top}
td.num{text-align:right;white-space:nowrap}.cell{display:inline-block;min-width:1.6rem;padding:.1rem .25rem;
border-radius:3px;color:#fff;text-align:center;font-size:.85rem;text-decoration:none}
.level{display:inline-block;padding:.15rem .6rem;border-radius:4px;color:#fff;font-weight:bold}
pre{background:#f6f8fa;padding:.6rem;overflow:auto}code{font-size:.9rem}details{margin:.4rem 0}
</style>)";

std::string page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         xml_escape(title) + "</title>\n" + std::string(kStyle) + "\n</head>\n<body>\n" + body +
         "</body>\n</html>\n";
}

std::string level_cell(const RecipeResult& recipe, const std::string& link = {}) {
  const std::string colour(graded_colour(recipe));
  const std::string text = is_graded(recipe) ? std::to_string(recipe.level) : "–";
  const std::string title =
      recipe.recipe + ": " + level_words(recipe) + ", " + std::string(to_string(recipe.status));
  if (link.empty())
    return "<span class=\"cell\" style=\"background:" + colour + "\" title=\"" + xml_escape(title) + "\">" +
           text + "</span>";
  return "<a class=\"cell\" style=\"background:" + colour + "\" title=\"" + xml_escape(title) + "\" href=\"" +
         xml_escape(link) + "\">" + text + "</a>";
}

std::string level_badge(const RecipeResult& recipe) {
  return "<span class=\"level\" style=\"background:" + std::string(graded_colour(recipe)) + "\">" +
         level_words(recipe) + "</span>";
}

std::string status_cell(RungStatus status) {
  const std::string word(to_string(status));
  return "<span class=\"cell\" style=\"background:" + std::string(rung_status_colour(word)) + "\">" +
         xml_escape(status == RungStatus::not_applicable ? "n/a" : word) + "</span>";
}

// The heading, what was tested, why the level is not higher and what was kept.
std::string recipe_head_html(const RecipeResult& recipe) {
  std::string out = "<h2 id=\"" + xml_escape(recipe.recipe) + "\">" + xml_escape(recipe.recipe) + " " +
                    level_badge(recipe) + " <span class=\"muted\">" + xml_escape(to_string(recipe.status)) +
                    " in " + duration_words(recipe.duration.count()) + "</span></h2>\n";
  if (!recipe.target.commit.empty())
    out += "<p class=\"muted\">" + target_words(recipe.target, xml_escape, "<code>", "</code>") + "</p>\n";
  if (const std::string why = why_not_higher(recipe); !why.empty())
    out += "<p><strong>Why not higher:</strong> " + xml_escape(why) + "</p>\n";
  if (!recipe.kept.empty()) out += "<p><strong>Kept:</strong> " + xml_escape(recipe.kept) + "</p>\n";
  return out;
}

std::string rungs_html(const RecipeResult& recipe) {
  std::string out = "<table>\n<tr><th>Rung</th><th></th><th>Status</th><th>Why</th></tr>\n";
  for (const auto& rung : recipe.rungs)
    out += "<tr><td class=\"num\">" + std::to_string(static_cast<int>(rung.rung)) + "</td><td>" +
           xml_escape(name_words(to_string(rung.rung))) + "</td><td>" + status_cell(rung.status) +
           "</td><td>" + xml_escape(rung.reason) + "</td></tr>\n";
  return out + "</table>\n";
}

std::string screenshot_html(const RecipeResult& recipe, const fs::path& report_dir) {
  const Screenshot& shot = recipe.screenshot;
  if (const auto picture = screenshot_file(recipe, report_dir))
    return "<p><img src=\"" + xml_escape(*picture) +
           "\" width=\"640\" height=\"400\" style=\"border:1px solid #d0d7de\" alt=\"the landing page of " +
           xml_escape(recipe.recipe) + "\"></p>\n";
  if (shot.attempted && shot.file.empty() && !shot.missing.empty())
    return "<p class=\"muted\">No screenshot: " + xml_escape(shot.missing) + "</p>\n";
  return {};
}

std::string lane_row(const LaneResult& lane, const fs::path& report_dir) {
  std::string calls;
  for (const auto& [command, count] : lane.abra_calls)
    calls += (calls.empty() ? "" : ", ") + xml_escape(command) + " " + std::to_string(count);
  // Only a log inside this folder is linked: results.json may come from anywhere.
  const std::string link =
      path_inside(report_dir, lane.log) ? "<a href=\"" + xml_escape(lane.log) + "\">log</a>" : "";
  return "<tr><td>" + xml_escape(to_string(lane.lane)) +
         (lane.from.empty() ? "" : " from " + xml_escape(lane.from)) + "</td><td>" +
         xml_escape(to_string(lane.status)) + "</td><td class=\"num\">" +
         duration_words(lane.duration.count()) + "</td><td>" + xml_escape(lane.domain) + "</td><td>" + calls +
         "</td><td>" + link + "</td></tr>\n";
}

std::string lanes_html(const RecipeResult& recipe, const fs::path& report_dir) {
  if (recipe.lanes.empty()) return {};
  std::string out =
      "<table>\n<tr><th>Lane</th><th>Status</th><th>Time</th><th>App</th><th>abra "
      "calls</th><th>Log</th></tr>\n";
  for (const auto& lane : recipe.lanes) out += lane_row(lane, report_dir);
  return out + "</table>\n";
}

std::string steps_html(const RecipeResult& recipe) {
  std::string out =
      "<details><summary>" + std::to_string(recipe.steps.size()) +
      " steps</summary>\n<table>\n<tr><th>Lane</th><th>Phase</th><th>Step</th><th>Status</th><th>Time</th>"
      "<th>Message</th></tr>\n";
  for (const auto& step : recipe.steps)
    out += "<tr><td>" + xml_escape(to_string(step.lane)) + "</td><td>" + xml_escape(to_string(step.phase)) +
           "</td><td>" + xml_escape(step.name) + "</td><td>" + xml_escape(to_string(step.status)) +
           "</td><td class=\"num\">" + duration_words(step.duration.count()) + "</td><td>" +
           xml_escape(step.message) + "</td></tr>\n";
  return out + "</table>\n</details>\n";
}

std::string recipe_html(const RecipeResult& recipe, const fs::path& report_dir) {
  return recipe_head_html(recipe) + rungs_html(recipe) + screenshot_html(recipe, report_dir) +
         lanes_html(recipe, report_dir) + steps_html(recipe);
}

// A report folder's name becomes a link: only a plain name, nothing to climb with.
bool is_plain_folder_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.size() <= 128 &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_' || c == '.';
         });
}

}  // namespace

std::string run_page_html(const RunReport& results, const fs::path& report_dir) {
  std::string body = "<h1>cc-ci run " + xml_escape(results.run_id) + "</h1>\n<p class=\"muted\">" +
                     xml_escape(format_rfc3339(results.started_at)) + " · " +
                     duration_words(run_duration(results).count()) + " · " + counts_words(results) +
                     (results.interrupted ? " · <strong>interrupted</strong>" : "") + "</p>\n";
  if (fs::exists(report_dir / "card.png"))
    body += "<p><img src=\"card.png\" width=\"960\" alt=\"summary card of the run\"></p>\n";
  body +=
      "<p><a href=\"results.json\">results.json</a> · <a href=\"junit.xml\">junit.xml</a> · "
      "<a href=\"summary.md\">summary.md</a></p>\n";
  for (const auto& recipe : results.recipes) body += recipe_html(recipe, report_dir);
  return page("cc-ci run " + results.run_id, body);
}

std::string dashboard_html(std::vector<DashboardRun> runs) {
  // Newest first.
  std::sort(runs.begin(), runs.end(), [](const DashboardRun& a, const DashboardRun& b) {
    return a.results.started_at > b.results.started_at;
  });
  // Each recipe's results, newest first, with the run they belong to.
  std::map<std::string, std::vector<std::pair<const DashboardRun*, const RecipeResult*>>> by_recipe;
  for (const auto& run : runs)
    for (const auto& recipe : run.results.recipes) by_recipe[recipe.recipe].emplace_back(&run, &recipe);

  std::string body = "<h1>cc-ci</h1>\n<p class=\"muted\">recipes: " + std::to_string(by_recipe.size()) +
                     " · runs: " + std::to_string(runs.size()) + "</p>\n";
  body += "<table>\n<tr><th>Recipe</th><th>Latest</th><th>When</th><th>History (newest first)</th></tr>\n";
  for (const auto& [name, results] : by_recipe) {
    const auto& [latest_run, latest] = results.front();
    const std::string page_link = latest_run->folder + "/index.html#" + name;
    std::string history;
    for (std::size_t i = 0; i < results.size() && i < kHistory; ++i)
      history += level_cell(*results[i].second, results[i].first->folder + "/index.html#" + name) + " ";
    body += "<tr><td><a href=\"" + xml_escape(page_link) + "\">" + xml_escape(name) + "</a></td><td>" +
            level_badge(*latest) + " " + xml_escape(to_string(latest->status)) + "</td><td class=\"muted\">" +
            xml_escape(format_rfc3339(latest_run->results.started_at)) + "</td><td>" + history +
            "</td></tr>\n";
  }
  body +=
      "</table>\n<h2>Runs</h2>\n<table>\n<tr><th>Run</th><th>Started</th><th>Recipes</th><th>Time</th></"
      "tr>\n";
  for (const auto& run : runs)
    body += "<tr><td><a href=\"" + xml_escape(run.folder) + "/index.html\">" +
            xml_escape(run.results.run_id) + "</a></td><td>" +
            xml_escape(format_rfc3339(run.results.started_at)) + "</td><td>" + counts_words(run.results) +
            (run.results.interrupted ? ", interrupted" : "") + "</td><td class=\"num\">" +
            duration_words(run_duration(run.results).count()) + "</td></tr>\n";
  body += "</table>\n";
  return page("cc-ci dashboard", body);
}

std::vector<std::string> write_dashboard(const fs::path& root) {
  std::vector<std::string> skipped;
  std::vector<DashboardRun> runs;
  // Report folders directly under ROOT, or one level down (ROOT/<recipe>/<build>,
  // as the CI pipelines publish them). Links (a `latest` link) are not followed:
  // they name a run that is already there.
  const auto visit = [&](const fs::path& folder, const std::string& link, const auto& self,
                         int depth) -> void {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(folder, error)) {
      if (entry.is_symlink() || !entry.is_directory()) continue;
      const std::string name = entry.path().filename().string();
      const std::string here = link.empty() ? name : link + "/" + name;
      if (!fs::exists(entry.path() / "results.json")) {
        if (depth == 0 && is_plain_folder_name(name)) self(entry.path(), here, self, depth + 1);
        continue;
      }
      if (!is_plain_folder_name(name)) {
        skipped.push_back(here + ": not a plain folder name, skipped");
        continue;
      }
      try {
        runs.push_back({here, read_results_file(entry.path() / "results.json")});
      } catch (const std::exception& problem) {
        skipped.push_back(problem.what());
      }
    }
    if (error) throw std::runtime_error(folder.string() + ": " + error.message());
  };
  visit(root, "", visit, 0);
  write_file_atomically(root / "index.html", dashboard_html(std::move(runs)));
  return skipped;
}

}  // namespace ccci
