#include "report.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "ccci/process.hpp"
#include "markup.hpp"

namespace ccci {

using nlohmann::json;

std::string_view to_string(Phase phase) {
  switch (phase) {
    case Phase::deploy:
      return "deploy";
    case Phase::probe:
      return "probe";
    case Phase::persistence:
      return "persistence";
    case Phase::backup_restore:
      return "backup_restore";
    case Phase::upgrade:
      return "upgrade";
    case Phase::lint:
      return "lint";
    case Phase::teardown:
      return "teardown";
  }
  return "?";
}

std::string_view to_string(Lane lane) {
  switch (lane) {
    case Lane::fresh:
      return "fresh";
    case Lane::upgrade:
      return "upgrade";
    case Lane::lint:
      return "lint";
  }
  return "?";
}

Rung rung_of(Phase phase) {
  switch (phase) {
    case Phase::deploy:
      return Rung::deploys;
    case Phase::probe:
      return Rung::checks;
    case Phase::persistence:
      return Rung::persistence;
    case Phase::backup_restore:
      return Rung::backup_restore;
    case Phase::upgrade:
      return Rung::upgrade;
    case Phase::lint:
      return Rung::lint;
    case Phase::teardown:
      return Rung::clean_teardown;
  }
  return Rung::deploys;
}

std::string_view to_string(Status status) {
  switch (status) {
    case Status::passed:
      return "passed";
    case Status::failed:
      return "failed";
    case Status::errored:
      return "errored";
    case Status::skipped:
      return "skipped";
    case Status::flaky:
      return "flaky";
  }
  return "?";
}

std::string_view to_string(StepKind kind) {
  switch (kind) {
    case StepKind::action:
      return "action";
    case StepKind::readiness:
      return "readiness";
    case StepKind::check:
      return "check";
  }
  return "?";
}

namespace {

template <typename Enum, size_t N>
Enum parse_enum(const std::string& text, const Enum (&values)[N], const char* what) {
  for (Enum value : values)
    if (to_string(value) == text) return value;
  throw std::invalid_argument(std::string("unknown ") + what + " \"" + text + "\"");
}

constexpr Phase kPhases[] = {Phase::deploy,  Phase::probe, Phase::persistence, Phase::backup_restore,
                             Phase::upgrade, Phase::lint,  Phase::teardown};
constexpr Status kStatuses[] = {Status::passed, Status::failed, Status::errored, Status::skipped,
                                Status::flaky};
constexpr StepKind kKinds[] = {StepKind::action, StepKind::readiness, StepKind::check};
constexpr Lane kLanes[] = {Lane::fresh, Lane::upgrade, Lane::lint};

std::string describe(const StepResult& step) {
  std::string text = "\"" + step.name + "\" " + std::string(to_string(step.status));
  if (!step.message.empty()) text += ": " + step.message;
  return text;
}

std::string seconds(std::chrono::milliseconds duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", static_cast<double>(duration.count()) / 1000.0);
  return text;
}

}  // namespace

bool counts_as_pass(Status status) {
  return status == Status::passed || status == Status::flaky;
}

Phase phase_from_string(const std::string& text) {
  return parse_enum(text, kPhases, "phase");
}

Lane lane_from_string(const std::string& text) {
  return parse_enum(text, kLanes, "lane");
}

Status overall_status(const std::vector<StepResult>& steps) {
  if (steps.empty()) return Status::skipped;
  bool failed = false;
  bool flaky = false;
  bool ran = false;
  for (const auto& step : steps) {
    if (step.status == Status::errored) return Status::errored;
    failed = failed || step.status == Status::failed;
    flaky = flaky || step.status == Status::flaky;
    ran = ran || step.status != Status::skipped;
  }
  if (failed) return Status::failed;
  if (flaky) return Status::flaky;
  return ran ? Status::passed : Status::skipped;
}

namespace {

// A rung proven by one phase: its first failed or errored step says no; a
// skipped step says why it was not checked (not applicable, when its message
// says so); otherwise the phase passed, if it recorded anything.
RungResult judge_phase(const std::vector<StepResult>& steps, Lane lane, Phase phase,
                       std::string_view not_reached) {
  const Rung rung = rung_of(phase);
  const StepResult* skipped = nullptr;
  bool checked = false;
  for (const auto& step : steps) {
    if (step.lane != lane || step.phase != phase) continue;
    if (step.status == Status::failed || step.status == Status::errored)
      return {rung, step.status == Status::errored ? RungStatus::errored : RungStatus::failed,
              "did not pass: " + describe(step)};
    if (step.status == Status::skipped && !skipped) skipped = &step;
    // Teardown's own actions prove nothing about what they left: only the inspection does.
    checked =
        checked || (phase != Phase::teardown ? step.status != Status::skipped
                                             : step.name == kNothingLeft && step.status != Status::skipped);
  }
  if (skipped) {
    if (skipped->message.starts_with(kNotApplicable))
      return {rung, RungStatus::not_applicable, skipped->message.substr(kNotApplicable.size())};
    return {rung, RungStatus::unverified, skipped->name + " skipped: " + skipped->message};
  }
  if (!checked) return {rung, RungStatus::unverified, std::string(not_reached)};
  return {rung, RungStatus::passed};
}

// The upgrade rung: its phase, and before it the previous release's own
// deploy and readiness, whose failure means the upgrade could not be tried.
RungResult judge_upgrade(const std::vector<StepResult>& steps) {
  if (std::none_of(steps.begin(), steps.end(), [](const StepResult& s) { return s.lane == Lane::upgrade; }))
    return {Rung::upgrade, RungStatus::unverified, "the upgrade lane did not run"};
  for (const auto& step : steps)
    if (step.lane == Lane::upgrade && (step.phase == Phase::deploy || step.phase == Phase::probe) &&
        (step.status == Status::failed || step.status == Status::errored))
      return {Rung::upgrade, RungStatus::errored,
              "the previous release could not be deployed to upgrade from: " + describe(step)};
  return judge_phase(steps, Lane::upgrade, Phase::upgrade,
                     "not reached: the previous release never served its domain");
}

// Rung 8 over every lane that deployed: each teardown inspected and clean.
RungResult judge_clean_teardown(const RecipeResult& result) {
  RungResult verdict{Rung::clean_teardown, RungStatus::passed};
  bool any = false;
  for (const Lane lane : {Lane::fresh, Lane::upgrade}) {
    if (std::none_of(result.steps.begin(), result.steps.end(), [&](const StepResult& s) {
          return s.lane == lane && s.phase == Phase::deploy && s.status != Status::skipped;
        }))
      continue;  // this lane deployed nothing
    any = true;
    RungResult lane_verdict =
        judge_phase(result.steps, lane, Phase::teardown,
                    result.kept.empty()
                        ? "nothing inspected the server after teardown (cc-ci needs a docker CLI: --docker)"
                        : "teardown was skipped: " + result.kept);
    if (lane_verdict.status == RungStatus::passed) continue;
    // The app is gone only because the host removed its stack: the recipe's
    // own teardown did not do it, which is the recipe's failure, said so.
    const bool host_removed = std::any_of(result.steps.begin(), result.steps.end(), [&](const StepResult& s) {
      return s.lane == lane && s.phase == Phase::teardown && s.name.ends_with(kHostRemovedStack) &&
             s.status == Status::passed;
    });
    if (host_removed)
      lane_verdict = {
          Rung::clean_teardown, RungStatus::failed,
          "teardown did not finish by itself, so the host removed the stack with docker stack rm (" +
              lane_verdict.reason + ")"};
    // The worst lane speaks: failed and errored before unverified.
    if (verdict.status == RungStatus::passed || lane_verdict.status == RungStatus::failed ||
        (lane_verdict.status == RungStatus::errored && verdict.status != RungStatus::failed))
      verdict = {Rung::clean_teardown, lane_verdict.status,
                 std::string(to_string(lane)) + " lane: " + lane_verdict.reason};
  }
  if (!any) return {Rung::clean_teardown, RungStatus::unverified, "no lane deployed the app"};
  return verdict;
}

}  // namespace

void judge(RecipeResult& result) {
  result.status = overall_status(result.steps);

  const StepResult* deploy_problem = nullptr;
  const StepResult* readiness = nullptr;
  const StepResult* check_problem = nullptr;
  bool deploy_ran = false;
  int checks = 0;
  bool fresh_lane = false;
  for (const auto& step : result.steps) {
    if (step.lane != Lane::fresh) continue;
    fresh_lane = true;
    if (step.phase == Phase::deploy) {
      deploy_ran = deploy_ran || step.status != Status::skipped;
      if (!counts_as_pass(step.status) && !deploy_problem) deploy_problem = &step;
    } else if (step.phase == Phase::probe) {
      if (step.kind == StepKind::readiness) {
        readiness = &step;
      } else {
        ++checks;
        if (!counts_as_pass(step.status) && !check_problem) check_problem = &step;
      }
    }
  }

  // Never a pass without a deployment: a recipe that was not tested did not pass.
  if (fresh_lane && !deploy_ran && counts_as_pass(result.status)) result.status = Status::errored;

  // Rungs 1-3 from what the fresh deployment did; each higher rung is judged
  // only when the one below it passed.
  auto judged = [](const StepResult& step) {
    return step.status == Status::errored ? RungStatus::errored : RungStatus::failed;
  };
  std::vector<RungResult> rungs;
  if (!deploy_ran || deploy_problem) {
    rungs.push_back(
        {Rung::deploys, deploy_problem ? judged(*deploy_problem) : RungStatus::unverified,
         deploy_problem ? "does not deploy: " + describe(*deploy_problem) : "deploy was not attempted"});
  } else {
    rungs.push_back({Rung::deploys, RungStatus::passed});
    if (!readiness || !counts_as_pass(readiness->status)) {
      rungs.push_back({Rung::serves, readiness ? judged(*readiness) : RungStatus::unverified,
                       "does not serve its domain over valid HTTPS" +
                           (readiness ? ": " + describe(*readiness) : std::string(": not probed"))});
    } else {
      rungs.push_back({Rung::serves, RungStatus::passed});
      if (check_problem)
        rungs.push_back({Rung::checks, judged(*check_problem),
                         "a recipe-specific check did not pass: " + describe(*check_problem)});
      else if (checks == 0)
        rungs.push_back({Rung::checks, RungStatus::unverified, "the plugin has no recipe-specific checks"});
      else
        rungs.push_back({Rung::checks, RungStatus::passed});
    }
  }
  // The data rungs and the clean teardown, each from its own phase.
  rungs.push_back(judge_phase(result.steps, Lane::fresh, Phase::persistence,
                              "not reached: the app never served its domain, or seed() did not pass"));
  rungs.push_back(judge_upgrade(result.steps));
  rungs.push_back(judge_phase(result.steps, Lane::fresh, Phase::backup_restore,
                              "not reached: nothing was seeded and kept across a redeploy to restore"));
  rungs.push_back(judge_phase(result.steps, Lane::lint, Phase::lint, "the lint lane did not run"));
  rungs.push_back(judge_clean_teardown(result));
  for (const Rung rung : kRungs)
    if (std::none_of(rungs.begin(), rungs.end(), [rung](const RungResult& r) { return r.rung == rung; }))
      rungs.push_back({rung, RungStatus::unverified, "not reached: a lower rung did not pass"});
  std::sort(rungs.begin(), rungs.end(),
            [](const RungResult& a, const RungResult& b) { return a.rung < b.rung; });

  const Grade graded = grade(rungs);
  result.rungs = std::move(rungs);
  result.level = graded.level;
  // Below level 3 the capping rung's own words say it best.
  result.level_reason = graded.level < 3 && graded.capped_by
                            ? result.rungs[static_cast<size_t>(*graded.capped_by) - 1].reason
                            : graded.reason;
}

StatusCounts count_statuses(const RunReport& report) {
  StatusCounts counts;
  for (const auto& recipe : report.recipes) {
    switch (recipe.status) {
      case Status::passed:
        ++counts.passed;
        break;
      case Status::failed:
        ++counts.failed;
        break;
      case Status::errored:
        ++counts.errored;
        break;
      case Status::skipped:
        ++counts.skipped;
        break;
      case Status::flaky:
        ++counts.flaky;
        break;
    }
  }
  return counts;
}

bool run_passed(const RunReport& report) {
  const StatusCounts counts = count_statuses(report);
  return !report.recipes.empty() && counts.failed + counts.errored + counts.skipped == 0;
}

json to_json(const StepResult& step) {
  return {{"lane", to_string(step.lane)},     {"phase", to_string(step.phase)},
          {"kind", to_string(step.kind)},     {"name", step.name},
          {"status", to_string(step.status)}, {"duration_ms", step.duration.count()},
          {"message", step.message}};
}

StepResult step_from_json(const json& in) {
  StepResult step;
  step.lane = parse_enum(in.value("lane", std::string("fresh")), kLanes, "lane");
  step.phase = parse_enum(in.at("phase").get<std::string>(), kPhases, "phase");
  step.kind = parse_enum(in.value("kind", std::string("action")), kKinds, "step kind");
  step.name = in.at("name").get<std::string>();
  step.status = parse_enum(in.at("status").get<std::string>(), kStatuses, "status");
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

json to_json(const RunReport& report) {
  const StatusCounts counts = count_statuses(report);
  json summary = {{"passed", counts.passed},
                  {"failed", counts.failed},
                  {"errored", counts.errored},
                  {"skipped", counts.skipped},
                  {"flaky", counts.flaky}};
  json recipes = json::array();
  for (const auto& recipe : report.recipes) {
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
    for (const auto& lane : recipe.lanes) {
      json one = {{"lane", to_string(lane.lane)},
                  {"server", lane.server},
                  {"domain", lane.domain},
                  {"status", to_string(lane.status)},
                  {"duration_ms", lane.duration.count()},
                  {"log", lane.log},
                  {"abra_calls", lane.abra_calls}};
      if (!lane.from.empty()) one["from"] = lane.from;
      if (!lane.kept.empty()) one["kept"] = lane.kept;
      lanes.push_back(std::move(one));
    }
    if (!lanes.empty()) entry["lanes"] = std::move(lanes);
    if (!recipe.target.commit.empty()) {
      const RecipeTarget& target = recipe.target;
      entry["target"] = {{"ref", target.ref},
                         {"commit", target.commit},
                         {"version", target.version.empty() ? json(nullptr) : json(target.version)},
                         {"local_changes", target.local_changes},
                         {"deployed_as", target.is_release() ? "release" : "chaos"},
                         {"previous_release",
                          target.previous_release.empty() ? json(nullptr) : json(target.previous_release)}};
    }
    recipes.push_back(std::move(entry));
  }
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

std::string to_junit(const RunReport& report) {
  struct Counts {
    int tests = 0, failures = 0, errors = 0, skipped = 0;
    void add(Status status) {
      ++tests;
      failures += status == Status::failed;
      errors += status == Status::errored;
      skipped += status == Status::skipped;
    }
    std::string attributes() const {
      return "tests=\"" + std::to_string(tests) + "\" failures=\"" + std::to_string(failures) +
             "\" errors=\"" + std::to_string(errors) + "\" skipped=\"" + std::to_string(skipped) + "\"";
    }
  };

  Counts all;
  std::string suites;
  for (const auto& recipe : report.recipes) {
    Counts counts;
    std::string cases;
    for (const auto& step : recipe.steps) {
      counts.add(step.status);
      const std::string lane = step.lane == Lane::fresh ? "" : std::string(to_string(step.lane)) + ".";
      cases += "    <testcase classname=\"" +
               xml_escape(recipe.recipe + "." + lane + std::string(to_string(step.phase))) + "\" name=\"" +
               xml_escape(step.name) + "\" time=\"" + seconds(step.duration) + "\"";
      const std::string message = xml_escape(step.message);
      switch (step.status) {
        case Status::passed:
          cases += "/>\n";
          break;
        case Status::flaky:  // passed, but say so where CI servers show output
          cases += ">\n      <system-out>flaky: " + message + "</system-out>\n    </testcase>\n";
          break;
        case Status::failed:
          cases +=
              ">\n      <failure message=\"" + message + "\">" + message + "</failure>\n    </testcase>\n";
          break;
        case Status::errored:
          cases += ">\n      <error message=\"" + message + "\">" + message + "</error>\n    </testcase>\n";
          break;
        case Status::skipped:
          cases += ">\n      <skipped message=\"" + message + "\"/>\n    </testcase>\n";
          break;
      }
    }
    // One testcase per rung, so a CI server's test view shows the ladder too.
    for (const auto& rung : recipe.rungs) {
      const std::string message = xml_escape(rung.reason);
      cases += "    <testcase classname=\"" + xml_escape(recipe.recipe) + ".rungs\" name=\"" +
               std::to_string(static_cast<int>(rung.rung)) + " " + std::string(to_string(rung.rung)) +
               "\" time=\"0.000\"";
      switch (rung.status) {
        case RungStatus::passed:
          counts.add(Status::passed);
          cases += "/>\n";
          break;
        case RungStatus::failed:
          counts.add(Status::failed);
          cases +=
              ">\n      <failure message=\"" + message + "\">" + message + "</failure>\n    </testcase>\n";
          break;
        case RungStatus::errored:
          counts.add(Status::errored);
          cases += ">\n      <error message=\"" + message + "\">" + message + "</error>\n    </testcase>\n";
          break;
        case RungStatus::not_applicable:
        case RungStatus::unverified:
          counts.add(Status::skipped);
          cases += ">\n      <skipped message=\"" + std::string(to_string(rung.status)) + ": " + message +
                   "\"/>\n    </testcase>\n";
          break;
      }
    }
    all.tests += counts.tests;
    all.failures += counts.failures;
    all.errors += counts.errors;
    all.skipped += counts.skipped;
    suites += "  <testsuite name=\"" + xml_escape(recipe.recipe) + "\" " + counts.attributes() + " time=\"" +
              seconds(recipe.duration) + "\" timestamp=\"" + format_rfc3339(report.started_at) + "\">\n" +
              "    <properties>\n" + "      <property name=\"server\" value=\"" + xml_escape(recipe.server) +
              "\"/>\n" + "      <property name=\"domain\" value=\"" + xml_escape(recipe.domain) + "\"/>\n" +
              (recipe.target.commit.empty()
                   ? std::string()
                   : "      <property name=\"target\" value=\"" + xml_escape(recipe.target.describe()) +
                         "\"/>\n      <property name=\"commit\" value=\"" + xml_escape(recipe.target.commit) +
                         "\"/>\n") +
              "      <property name=\"level\" value=\"" + std::to_string(recipe.level) + "\"/>\n" +
              "      <property name=\"level_reason\" value=\"" + xml_escape(recipe.level_reason) + "\"/>\n" +
              "    </properties>\n" + cases + "    <system-out>log: " + xml_escape(recipe.log) +
              "</system-out>\n  </testsuite>\n";
  }
  const auto total =
      std::chrono::duration_cast<std::chrono::milliseconds>(report.finished_at - report.started_at);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"cc-ci\" " + all.attributes() +
         " time=\"" + seconds(total) + "\">\n" + suites + "</testsuites>\n";
}

namespace {

[[noreturn]] void fail_io(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, const std::string& content) {
  // Temp file, fsync, rename, fsync of the folder: after a crash or power
  // loss a reader finds the old file or the new one, whole, never half.
  const std::string temporary = path.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_io("cannot create " + temporary);
  int open_fd = fd;  // -1 once closed
  // Every failure after the temporary exists removes it, and reports the first errno.
  auto give_up = [&](const std::string& what) {
    const int error = errno;
    if (open_fd >= 0) ::close(open_fd);
    ::unlink(temporary.c_str());
    errno = error;
    fail_io(what);
  };
  if (!write_all(fd, content)) give_up("cannot write " + temporary);
  if (::fsync(fd) < 0) give_up("cannot sync " + temporary);
  open_fd = -1;  // close() releases the descriptor even when it fails
  if (::close(fd) < 0) give_up("cannot close " + temporary);
  if (::rename(temporary.c_str(), path.c_str()) < 0)
    give_up("cannot rename " + temporary + " to " + path.string());
  const std::string folder = path.has_parent_path() ? path.parent_path().string() : ".";
  const int folder_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder_fd >= 0) {
    ::fsync(folder_fd);
    ::close(folder_fd);
  }
}

void write_reports(const RunReport& report, const std::filesystem::path& directory) {
  std::filesystem::create_directories(directory);
  // Content never stops a report: bytes that are not UTF-8 become U+FFFD.
  write_file_atomically(directory / "results.json",
                        to_json(report).dump(2, ' ', false, json::error_handler_t::replace) + "\n");
  write_file_atomically(directory / "junit.xml", to_junit(report));
}

}  // namespace ccci
