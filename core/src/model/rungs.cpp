#include "model/rungs.hpp"

#include <algorithm>

namespace ccci {

namespace {

struct RungRow {
  Rung rung;
  std::string_view name;
  std::string_view description;
};

// One row per rung: its report name and what passing it proves.
constexpr RungRow kRungTable[] = {
    {Rung::deploys, "deploys", "deploys and converges"},
    {Rung::serves, "serves", "serves its domain over verified HTTPS"},
    {Rung::checks, "checks", "passes every recipe check"},
    {Rung::persistence, "persistence", "keeps its data across undeploy and redeploy"},
    {Rung::upgrade, "upgrade", "upgrades from the previous release keeping its data"},
    {Rung::backup_restore, "backup_restore", "backup and restore round-trip its data"},
    {Rung::lint, "lint", "abra recipe lint has no failed error-severity rule"},
    {Rung::clean_teardown, "clean_teardown", "teardown leaves no stack, secret, volume or env file behind"},
};

const RungRow& row(Rung rung) {
  return *std::find_if(std::begin(kRungTable), std::end(kRungTable),
                       [rung](const RungRow& candidate) { return candidate.rung == rung; });
}

}  // namespace

std::string_view to_string(Rung rung) {
  return row(rung).name;
}

std::string_view describe(Rung rung) {
  return row(rung).description;
}

std::string_view to_string(RungStatus status) {
  switch (status) {
    case RungStatus::passed:
      return "passed";
    case RungStatus::failed:
      return "failed";
    case RungStatus::errored:
      return "errored";
    case RungStatus::not_applicable:
      return "not_applicable";
    case RungStatus::unverified:
      return "unverified";
  }
  return "unverified";
}

Grade grade(const std::vector<RungResult>& rungs) {
  Grade grade;
  for (const Rung rung : kRungs) {
    const auto found = std::find_if(rungs.begin(), rungs.end(),
                                    [rung](const RungResult& result) { return result.rung == rung; });
    const RungStatus status = found == rungs.end() ? RungStatus::unverified : found->status;
    if (status == RungStatus::passed) {
      grade.level = static_cast<int>(rung);
      continue;
    }
    grade.capped_by = rung;
    const std::string why = found == rungs.end() || found->reason.empty() ? "no reason given" : found->reason;
    grade.reason =
        "level " + std::to_string(static_cast<int>(rung)) + " (" + std::string(describe(rung)) + ") " +
        (status == RungStatus::not_applicable ? "does not apply" : "is " + std::string(to_string(status))) +
        ": " + why;
    return grade;
  }
  grade.reason = "the top of the ladder";
  return grade;
}

}  // namespace ccci
