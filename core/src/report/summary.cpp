#include "report/summary.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <fstream>
#include <map>
#include <stdexcept>

#include "base/markup.hpp"
#include "ccci/text.hpp"
#include "model/judge.hpp"
#include "model/result.hpp"
#include "model/rungs.hpp"
#include "recipe/names.hpp"
#include "report/artifacts.hpp"
#include "report/badge.hpp"

namespace ccci {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::size_t kLogLines = 20;
constexpr std::size_t kMessageBytes = 600;

std::string_view status_mark(std::string_view status) {
  if (status == "passed") return "✅";
  if (status == "flaky") return "🔁";
  if (status == "failed") return "❌";
  if (status == "errored") return "⚠️";
  if (status == "not_applicable") return "➖";
  if (status == "skipped") return "⏭️";
  return "❔";  // unverified: nothing checked it
}

std::string message_text(const std::string& message) {
  if (message.size() <= kMessageBytes) return markdown_text(message);
  return markdown_text(cut_utf8(message, kMessageBytes)) + " …";
}

std::string url(const SummaryLinks& links, std::string_view path) {
  std::string base = links.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + std::string(path);
}

// Which rung a step's time counts toward: the readiness probe proves that
// the app serves, every other step its phase's rung.
std::optional<Rung> rung_of_step(const json& step) {
  try {
    if (step.value("kind", "") == "readiness") return Rung::serves;
    return rung_of(phase_from_string(step.value("phase", "")));
  } catch (const std::invalid_argument&) {
    return std::nullopt;  // a phase this version does not know: counted nowhere
  }
}

// The lanes whose steps prove a rung (as judge() reads them).
bool proves(Rung rung, std::string_view lane) {
  switch (rung) {
    case Rung::upgrade:
      return lane == "upgrade";
    case Rung::lint:
      return lane == "lint";
    case Rung::clean_teardown:
      return true;
    default:
      return lane == "fresh";
  }
}

std::map<int, long long> rung_durations(const json& recipe) {
  std::map<int, long long> total;
  for (const auto& step : recipe.value("steps", json::array())) {
    const auto rung = rung_of_step(step);
    if (rung && proves(*rung, step.value("lane", "fresh")))
      total[static_cast<int>(*rung)] += step.value("duration_ms", 0LL);
  }
  return total;
}

std::string target_line(const json& recipe) {
  std::string line;
  if (recipe.contains("target") && recipe["target"].is_object())
    line = target_words(recipe["target"], markdown_text, "`", "`") + " · ";
  return line + duration_words(recipe.value("duration_ms", 0LL));
}

struct Render {
  bool logs = true;
};

std::string recipe_section(const json& recipe, const fs::path& report_dir, const SummaryLinks& links,
                           const Render& render) {
  const std::string name = recipe.value("recipe", "?");
  const std::string status = recipe.value("status", "skipped");
  const bool graded = is_graded(recipe);
  std::string out = "## " + markdown_text(name) + ": " + level_words(recipe) + " " +
                    std::string(status_mark(status)) + " " + markdown_text(name_words(status)) + "\n\n";
  if (!links.base_url.empty() && is_recipe_name(name))  // the name is part of the picture's URL
    out += "![cc-ci: " + level_words(recipe) + "](" + url(links, "badges/" + name + ".svg") + ")\n\n";
  out += target_line(recipe) + "\n\n";
  if (!recipe.value("level_reason", "").empty() && (!graded || recipe.value("level", 0) < 8))
    out += "**Why not higher:** " + message_text(recipe.value("level_reason", "")) + "\n\n";
  if (!recipe.value("kept", "").empty())
    out += "**Kept:** " + message_text(recipe.value("kept", "")) + "\n\n";

  if (recipe.contains("rungs")) {
    const auto durations = rung_durations(recipe);
    out += "| Rung | | Status | Time | Why |\n|---:|---|---|---:|---|\n";
    for (const auto& rung : recipe["rungs"]) {
      const int number = rung.value("rung", 0);
      const auto time = durations.find(number);
      out += "| " + std::to_string(number) + " | " + markdown_text(name_words(rung.value("name", ""))) +
             " | " + std::string(status_mark(rung.value("status", ""))) + " " +
             markdown_text(name_words(rung.value("status", ""))) + " | " +
             (time == durations.end() ? std::string() : duration_words(time->second)) + " | " +
             message_text(rung.value("reason", "")) + " |\n";
    }
    out += "\n";
  }
  const json shot = recipe.value("screenshot", json());
  if (const auto picture = screenshot_file(recipe, report_dir); picture && !links.base_url.empty())
    out += "![" + markdown_text(name) + "'s landing page](" + url(links, *picture) + ")\n\n";
  else if (shot.is_object() && !shot.value("missing", "").empty())
    out += "_No screenshot: " + message_text(shot.value("missing", "")) + "_\n\n";

  const json steps = recipe.value("steps", json::array());
  std::vector<const json*> failing;
  for (const auto& step : steps) {
    const std::string step_status = step.value("status", "");
    if (step_status == "failed" || step_status == "errored") failing.push_back(&step);
  }
  if (!failing.empty()) {
    out += "**Failing steps**\n\n";
    for (const json* step : failing)
      out += "- " + std::string(status_mark(step->value("status", ""))) + " " +
             markdown_text(step->value("lane", "fresh")) + " · " + markdown_text(step->value("phase", "")) +
             " · **" + markdown_text(step->value("name", "")) + "** (" +
             duration_words(step->value("duration_ms", 0LL)) +
             "): " + message_text(step->value("message", "")) + "\n";
    out += "\n";
  }
  if (render.logs) {
    // Each lane that did not pass: its log up to its first failing step,
    // where a maintainer looks first (or its end, if no step failed in it).
    for (const auto& lane : recipe.value("lanes", json::array())) {
      const std::string lane_name = lane.value("lane", "");
      const std::string lane_status = lane.value("status", "");
      if (lane_status == "passed" || lane_status == "flaky" || lane_status == "skipped") continue;
      const auto first = std::find_if(failing.begin(), failing.end(), [&](const json* step) {
        return step->value("lane", "fresh") == lane_name;
      });
      const std::string until =
          first == failing.end() ? std::string()
                                 : "\"" + (*first)->value("name", "") + "\" " + (*first)->value("status", "");
      const std::string lines = last_log_lines(report_dir, lane.value("log", ""), kLogLines, until);
      if (lines.empty()) continue;
      out += "<details><summary>The " + markdown_text(lane_name) + " lane's log" +
             (until.empty() ? std::string(", its end") : ", up to " + markdown_text(until)) +
             "</summary>\n\n" + markdown_code_block(lines) + "\n</details>\n\n";
    }
  }
  return out;
}

std::string render_all(const json& results, const fs::path& report_dir, const SummaryLinks& links,
                       const Render& render) {
  std::string out = "# cc-ci\n\n";
  out += "Run `" + markdown_text(results.value("run_id", "")) + "` · " + counts_words(results);
  out += " · " + duration_words(results.value("duration_ms", 0LL)) + "\n\n";
  if (results.value("interrupted", false))
    out +=
        "**Interrupted:** the run was stopped; apps were torn down, and what did not run is not tested.\n\n";
  if (!links.base_url.empty() && links.has_card)
    out += "![cc-ci summary card](" + url(links, "card.png") + ")\n\n";
  for (const auto& recipe : results.value("recipes", json::array()))
    out += recipe_section(recipe, report_dir, links, render);
  if (!links.base_url.empty()) {
    out += "[Full results](" + url(links, "results.json") + ") · [JUnit](" + url(links, "junit.xml") + ")";
    if (links.has_dashboard) out += " · [Dashboard](" + url(links, "index.html") + ")";
    out += "\n";
  }
  return out;
}

}  // namespace

std::string counts_words(const json& results) {
  const json summary = results.value("summary", json::object());
  std::string out = std::to_string(summary.value("passed", 0)) + " passed, " +
                    std::to_string(summary.value("failed", 0)) + " failed, " +
                    std::to_string(summary.value("errored", 0)) + " errored, " +
                    std::to_string(summary.value("skipped", 0)) + " not tested";
  if (summary.value("flaky", 0) > 0) out += ", " + std::to_string(summary.value("flaky", 0)) + " flaky";
  return out;
}

std::string target_words(const json& target, const std::function<std::string(std::string_view)>& escape,
                         std::string_view code_open, std::string_view code_close) {
  std::string out = "commit " + std::string(code_open) + escape(target.value("commit", "").substr(0, 12)) +
                    std::string(code_close);
  if (target.contains("version") && target["version"].is_string())
    out += ", release " + escape(target["version"].get<std::string>());
  else
    out += " (" + escape(target.value("ref", "")) + ", not a release: deployed with --chaos)";
  if (target.value("local_changes", false)) out += ", with local changes";
  if (target.contains("previous_release") && target["previous_release"].is_string())
    out += " · upgraded from " + escape(target["previous_release"].get<std::string>());
  else
    out += " · no earlier release to upgrade from";
  return out;
}

std::string last_log_lines(const fs::path& report_dir, const std::string& relative, std::size_t count,
                           std::string_view until) {
  const auto real = path_inside(report_dir, relative);
  if (!real) return {};
  std::ifstream in(*real, std::ios::binary);
  if (!in) return {};
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(strip_ansi(line));
    if (lines.size() > count) lines.pop_front();
    if (!until.empty() && line.find(until) != std::string::npos) break;
  }
  std::string out;
  for (const auto& kept : lines) out += valid_utf8(kept) + "\n";
  return out;
}

std::optional<std::string> screenshot_file(const json& recipe, const fs::path& report_dir) {
  const json shot = recipe.value("screenshot", json());
  const std::string name = recipe.value("recipe", "");
  if (!shot.is_object() || !is_recipe_name(name)) return std::nullopt;
  // Only the one name cc-ci writes: results.json may come from anywhere.
  const std::string file = "screenshots/" + name + ".png";
  if (shot.value("file", "") != file || !fs::is_regular_file(report_dir / file)) return std::nullopt;
  return file;
}

std::string summary_markdown(const json& results, const fs::path& report_dir, const SummaryLinks& links) {
  std::string out = render_all(results, report_dir, links, {.logs = true});
  if (out.size() <= kSummaryMaxBytes) return out;
  out = render_all(results, report_dir, links, {.logs = false});
  if (out.size() <= kSummaryMaxBytes) return out;
  // Still too long (hundreds of recipes or failing steps): cut at a line end.
  const std::string note =
      "\n\n… cut here: the comment would be longer than Gitea allows; the full results are "
      "in results.json.\n";
  std::string cut = cut_utf8(out, kSummaryMaxBytes - note.size());
  if (const auto end = cut.rfind('\n'); end != std::string::npos) cut.resize(end);
  return cut + note;
}

}  // namespace ccci
