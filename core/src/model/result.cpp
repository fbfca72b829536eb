#include "model/result.hpp"

#include <stdexcept>

namespace ccci {

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
Enum parse_enum(const std::string& text, const std::array<Enum, N>& values, const char* what) {
  for (Enum value : values)
    if (to_string(value) == text) return value;
  throw std::invalid_argument(std::string("unknown ") + what + " \"" + text + "\"");
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

Status status_from_string(const std::string& text) {
  return parse_enum(text, kStatuses, "status");
}

StepKind step_kind_from_string(const std::string& text) {
  return parse_enum(text, kStepKinds, "step kind");
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

std::chrono::milliseconds run_duration(const RunReport& report) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  return duration_cast<milliseconds>(report.finished_at.time_since_epoch()) -
         duration_cast<milliseconds>(report.started_at.time_since_epoch());
}

bool run_passed(const RunReport& report) {
  const StatusCounts counts = count_statuses(report);
  return !report.recipes.empty() && counts.failed + counts.errored + counts.skipped == 0;
}

}  // namespace ccci
