#include "model/result_json.hpp"

#include <algorithm>
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

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  // Qualified: in one unity unit another ccci:: name (seconds, hours) would hide a using-directive's.
  namespace chrono = std::chrono;
  // Reads `count` digits at `at` into `value`.
  auto digits = [&](std::size_t at, std::size_t count, int& value) {
    if (at + count > text.size()) return false;
    value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      value = value * 10 + (text[i] - '0');
    }
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!digits(0, 4, y) || text.size() < 20 || text[4] != '-' || !digits(5, 2, mo) || text[7] != '-' ||
      !digits(8, 2, d) || (text[10] != 'T' && text[10] != 't') || !digits(11, 2, h) || text[13] != ':' ||
      !digits(14, 2, mi) || text[16] != ':' || !digits(17, 2, s))
    return std::nullopt;
  std::size_t at = 19;
  chrono::nanoseconds fraction{0};
  if (text[at] == '.') {
    const std::size_t first = ++at;
    long long scale = 100'000'000;
    for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, scale /= 10)
      fraction += chrono::nanoseconds((text[at] - '0') * scale);
    if (at == first || at - first > 9) return std::nullopt;  // Go writes at most nanoseconds
  }
  chrono::minutes offset{0};
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int offset_hours = 0, offset_minutes = 0;
    if (!digits(at + 1, 2, offset_hours) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !digits(at + 4, 2, offset_minutes) || offset_hours > 23 || offset_minutes > 59)
      return std::nullopt;
    offset = chrono::hours(offset_hours) + chrono::minutes(offset_minutes);
    if (text[at] == '-') offset = -offset;
    at += 6;
  } else {
    return std::nullopt;
  }
  const chrono::year_month_day date{chrono::year(y), chrono::month(static_cast<unsigned>(mo)),
                                    chrono::day(static_cast<unsigned>(d))};
  // A leap second (:60) is read as the second before it.
  if (at != text.size() || !date.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return chrono::time_point_cast<chrono::system_clock::duration>(
      chrono::sys_days(date) + chrono::hours(h) + chrono::minutes(mi) + chrono::seconds(std::min(s, 59)) +
      fraction - offset);
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
  return {{"schema", "cc-ci/results/v1"},
          {"run_id", report.run_id},
          {"started_at", format_rfc3339(report.started_at)},
          {"finished_at", format_rfc3339(report.finished_at)},
          {"duration_ms", run_duration(report).count()},
          {"interrupted", report.interrupted},
          {"summary", std::move(summary)},
          {"recipes", std::move(recipes)}};
}

}  // namespace ccci
