#include "run/lifecycle.hpp"

#include <fcntl.h>

#include <fstream>
#include <stdexcept>

#include "run/app_steps.hpp"
#include "run/events.hpp"
#include "run/lanes.hpp"
#include "run/plan_context.hpp"
#include "run/plugin_loader.hpp"
#include "run/run_context.hpp"

namespace ccci {
namespace {

// The flow of run_lifecycle and plan_lifecycle: one walk over either
// context, so a plan can never drift from what a run does.
void walk_lifecycle(RecipeTest& test, LaneContext& ctx) {
  const RecipeJob& job = ctx.job();
  ctx.begin(Phase::deploy, phase_timeout(job.timeouts, Phase::deploy));
  RecipeInfo info;
  bool have_info = false;
  ctx.guard("info", [&] {
    info = test.info();
    have_info = true;
  });
  if (have_info) deploy_app(test, ctx, info);
  if (have_info && ctx.phase_passed(Phase::deploy)) wait_for_convergence(ctx);

  ctx.begin(Phase::probe, phase_timeout(job.timeouts, Phase::probe));
  bool serving = false;
  if (!ctx.phase_passed(Phase::deploy)) {
    ctx.skip("readiness and checks", "deploy did not succeed");
  } else {
    serving = wait_for_readiness(ctx, info);
    // The upgrade lane checks the recipe on the target, after the move.
    if (serving && job.lane == Lane::fresh)
      ctx.guard("probe", [&] { test.probe(ctx); });
    else if (!serving)
      ctx.skip("recipe checks", "the app never became ready");
  }
  if (serving && job.lane == Lane::fresh) ctx.shoot_landing_page(info);
  if (serving && job.lane == Lane::fresh) walk_data_phases(test, ctx, info);
  if (serving && job.lane == Lane::upgrade) walk_upgrade(test, ctx, info);

  if (job.keep == KeepPolicy::always) {
    ctx.keep(keep_notice(job, "--keep always"));
    return;
  }
  if (job.keep == KeepPolicy::on_failure && ctx.anything_wrong()) {
    ctx.keep(keep_notice(job, "--keep on-failure, and the test failed"));
    return;
  }
  ctx.begin(Phase::teardown, phase_timeout(job.timeouts, Phase::teardown));
  const size_t first_teardown_step = ctx.steps_recorded();
  tear_down_app(test, ctx);
  remove_what_teardown_left(ctx, first_teardown_step);
  check_nothing_left(ctx);
  ctx.teardown_finished();
}

// Where a plan's events go: nowhere (a plan only lists what a run would do).
struct Unheard final : LifecycleObserver {
  void phase_started(Phase, std::chrono::seconds) override {}
  void step_finished(const StepResult&) override {}
  void teardown_finished() override {}
  void kept(const std::string&) override {}
};

// The lint lane: `abra recipe lint` on the target checkout, and its verdict.
// No plugin code runs, nothing is deployed.
void walk_lint(LaneContext& ctx) {
  const RecipeJob& job = ctx.job();
  ctx.begin(Phase::lint, phase_timeout(job.timeouts, Phase::lint));
  LintReport report;
  if (!ctx.act("abra recipe lint " + job.recipe, [&] { report = ctx.client().lint(job.recipe); })) return;
  ctx.check("no error-severity lint rule fails", [&] {
    // Not a verdict on the recipe but on what abra printed: errored, never passed.
    if (!report.understood || report.rules.empty())
      throw std::runtime_error("abra recipe lint printed a table cc-ci could not read whole; see the log");
    std::string failed;
    for (const auto& rule : report.failed_errors())
      failed += (failed.empty() ? "" : "; ") + rule.id + " " + rule.rule;
    for (const auto& rule : report.rules)
      if (rule.severity != "error" && !rule.satisfied && !rule.skipped)
        ctx.log("lint warning: " + rule.id + " " + rule.rule);
    if (!failed.empty()) throw CheckFailure("error-severity rules fail: " + failed);
  });
}

}  // namespace

void run_lint_lane(const RecipeJob& job, LifecycleObserver& observer) {
  RunContext ctx(job, observer);
  walk_lint(ctx);
}

void plan_lint_lane(const RecipeJob& job, const PlanSink& plan) {
  Unheard unheard;
  PlanContext ctx(job, unheard, plan);
  walk_lint(ctx);
}

std::chrono::seconds phase_timeout(const PhaseTimeouts& timeouts, Phase phase) {
  switch (phase) {
    case Phase::deploy:
    case Phase::lint:
      return timeouts.deploy;
    case Phase::probe:
      return timeouts.probe;
    case Phase::persistence:
    case Phase::upgrade:
      return timeouts.deploy + timeouts.probe;
    case Phase::backup_restore:  // a redeploy, and a readiness wait after each of its two restores
      return timeouts.deploy + 2 * timeouts.probe;
    case Phase::teardown:
      return timeouts.teardown;
  }
  return timeouts.deploy;
}

void run_lifecycle(RecipeTest& test, const RecipeJob& job, LifecycleObserver& observer) {
  RunContext ctx(job, observer);
  walk_lifecycle(test, ctx);
}

void plan_lifecycle(RecipeTest& test, const RecipeJob& job, const PlanSink& plan) {
  Unheard unheard;
  PlanContext ctx(job, unheard, plan);
  walk_lifecycle(test, ctx);
}

void run_teardown(RecipeTest& test, const RecipeJob& job, LifecycleObserver& observer,
                  const Redactor& known) {
  RunContext ctx(job, observer, &known);
  ctx.begin(Phase::teardown, phase_timeout(job.timeouts, Phase::teardown));
  const size_t first_teardown_step = ctx.steps_recorded();
  tear_down_app(test, ctx);
  remove_what_teardown_left(ctx, first_teardown_step);
  observer.teardown_finished();
}

std::vector<std::string> declared_checks(RecipeTest& test, const RecipeJob& job) {
  std::vector<std::string> checks;
  plan_lifecycle(test, job, [&](Phase, std::string_view line) {
    if (line.starts_with("check: ")) checks.emplace_back(line.substr(7));
  });
  return checks;
}

int execute_job_file(const std::filesystem::path& job_file, int secrets_fd, int host_fd) {
  // Ours alone: abra and whatever the plugin starts must not inherit them.
  for (const int fd : {secrets_fd, host_fd})
    if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  std::ifstream in(job_file);
  const RecipeJob job = job_from_json(nlohmann::json::parse(in));
  EventWriter events(job.events_file, secrets_fd, host_fd);
  try {
    if (job.lane == Lane::lint) {  // no plugin: abra lints the checkout
      run_lint_lane(job, events);
      events.test_finished();
      return 0;
    }
    const LoadedPlugin plugin(job.plugin_file);
    if (plugin.recipe() != job.recipe && plugin.recipe() != kAnyRecipe)
      throw PluginError("plugin " + job.plugin_file.string() + " now tests " + plugin.recipe() + ", not " +
                        job.recipe);
    // A fresh object for the dry walk: a plugin may keep state between hooks.
    events.checks_declared(declared_checks(*plugin.create(), job));
    run_lifecycle(*plugin.create(), job, events);
    events.test_finished();
    return 0;
  } catch (const std::exception& error) {
    events.fatal(error.what());
    return 3;
  }
}

}  // namespace ccci
