#include "model/result_json.hpp"

#include <cstdio>
#include <ctime>

namespace ccci {

using nlohmann::json;

json to_json(const StepResult& step) {
  return {{"lane", to_string(step.lane)},     {"phase", to_string(step.phase)},
          {"kind", to_string(step.kind)},     {"name", step.name},
          {"status", to_string(step.status)}, {"duration_ms", step.duration.count()},
          {"message", step.message}};
}

StepResult step_from_json(const json& in) {
  StepResult step;
  step.lane = lane_from_string(in.value("lane", std::string("fresh")));
  step.phase = phase_from_string(in.at("phase").get<std::string>());
  step.kind = step_kind_from_string(in.value("kind", std::string("action")));
  step.name = in.at("name").get<std::string>();
  step.status = status_from_string(in.at("status").get<std::string>());
  step.duration = std::chrono::milliseconds(in.value("duration_ms", 0LL));
  step.message = in.value("message", std::string());
  return step;
}

std::string format_rfc3339(std::chrono::system_clock::time_point time) {
  const auto since_epoch = time.time_since_epoch();
  const std::time_t whole = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis));
  return text;
}

namespace {

json to_json(const LaneResult& lane) {
  json one = {{"lane", to_string(lane.lane)},
              {"server", lane.server},
              {"domain", lane.domain},
              {"status", to_string(lane.status)},
              {"duration_ms", lane.duration.count()},
              {"log", lane.log},
              {"abra_calls", lane.abra_calls}};
  if (!lane.from.empty()) one["from"] = lane.from;
  if (!lane.kept.empty()) one["kept"] = lane.kept;
  return one;
}

// The target as results.json publishes it (schema v1), not as job.json carries it.
json published_target(const RecipeTarget& target) {
  return {
      {"ref", target.ref},
      {"commit", target.commit},
      {"version", target.version.empty() ? json(nullptr) : json(target.version)},
      {"local_changes", target.local_changes},
      {"deployed_as", target.is_release() ? "release" : "chaos"},
      {"previous_release", target.previous_release.empty() ? json(nullptr) : json(target.previous_release)}};
}

json to_json(const RecipeResult& recipe) {
  json steps = json::array();
  for (const auto& step : recipe.steps) steps.push_back(to_json(step));
  json entry = {{"recipe", recipe.recipe},
                {"server", recipe.server},
                {"domain", recipe.domain},
                {"status", to_string(recipe.status)},
                {"level", recipe.level},
                {"level_reason", recipe.level_reason},
                {"duration_ms", recipe.duration.count()},
                {"log", recipe.log},
                {"steps", std::move(steps)}};
  if (!recipe.kept.empty()) entry["kept"] = recipe.kept;
  if (recipe.screenshot.attempted)
    entry["screenshot"] = recipe.screenshot.file.empty() ? json{{"missing", recipe.screenshot.missing}}
                                                         : json{{"file", recipe.screenshot.file}};
  json rungs = json::array();
  for (const auto& rung : recipe.rungs)
    rungs.push_back({{"rung", static_cast<int>(rung.rung)},
                     {"name", to_string(rung.rung)},
                     {"status", to_string(rung.status)},
                     {"reason", rung.reason}});
  if (!rungs.empty()) entry["rungs"] = std::move(rungs);
  json lanes = json::array();
  for (const auto& lane : recipe.lanes) lanes.push_back(to_json(lane));
  if (!lanes.empty()) entry["lanes"] = std::move(lanes);
  if (!recipe.target.commit.empty()) entry["target"] = published_target(recipe.target);
  return entry;
}

}  // namespace

json to_json(const RunReport& report) {
  const StatusCounts counts = count_statuses(report);
  json summary = {{"passed", counts.passed},
                  {"failed", counts.failed},
                  {"errored", counts.errored},
                  {"skipped", counts.skipped},
                  {"flaky", counts.flaky}};
  json recipes = json::array();
  for (const auto& recipe : report.recipes) recipes.push_back(to_json(recipe));
  return {
      {"schema", "cc-ci/results/v1"},
      {"run_id", report.run_id},
      {"started_at", format_rfc3339(report.started_at)},
      {"finished_at", format_rfc3339(report.finished_at)},
      {"duration_ms",
       std::chrono::duration_cast<std::chrono::milliseconds>(report.finished_at - report.started_at).count()},
      {"interrupted", report.interrupted},
      {"summary", std::move(summary)},
      {"recipes", std::move(recipes)}};
}

}  // namespace ccci
