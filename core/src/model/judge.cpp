#include "model/judge.hpp"

#include <algorithm>

namespace ccci {
namespace {

std::string describe(const StepResult& step) {
  std::string text = "\"" + step.name + "\" " + std::string(to_string(step.status));
  if (!step.message.empty()) text += ": " + step.message;
  return text;
}

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
  const Lane lane = lane_proving(Rung::upgrade);
  if (std::none_of(steps.begin(), steps.end(), [lane](const StepResult& s) { return s.lane == lane; }))
    return {Rung::upgrade, RungStatus::unverified, "the upgrade lane did not run"};
  for (const auto& step : steps)
    if (step.lane == lane && (step.phase == Phase::deploy || step.phase == Phase::probe) &&
        (step.status == Status::failed || step.status == Status::errored))
      return {Rung::upgrade, RungStatus::errored,
              "the previous release could not be deployed to upgrade from: " + describe(step)};
  return judge_phase(steps, lane, Phase::upgrade,
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

// What the fresh deployment did, as rungs 1-3 need it.
struct FreshDeployment {
  const StepResult* deploy_problem = nullptr;
  const StepResult* readiness = nullptr;
  const StepResult* check_problem = nullptr;
  bool deploy_ran = false;
  bool lane_ran = false;
  int checks = 0;
};

FreshDeployment read_fresh_deployment(const std::vector<StepResult>& steps) {
  FreshDeployment fresh;
  for (const auto& step : steps) {
    if (step.lane != lane_proving(Rung::deploys)) continue;
    fresh.lane_ran = true;
    if (step.phase == Phase::deploy) {
      fresh.deploy_ran = fresh.deploy_ran || step.status != Status::skipped;
      if (!counts_as_pass(step.status) && !fresh.deploy_problem) fresh.deploy_problem = &step;
    } else if (step.phase == Phase::probe) {
      if (step.kind == StepKind::readiness) {
        fresh.readiness = &step;
      } else {
        ++fresh.checks;
        if (!counts_as_pass(step.status) && !fresh.check_problem) fresh.check_problem = &step;
      }
    }
  }
  return fresh;
}

// Rungs 1-3 from what the fresh deployment did; each higher rung is judged
// only when the one below it passed.
std::vector<RungResult> judge_serving(const FreshDeployment& fresh) {
  auto judged = [](const StepResult& step) {
    return step.status == Status::errored ? RungStatus::errored : RungStatus::failed;
  };
  if (!fresh.deploy_ran || fresh.deploy_problem)
    return {{Rung::deploys, fresh.deploy_problem ? judged(*fresh.deploy_problem) : RungStatus::unverified,
             fresh.deploy_problem ? "does not deploy: " + describe(*fresh.deploy_problem)
                                  : "deploy was not attempted"}};
  const StepResult* readiness = fresh.readiness;
  if (!readiness || !counts_as_pass(readiness->status))
    return {{Rung::deploys, RungStatus::passed},
            {Rung::serves, readiness ? judged(*readiness) : RungStatus::unverified,
             "does not serve its domain over valid HTTPS" +
                 (readiness ? ": " + describe(*readiness) : std::string(": not probed"))}};
  RungResult checks{Rung::checks, RungStatus::passed};
  if (fresh.check_problem)
    checks = {Rung::checks, judged(*fresh.check_problem),
              "a recipe-specific check did not pass: " + describe(*fresh.check_problem)};
  else if (fresh.checks == 0)
    checks = {Rung::checks, RungStatus::unverified, "the plugin has no recipe-specific checks"};
  return {{Rung::deploys, RungStatus::passed}, {Rung::serves, RungStatus::passed}, checks};
}

}  // namespace

void judge(RecipeResult& result) {
  result.status = overall_status(result.steps);
  const FreshDeployment fresh = read_fresh_deployment(result.steps);
  // Never a pass without a deployment: a recipe that was not tested did not pass.
  if (fresh.lane_ran && !fresh.deploy_ran && counts_as_pass(result.status)) result.status = Status::errored;

  std::vector<RungResult> rungs = judge_serving(fresh);
  // The data rungs and the clean teardown, each from its own phase.
  rungs.push_back(judge_phase(result.steps, lane_proving(Rung::persistence), Phase::persistence,
                              "not reached: the app never served its domain, or seed() did not pass"));
  rungs.push_back(judge_upgrade(result.steps));
  rungs.push_back(judge_phase(result.steps, lane_proving(Rung::backup_restore), Phase::backup_restore,
                              "not reached: nothing was seeded and kept across a redeploy to restore"));
  rungs.push_back(
      judge_phase(result.steps, lane_proving(Rung::lint), Phase::lint, "the lint lane did not run"));
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

Lane lane_proving(Rung rung) {
  switch (rung) {
    case Rung::upgrade:
      return Lane::upgrade;
    case Rung::lint:
      return Lane::lint;
    default:
      return Lane::fresh;
  }
}

bool proves(Rung rung, Lane lane) {
  return rung == Rung::clean_teardown || lane == lane_proving(rung);
}

std::optional<Rung> rung_timed_by(const StepResult& step) {
  const Rung rung = step.kind == StepKind::readiness ? Rung::serves : rung_of(step.phase);
  if (!proves(rung, step.lane)) return std::nullopt;
  return rung;
}

bool is_graded(const RecipeResult& recipe) {
  return recipe.status != Status::skipped && !recipe.rungs.empty();
}

std::string why_not_higher(const RecipeResult& recipe) {
  // At the top of the ladder there is nothing higher to explain.
  if (is_graded(recipe) && recipe.level >= 8) return {};
  return recipe.level_reason;
}

}  // namespace ccci
