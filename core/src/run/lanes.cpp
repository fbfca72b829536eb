#include "run/lanes.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "base/markup.hpp"
#include "ccci/abra_client.hpp"
#include "ccci/http.hpp"
#include "ccci/readiness.hpp"
#include "recipe/target.hpp"
#include "run/leftovers.hpp"

namespace ccci {
namespace {

// Why a backup is not restored into the running app.
constexpr std::string_view kNoDamageHook =
    "the recipe's test has no damage() hook to undo the seeded data through the running app, so the "
    "backup is proven only by the restore onto emptied volumes";

// The reason a backup_restore rung is unverified on a server without a backupbot.
constexpr std::string_view kNoBackupbot =
    "the server has no backupbot (the backup-bot-two recipe deployed on it), so abra could not back the app "
    "up: deploy one there to verify backups";

// Why the plugin says `rung` does not apply to its recipe, if it does.
std::optional<std::string> not_applicable(const RecipeInfo& info, Rung rung) {
  for (const auto& declared : info.not_applicable)
    if (declared.rung == rung) return declared.reason.empty() ? "declared by the plugin" : declared.reason;
  return std::nullopt;
}

// verify_seeded() as the proof of a data rung: a hook that checks nothing proves nothing.
void verify(LaneContext& ctx, RecipeTest& test) {
  const size_t calls = ctx.hook_calls();
  ctx.guard("verify_seeded", [&] { test.verify_seeded(ctx); });
  if (ctx.hook_calls() == calls)
    ctx.error("verify_seeded()", "checks nothing, so the data seed() wrote cannot be looked for");
}

// A deployed app's `undeploy` that must find it deployed.
void undeploy(LaneContext& ctx) {
  if (!ctx.client().undeploy(ctx.domain())) throw CheckFailure("the app was not deployed");
}

// `app backup create`. On a server without a backupbot nothing could be
// backed up, so nothing was checked: the step is skipped, not failed.
void back_up(AbraClient& abra, const std::string& domain) {
  try {
    abra.backup(domain);
  } catch (const NoBackupbot& said) {
    throw Unverifiable(std::string(kNoBackupbot) + " (" + said.what() + ")");
  }
}

// The operator's mistake, after a backup: damage() undoes the seeded data
// through the running app, verify_seeded() must then fail (else the restore
// would prove nothing), and the backup goes back into the running app, as
// backupbot restores (the recipe's restore hooks around the files), and
// verify_seeded() must pass again. False when a step did not pass; true too
// when the plugin has no damage(): then only the restore onto emptied
// volumes proves the backup, and the log says so.
bool restore_into_running_app(RecipeTest& test, LaneContext& ctx, const RecipeInfo& info) {
  const size_t calls = ctx.hook_calls();
  const size_t first = ctx.steps_recorded();
  ctx.guard("damage", [&] { test.damage(ctx); });
  if (ctx.steps_recorded() != first && ctx.hook_calls() == calls) return false;  // it threw before any step
  if (ctx.hook_calls() == calls) {
    const std::string why(kNoDamageHook);
    ctx.describe("skip the restore into the running app: " + why);
    ctx.log("the restore into the running app is not tried: " + why);
    return true;
  }
  if (!ctx.passed_since(first)) return false;
  const int failures = ctx.count_failures_quietly([&] { test.verify_seeded(ctx); });
  const bool damaged = ctx.record(StepKind::check, "the seeded data is damaged before the restore", [&] {
    if (failures == 0)
      throw CheckFailure(
          "verify_seeded() still passes after damage(): the damage missed what verify_seeded() looks for, "
          "and a restore would prove nothing");
  });
  if (!damaged ||
      !ctx.act("app restore (into the running app)", [&] { ctx.client().restore(ctx.domain()); }) ||
      !wait_for_readiness(ctx, info))
    return false;
  verify(ctx, test);
  return ctx.passed_since(first);
}

// What to ask Docker about the app's stack, within the current phase.
LeftoverQuery stack_query(const LaneContext& ctx) {
  const RecipeJob& job = ctx.job();
  return {
      .docker = job.docker,
      .server = job.server,
      .domain = job.domain,
      .abra_dir = job.abra.abra_dir.empty() ? default_abra_dir() : std::filesystem::path(job.abra.abra_dir),
      .deadline = ctx.deadline()};
}

std::string joined(const std::vector<std::string>& words, std::string_view separator) {
  std::string text;
  for (const auto& word : words) text += (text.empty() ? "" : std::string(separator)) + word;
  return text;
}

}  // namespace

// Waits until the app answers as info.ready says, within the phase. Returns
// whether it did (in plans: true).
bool wait_for_readiness(LaneContext& ctx, const RecipeInfo& info) {
  const std::string url = ctx.url(info.ready.path);
  const std::string name = "serves " + url + " over verified HTTPS";
  const auto timeout = phase_timeout(ctx.job().timeouts, ctx.phase());
  std::string conditions;
  for (const auto& condition : info.ready.json_equals)
    conditions += " with " + condition.pointer + " = " + json_value(condition).dump();
  const std::string status =
      info.ready.status == kAnyStatus ? "anything from the app itself" : std::to_string(info.ready.status);
  ctx.describe("wait until GET " + url + " answers " + status + conditions + " (polled with backoff, up to " +
               std::to_string(timeout.count()) + "s)");
  return ctx.record(StepKind::readiness, name, [&] {
    const HttpClient client(ctx.http());
    const Readiness readiness = wait_until_ready(client, url, info.ready.status, ctx.deadline(), {},
                                                 json_conditions(info.ready.json_equals));
    ctx.log("readiness: " + std::to_string(readiness.attempts) + " attempt(s)" +
            (readiness.ready ? "" : ", last: " + readiness.last_reason));
    if (!readiness.ready)
      throw CheckFailure("not ready after " + std::to_string(timeout.count()) + "s and " +
                         std::to_string(readiness.attempts) + " attempt(s): " + readiness.last_reason);
  });
}

std::string keep_notice(const RecipeJob& job, std::string_view why) {
  return "app " + job.domain + " on server " + job.server + " kept (" + std::string(why) +
         "); remove it with: abra app undeploy " + job.domain + " && abra app rm " + job.domain + " -f";
}

// The fresh lane after the recipe checks. persistence: seed, undeploy,
// deploy, ready, verify. backup_restore: back up; damage the data in the
// running app, restore into it, verify; then undeploy, remove the volumes,
// deploy on empty ones, check the data is gone (else a restore proves
// nothing), restore, ready, verify: the backup alone brings the app back.
// Each phase stops at the first step that fails, leaving the app for teardown.
void walk_data_phases(RecipeTest& test, LaneContext& ctx, const RecipeInfo& info) {
  const RecipeJob& job = ctx.job();
  AbraClient& abra = ctx.client();
  ctx.begin(Phase::persistence, phase_timeout(job.timeouts, Phase::persistence));
  const size_t calls = ctx.hook_calls();
  const size_t first = ctx.steps_recorded();
  ctx.guard("seed", [&] { test.seed(ctx); });
  if (ctx.hook_calls() == calls) {
    ctx.skip("seed()", std::string(kNoSeedHook));
    return;
  }
  if (!ctx.passed_since(first)) return;
  if (auto why = not_applicable(info, Rung::persistence)) {
    ctx.skip("undeploy and redeploy", std::string(kNotApplicable) + *why);
  } else {
    const bool redeployed = ctx.act("app undeploy (to redeploy)", [&] {
      undeploy(ctx);
    }) && ctx.act("app deploy (again, on the same volumes)", [&] { abra.deploy(job.domain); });
    if (!redeployed || !wait_for_readiness(ctx, info)) return;
    verify(ctx, test);
  }

  ctx.begin(Phase::backup_restore, phase_timeout(job.timeouts, Phase::backup_restore));
  if (auto why = not_applicable(info, Rung::backup_restore)) {
    ctx.skip("backup and restore", std::string(kNotApplicable) + *why);
    return;
  }
  if (!job.backup_surface) {
    ctx.skip("backup and restore", std::string(kNotApplicable) +
                                       "the recipe has no backup surface (no backupbot.backup=true label in "
                                       "its compose files)");
    return;
  }
  if (!ctx.act("app backup create", [&] { back_up(abra, job.domain); }) ||
      !restore_into_running_app(test, ctx, info))
    return;
  const bool destroyed =
      ctx.act("app undeploy (to destroy the data)", [&] { undeploy(ctx); }) &&
      ctx.act("app volume remove (the data is gone)", [&] { abra.remove_volumes(job.domain); }) &&
      ctx.act("app deploy (on empty volumes)", [&] { abra.deploy(job.domain); });
  if (!destroyed || !wait_for_readiness(ctx, info)) return;
  const int failures = ctx.count_failures_quietly([&] { test.verify_seeded(ctx); });
  const bool gone = ctx.record(StepKind::check, "the seeded data is gone before the restore", [&] {
    if (failures == 0)
      throw CheckFailure(
          "verify_seeded() still passes after the app's volumes were removed: the data lives "
          "outside them, where no backup of the volumes reaches, and a restore would prove nothing");
  });
  if (!gone || !ctx.act("app restore (onto the emptied volumes)", [&] { abra.restore(job.domain); }) ||
      !wait_for_readiness(ctx, info))
    return;
  verify(ctx, test);
}

// The upgrade lane after the previous release became ready: seed, move to
// the target (`app upgrade` to a release; a chaos redeploy of the checked-out
// change otherwise), ready, verify, and the recipe checks on the target.
void walk_upgrade(RecipeTest& test, LaneContext& ctx, const RecipeInfo& info) {
  const RecipeJob& job = ctx.job();
  AbraClient& abra = ctx.client();
  ctx.begin(Phase::upgrade, phase_timeout(job.timeouts, Phase::upgrade));
  if (auto why = not_applicable(info, Rung::upgrade)) {
    ctx.skip("the upgrade", std::string(kNotApplicable) + *why);
    return;
  }
  const size_t calls = ctx.hook_calls();
  const size_t first = ctx.steps_recorded();
  ctx.guard("seed", [&] { test.seed(ctx); });
  const bool seeded = ctx.hook_calls() != calls;
  if (!seeded)
    ctx.skip("seed()", std::string(kNoSeedHook));  // the move is still tested; the rung stays unverified
  else if (!ctx.passed_since(first))
    return;
  const RecipeTarget& target = job.target;
  bool moved = false;
  if (target.is_release()) {
    moved = ctx.act("app upgrade to " + target.version, [&] { abra.upgrade(job.domain, target.version); });
  } else {
    const std::filesystem::path checkout = std::filesystem::path(job.abra.abra_dir) / "recipes" / job.recipe;
    moved = ctx.act("check out the change under test (" + target.describe() + ")", [&] {
      ctx.check_out(target, checkout);
      // The chaos deploy takes the plugin's overlay (a release deploy, as the
      // lane's first one was, does not: run/app_steps.cpp says why).
      if (!info.compose_overlay.empty())
        abra.add_compose_overlay(job.domain, job.recipe, ctx.plugin_dir() / info.compose_overlay);
    }) && ctx.act("app deploy --chaos (move to the change)", [&] { abra.deploy_checkout(job.domain); });
  }
  if (!moved) return;
  ctx.moved_to_target();
  if (!wait_for_readiness(ctx, info)) return;
  if (seeded) verify(ctx, test);
  ctx.guard("probe", [&] { test.probe(ctx); });
}

// After a deploy that passed: every service of the stack runs its replicas.
// abra is told not to wait (-c: a healthcheck's start_period trips it), so
// the host waits, within the deploy phase, and rung 1 means "converges".
// Without a docker CLI nothing is asked and readiness alone decides.
void wait_for_convergence(LaneContext& ctx) {
  if (ctx.job().docker.empty()) return;
  const LeftoverQuery query = stack_query(ctx);
  const std::string name = "every service of the stack runs its replicas";
  // "check: NAME" alone on its line: the supervisor reads check names from plans.
  ctx.describe("check: " + name);
  ctx.describe("  polled until the deploy phase ends: GET " + convergence_listing(query).path());
  ctx.describe("  (Docker's API, through " + joined(ctx.docker_engine().dial_command(), " ") + ")");
  ctx.record(StepKind::check, name, [&] {
    // One request on the lane's open connection: cheap enough to ask often,
    // so convergence is seen within a fifth of a second.
    std::vector<std::string> waiting = services_not_converged(ctx.docker_engine(), query);
    int polls = 1;
    while (!waiting.empty() && std::chrono::steady_clock::now() < ctx.deadline()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(200, 50 * polls)));
      waiting = services_not_converged(ctx.docker_engine(), query);
      ++polls;
    }
    if (!waiting.empty())
      throw CheckFailure("did not converge within the deploy phase (" +
                         std::to_string(phase_timeout(ctx.job().timeouts, Phase::deploy).count()) + "s, " +
                         std::to_string(polls) + " looks): " + joined(waiting, "; "));
    ctx.log("converged after " + std::to_string(polls) + " look(s)");
  });
}

// When the recipe's teardown did not finish (`app undeploy` hung past its
// share of the phase, or failed), the host removes the stack through the
// server's Docker context itself, then `app rm`: the run leaves nothing for
// the janitor. The failed step stays, so the clean-teardown rung fails and
// says why. This removal has a teardown timeout of its own.
void remove_what_teardown_left(LaneContext& ctx, size_t first_teardown_step) {
  const RecipeJob& job = ctx.job();
  if (job.docker.empty()) return;  // nothing to reach the server with but abra
  ctx.describe("if teardown does not pass: " + joined(stack_removal_command(stack_query(ctx)), " ") +
               ", then abra app rm " + job.domain + " again");
  if (ctx.passed_since(first_teardown_step)) return;
  ctx.begin(Phase::teardown, phase_timeout(job.timeouts, Phase::teardown));
  ctx.client().set_deadline(ctx.deadline());
  const bool removed = ctx.act(std::string(kHostRemovedStack), [&] {
    if (!remove_stack(ctx.docker_engine(), stack_query(ctx)))
      ctx.log("no stack of the app was left on the server");
  });
  if (removed)
    ctx.act("app rm (after docker stack rm)", [&] {
      if (!ctx.client().remove(job.domain)) ctx.log("app had no env file; nothing to remove");
    });
}

// After teardown: nothing of the app may be left.
void check_nothing_left(LaneContext& ctx) {
  const RecipeJob& job = ctx.job();
  if (job.docker.empty()) return;  // the clean-teardown rung stays unverified
  const LeftoverQuery query = stack_query(ctx);
  const std::string name = std::string(kNothingLeft);
  ctx.describe("check: " + name);
  ctx.describe("  no " + job.domain + ".env, and none of:");
  for (const auto& listing : leftover_listings(query)) ctx.describe("  GET " + listing.path());
  ctx.describe("  (Docker's API, through " + joined(ctx.docker_engine().dial_command(), " ") + ")");
  // Inspected even after a teardown that failed: the host removed what it
  // could (remove_what_teardown_left), and the report says what is left.
  ctx.record(StepKind::check, name, [&] {
    const auto left = find_leftovers(ctx.docker_engine(), query);
    if (left.empty()) return;
    throw CheckFailure("teardown left " + std::to_string(left.size()) +
                       " thing(s) behind: " + joined(left, "; "));
  });
}

}  // namespace ccci
