#include "report/dashboard.hpp"

#include <algorithm>
#include <map>

#include "base/files.hpp"
#include "base/markup.hpp"
#include "model/result.hpp"
#include "recipe/names.hpp"
#include "report/artifacts.hpp"
#include "report/badge.hpp"
#include "report/summary.hpp"

namespace ccci {
namespace {

using nlohmann::json;
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

std::string level_cell(const json& recipe, const std::string& link = {}) {
  const std::string colour(graded_colour(recipe));
  const std::string text = is_graded(recipe) ? std::to_string(recipe.value("level", 0)) : "–";
  const std::string title =
      recipe.value("recipe", "") + ": " + level_words(recipe) + ", " + recipe.value("status", "");
  if (link.empty())
    return "<span class=\"cell\" style=\"background:" + colour + "\" title=\"" + xml_escape(title) + "\">" +
           text + "</span>";
  return "<a class=\"cell\" style=\"background:" + colour + "\" title=\"" + xml_escape(title) + "\" href=\"" +
         xml_escape(link) + "\">" + text + "</a>";
}

std::string level_badge(const json& recipe) {
  return "<span class=\"level\" style=\"background:" + std::string(graded_colour(recipe)) + "\">" +
         level_words(recipe) + "</span>";
}

std::string status_cell(const std::string& status) {
  return "<span class=\"cell\" style=\"background:" + std::string(rung_status_colour(status)) + "\">" +
         xml_escape(status == "not_applicable" ? "n/a" : status) + "</span>";
}

std::string target_html(const json& recipe) {
  if (!recipe.contains("target") || !recipe["target"].is_object()) return {};
  return "<p class=\"muted\">" + target_words(recipe["target"], xml_escape, "<code>", "</code>") + "</p>\n";
}

std::string recipe_html(const json& recipe, const fs::path& report_dir) {
  const std::string name = recipe.value("recipe", "?");
  std::string out = "<h2 id=\"" + xml_escape(name) + "\">" + xml_escape(name) + " " + level_badge(recipe) +
                    " <span class=\"muted\">" + xml_escape(recipe.value("status", "")) + " in " +
                    duration_words(recipe.value("duration_ms", 0LL)) + "</span></h2>\n";
  out += target_html(recipe);
  // At the top of the ladder there is nothing higher to explain (as in the PR comment).
  if (!recipe.value("level_reason", "").empty() && (!is_graded(recipe) || recipe.value("level", 0) < 8))
    out += "<p><strong>Why not higher:</strong> " + xml_escape(recipe.value("level_reason", "")) + "</p>\n";
  if (!recipe.value("kept", "").empty())
    out += "<p><strong>Kept:</strong> " + xml_escape(recipe.value("kept", "")) + "</p>\n";

  out += "<table>\n<tr><th>Rung</th><th></th><th>Status</th><th>Why</th></tr>\n";
  for (const auto& rung : recipe.value("rungs", json::array()))
    out += "<tr><td class=\"num\">" + std::to_string(rung.value("rung", 0)) + "</td><td>" +
           xml_escape(name_words(rung.value("name", ""))) + "</td><td>" +
           status_cell(rung.value("status", "")) + "</td><td>" + xml_escape(rung.value("reason", "")) +
           "</td></tr>\n";
  out += "</table>\n";
  const json shot = recipe.value("screenshot", json());
  if (const auto picture = screenshot_file(recipe, report_dir))
    out += "<p><img src=\"" + xml_escape(*picture) +
           "\" width=\"640\" height=\"400\" style=\"border:1px solid #d0d7de\" alt=\"the landing page of " +
           xml_escape(name) + "\"></p>\n";
  else if (shot.is_object() && !shot.value("missing", "").empty())
    out += "<p class=\"muted\">No screenshot: " + xml_escape(shot.value("missing", "")) + "</p>\n";

  const json lanes = recipe.value("lanes", json::array());
  if (!lanes.empty()) {
    out +=
        "<table>\n<tr><th>Lane</th><th>Status</th><th>Time</th><th>App</th><th>abra "
        "calls</th><th>Log</th></tr>\n";
    for (const auto& lane : lanes) {
      std::string calls;
      const json abra_calls =
          lane.value("abra_calls", json::object());  // items() needs it to outlive the loop
      for (const auto& [command, count] : abra_calls.items())
        calls += (calls.empty() ? "" : ", ") + xml_escape(command) + " " + std::to_string(count.get<int>());
      const std::string log = lane.value("log", "");
      // Only a log inside this folder is linked: results.json may come from anywhere.
      const std::string link =
          path_inside(report_dir, log) ? "<a href=\"" + xml_escape(log) + "\">log</a>" : "";
      out += "<tr><td>" + xml_escape(lane.value("lane", "")) +
             (lane.contains("from") ? " from " + xml_escape(lane.value("from", "")) : "") + "</td><td>" +
             xml_escape(lane.value("status", "")) + "</td><td class=\"num\">" +
             duration_words(lane.value("duration_ms", 0LL)) + "</td><td>" +
             xml_escape(lane.value("domain", "")) + "</td><td>" + calls + "</td><td>" + link + "</td></tr>\n";
    }
    out += "</table>\n";
  }

  const json steps = recipe.value("steps", json::array());
  out += "<details><summary>" + std::to_string(steps.size()) +
         " steps</summary>\n<table>\n<tr><th>Lane</th><th>Phase</th><th>Step</th><th>Status</th><th>Time</th>"
         "<th>Message</th></tr>\n";
  for (const auto& step : steps)
    out += "<tr><td>" + xml_escape(step.value("lane", "fresh")) + "</td><td>" +
           xml_escape(step.value("phase", "")) + "</td><td>" + xml_escape(step.value("name", "")) +
           "</td><td>" + xml_escape(step.value("status", "")) + "</td><td class=\"num\">" +
           duration_words(step.value("duration_ms", 0LL)) + "</td><td>" +
           xml_escape(step.value("message", "")) + "</td></tr>\n";
  out += "</table>\n</details>\n";
  return out;
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

std::string run_page_html(const json& results, const fs::path& report_dir) {
  const std::string run_id = results.value("run_id", "");
  std::string body = "<h1>cc-ci run " + xml_escape(run_id) + "</h1>\n<p class=\"muted\">" +
                     xml_escape(results.value("started_at", "")) + " · " +
                     duration_words(results.value("duration_ms", 0LL)) + " · " + counts_words(results) +
                     (results.value("interrupted", false) ? " · <strong>interrupted</strong>" : "") +
                     "</p>\n";
  if (fs::exists(report_dir / "card.png"))
    body += "<p><img src=\"card.png\" width=\"960\" alt=\"summary card of the run\"></p>\n";
  body +=
      "<p><a href=\"results.json\">results.json</a> · <a href=\"junit.xml\">junit.xml</a> · "
      "<a href=\"summary.md\">summary.md</a></p>\n";
  for (const auto& recipe : results.value("recipes", json::array())) body += recipe_html(recipe, report_dir);
  return page("cc-ci run " + run_id, body);
}

std::string dashboard_html(std::vector<DashboardRun> runs) {
  // Newest first; runs without a start time sort last.
  std::sort(runs.begin(), runs.end(), [](const DashboardRun& a, const DashboardRun& b) {
    return a.results.value("started_at", "") > b.results.value("started_at", "");
  });
  // Each recipe's results, newest first, with the run they belong to.
  std::map<std::string, std::vector<std::pair<const DashboardRun*, const json*>>> by_recipe;
  for (const auto& run : runs)
    for (const auto& recipe : run.results["recipes"])
      by_recipe[recipe.value("recipe", "?")].emplace_back(&run, &recipe);

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
            level_badge(*latest) + " " + xml_escape(latest->value("status", "")) +
            "</td><td class=\"muted\">" + xml_escape(latest_run->results.value("started_at", "")) +
            "</td><td>" + history + "</td></tr>\n";
  }
  body +=
      "</table>\n<h2>Runs</h2>\n<table>\n<tr><th>Run</th><th>Started</th><th>Recipes</th><th>Time</th></"
      "tr>\n";
  for (const auto& run : runs)
    body += "<tr><td><a href=\"" + xml_escape(run.folder) + "/index.html\">" +
            xml_escape(run.results.value("run_id", run.folder)) + "</a></td><td>" +
            xml_escape(run.results.value("started_at", "")) + "</td><td>" + counts_words(run.results) +
            (run.results.value("interrupted", false) ? ", interrupted" : "") + "</td><td class=\"num\">" +
            duration_words(run.results.value("duration_ms", 0LL)) + "</td></tr>\n";
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
        runs.push_back({here, read_results(entry.path())});
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
