#include "report/summary.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <fstream>
#include <map>
#include <vector>

#include "base/markup.hpp"
#include "ccci/text.hpp"
#include "model/judge.hpp"
#include "model/result.hpp"
#include "recipe/names.hpp"
#include "report/artifacts.hpp"
#include "report/badge.hpp"

namespace ccci {
namespace {

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

std::map<Rung, long long> rung_durations(const RecipeResult& recipe) {
  std::map<Rung, long long> total;
  for (const auto& step : recipe.steps)
    if (const auto rung = rung_timed_by(step)) total[*rung] += step.duration.count();
  return total;
}

std::string target_line(const RecipeResult& recipe) {
  std::string line;
  if (!recipe.target.commit.empty()) line = target_words(recipe.target, markdown_text, "`", "`") + " · ";
  return line + duration_words(recipe.duration.count());
}

struct Render {
  bool logs = true;
};

// The heading (level and status), the badge, what was tested, why not higher, what was kept.
std::string recipe_head(const RecipeResult& recipe, const SummaryLinks& links) {
  const std::string status(to_string(recipe.status));
  std::string out = "## " + markdown_text(recipe.recipe) + ": " + level_words(recipe) + " " +
                    std::string(status_mark(status)) + " " + markdown_text(name_words(status)) + "\n\n";
  if (!links.base_url.empty() && is_recipe_name(recipe.recipe))  // the name is part of the picture's URL
    out +=
        "![cc-ci: " + level_words(recipe) + "](" + url(links, "badges/" + recipe.recipe + ".svg") + ")\n\n";
  out += target_line(recipe) + "\n\n";
  if (const std::string why = why_not_higher(recipe); !why.empty())
    out += "**Why not higher:** " + message_text(why) + "\n\n";
  if (!recipe.kept.empty()) out += "**Kept:** " + message_text(recipe.kept) + "\n\n";
  return out;
}

std::string rung_table(const RecipeResult& recipe) {
  if (recipe.rungs.empty()) return {};
  const auto durations = rung_durations(recipe);
  std::string out = "| Rung | | Status | Time | Why |\n|---:|---|---|---:|---|\n";
  for (const auto& rung : recipe.rungs) {
    const std::string status(to_string(rung.status));
    const auto time = durations.find(rung.rung);
    out += "| " + std::to_string(static_cast<int>(rung.rung)) + " | " +
           markdown_text(name_words(to_string(rung.rung))) + " | " + std::string(status_mark(status)) + " " +
           markdown_text(name_words(status)) + " | " +
           (time == durations.end() ? std::string() : duration_words(time->second)) + " | " +
           message_text(rung.reason) + " |\n";
  }
  return out + "\n";
}

std::string screenshot_line(const RecipeResult& recipe, const fs::path& report_dir,
                            const SummaryLinks& links) {
  const Screenshot& shot = recipe.screenshot;
  if (const auto picture = screenshot_file(recipe, report_dir); picture && !links.base_url.empty())
    return "![" + markdown_text(recipe.recipe) + "'s landing page](" + url(links, *picture) + ")\n\n";
  if (shot.attempted && shot.file.empty() && !shot.missing.empty())
    return "_No screenshot: " + message_text(shot.missing) + "_\n\n";
  return {};
}

std::vector<const StepResult*> failing_steps(const RecipeResult& recipe) {
  std::vector<const StepResult*> failing;
  for (const auto& step : recipe.steps)
    if (step.status == Status::failed || step.status == Status::errored) failing.push_back(&step);
  return failing;
}

std::string failing_list(const std::vector<const StepResult*>& failing) {
  if (failing.empty()) return {};
  std::string out = "**Failing steps**\n\n";
  for (const StepResult* step : failing)
    out += "- " + std::string(status_mark(to_string(step->status))) + " " +
           markdown_text(to_string(step->lane)) + " · " + markdown_text(to_string(step->phase)) + " · **" +
           markdown_text(step->name) + "** (" + duration_words(step->duration.count()) +
           "): " + message_text(step->message) + "\n";
  return out + "\n";
}

// Each lane that did not pass: its log up to its first failing step, where a
// maintainer looks first (or its end, if no step failed in it).
std::string lane_logs(const RecipeResult& recipe, const std::vector<const StepResult*>& failing,
                      const fs::path& report_dir) {
  std::string out;
  for (const auto& lane : recipe.lanes) {
    if (lane.status == Status::passed || lane.status == Status::flaky || lane.status == Status::skipped)
      continue;
    const auto first = std::find_if(failing.begin(), failing.end(),
                                    [&](const StepResult* step) { return step->lane == lane.lane; });
    const std::string until = first == failing.end()
                                  ? std::string()
                                  : "\"" + (*first)->name + "\" " + std::string(to_string((*first)->status));
    const std::string lines = last_log_lines(report_dir, lane.log, kLogLines, until);
    if (lines.empty()) continue;
    out += "<details><summary>The " + markdown_text(to_string(lane.lane)) + " lane's log" +
           (until.empty() ? std::string(", its end") : ", up to " + markdown_text(until)) + "</summary>\n\n" +
           markdown_code_block(lines) + "\n</details>\n\n";
  }
  return out;
}

std::string recipe_section(const RecipeResult& recipe, const fs::path& report_dir, const SummaryLinks& links,
                           const Render& render) {
  const auto failing = failing_steps(recipe);
  return recipe_head(recipe, links) + rung_table(recipe) + screenshot_line(recipe, report_dir, links) +
         failing_list(failing) + (render.logs ? lane_logs(recipe, failing, report_dir) : std::string());
}

std::string render_all(const RunReport& results, const fs::path& report_dir, const SummaryLinks& links,
                       const Render& render) {
  std::string out = "# cc-ci\n\n";
  out += "Run `" + markdown_text(results.run_id) + "` · " + counts_words(results);
  out += " · " + duration_words(run_duration(results).count()) + "\n\n";
  if (results.interrupted)
    out +=
        "**Interrupted:** the run was stopped; apps were torn down, and what did not run is not tested.\n\n";
  if (!links.base_url.empty() && links.has_card)
    out += "![cc-ci summary card](" + url(links, "card.png") + ")\n\n";
  for (const auto& recipe : results.recipes) out += recipe_section(recipe, report_dir, links, render);
  if (!links.base_url.empty()) {
    out += "[Full results](" + url(links, "results.json") + ") · [JUnit](" + url(links, "junit.xml") + ")";
    if (links.has_dashboard) out += " · [Dashboard](" + url(links, "index.html") + ")";
    out += "\n";
  }
  return out;
}

}  // namespace

std::string counts_words(const RunReport& results) {
  const StatusCounts counts = count_statuses(results);
  std::string out = std::to_string(counts.passed) + " passed, " + std::to_string(counts.failed) +
                    " failed, " + std::to_string(counts.errored) + " errored, " +
                    std::to_string(counts.skipped) + " not tested";
  if (counts.flaky > 0) out += ", " + std::to_string(counts.flaky) + " flaky";
  return out;
}

std::string target_words(const RecipeTarget& target,
                         const std::function<std::string(std::string_view)>& escape,
                         std::string_view code_open, std::string_view code_close) {
  std::string out =
      "commit " + std::string(code_open) + escape(target.commit.substr(0, 12)) + std::string(code_close);
  if (!target.version.empty())
    out += ", release " + escape(target.version);
  else
    out += " (" + escape(target.ref) + ", not a release: deployed with --chaos)";
  if (target.local_changes) out += ", with local changes";
  if (!target.previous_release.empty())
    out += " · upgraded from " + escape(target.previous_release);
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

std::optional<std::string> screenshot_file(const RecipeResult& recipe, const fs::path& report_dir) {
  if (!recipe.screenshot.attempted || !is_recipe_name(recipe.recipe)) return std::nullopt;
  // Only the one name cc-ci writes: results.json may come from anywhere.
  const std::string file = "screenshots/" + recipe.recipe + ".png";
  if (recipe.screenshot.file != file || !fs::is_regular_file(report_dir / file)) return std::nullopt;
  return file;
}

std::string summary_markdown(const RunReport& results, const fs::path& report_dir,
                             const SummaryLinks& links) {
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
