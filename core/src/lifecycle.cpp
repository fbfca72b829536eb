#include "lifecycle.hpp"

#include <fcntl.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "ccci/abra_client.hpp"
#include "ccci/http.hpp"
#include "ccci/readiness.hpp"
#include "ccci/redactor.hpp"
#include "events.hpp"
#include "leftovers.hpp"
#include "markup.hpp"
#include "plugin_loader.hpp"
#include "screenshot.hpp"

namespace ccci {
namespace {

using Clock = std::chrono::steady_clock;

// Thrown by the host's own step bodies when the step could not be checked at
// all: the step is skipped with this reason, so its rung is unverified, never
// passed and never the recipe's failure. (Plugins cannot throw it.)
class Unverifiable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Why a backup is not restored into the running app.
constexpr std::string_view kNoDamageHook =
    "the recipe's test has no damage() hook to undo the seeded data through the running app, so the "
    "backup is proven only by the restore onto emptied volumes";

// The reason a backup_restore rung is unverified on a server without a backupbot.
constexpr std::string_view kNoBackupbot =
    "the server has no backupbot (the backup-bot-two recipe deployed on it), so abra could not back the app "
    "up: deploy one there to verify backups";

// The Context a plugin sees. Each step is timed, classified, redacted, logged
// and handed to the observer at once, so a crash later loses nothing.
class RunContext final : public Context {
 public:
  RunContext(const RecipeJob& job, LifecycleObserver& observer, const PlanSink& plan,
             const Redactor* known = nullptr)
      : job_(job),
        plugin_dir_(job.plugin_file.parent_path()),
        observer_(observer),
        plan_(plan),
        abra_(
            job.abra, redactor_, [this](std::string_view text) { log(text); },
            plan ? AbraClient::Sink([this](std::string_view line) { plan_(phase_, line); })
                 : AbraClient::Sink()) {
    if (known) redactor_.add_all(*known);
    if (!plan_)
      abra_.set_command_listener(
          [&observer](std::string_view command) { observer.abra_ran(std::string(command)); });
    redactor_.set_listener([&observer](const std::string& secret) { observer.secret_added(secret); });
    if (!plan_ && !job.log_file.empty()) {
      log_ = std::make_shared<spdlog::logger>(
          job.recipe, std::make_shared<spdlog::sinks::basic_file_sink_mt>(job.log_file.string()));
      log_->set_pattern("%H:%M:%S.%e %v");
      log_->flush_on(spdlog::level::trace);  // a crash must not eat the last lines
    }
  }

  const std::string& recipe() const override { return job_.recipe; }
  const std::string& server() const override { return job_.server; }
  const std::string& domain() const override { return job_.domain; }
  AbraClient& abra() override { return abra_; }
  const HttpSettings& http() const override { return job_.http; }
  Clock::time_point deadline() const override { return deadline_; }
  bool dry_run() const override { return static_cast<bool>(plan_); }
  Lane lane() const override { return job_.lane; }
  Rung rung() const override { return rung_; }
  const std::filesystem::path& plugin_dir() const override { return plugin_dir_; }
  const ComposeLayout& compose() const override { return moved_ ? job_.compose_after_move : job_.compose; }
  /// The upgrade lane moved to the target: from now on the app is laid out as it says.
  void moved_to_target() { moved_ = true; }

  void log(std::string_view message) override {
    if (!log_) return;
    // Redacted before and after: a secret split by an escape sequence is whole
    // again once terminal_text drops the sequence.
    std::string text = redactor_.apply(terminal_text(redactor_.apply(message)));
    while (text.ends_with('\n')) text.pop_back();
    log_->info(text);
  }
  void add_secret(std::string value) override { redactor_.add(value); }

  bool step(const std::string& name, const std::function<void()>& action) override {
    ++hook_calls_;
    if (quiet_) return quietly(name, action);
    return record(StepKind::action, name, action);
  }
  bool check(const std::string& name, const std::function<void()>& body) override {
    ++hook_calls_;
    if (quiet_) return quietly(name, body);
    if (plan_) {
      plan_(phase_, "check: " + name);
      return true;
    }
    if (job_.retries == 0) return record(StepKind::check, name, body);
    // With --retries, a check that did not pass runs again; one that passes
    // only then is flaky, with the first failure in its message.
    StepResult first = attempt(body);
    StepResult last = first;
    int attempts = 1;
    while (last.status != Status::passed && attempts <= job_.retries) {
      log("-- retrying \"" + name + "\" after: " + last.message);
      last = attempt(body);
      ++attempts;
    }
    if (attempts > 1 && last.status == Status::passed) {
      last.status = Status::flaky;
      last.message = "passed on attempt " + std::to_string(attempts) + " of " +
                     std::to_string(job_.retries + 1) + "; first attempt: " + first.message;
    }
    last.kind = StepKind::check;
    last.name = name;
    emit(std::move(last));
    return counts_as_pass(steps_.back().status);
  }

  void begin(Phase phase, std::chrono::seconds timeout) {
    phase_ = phase;
    rung_ = rung_of(phase);
    deadline_ = Clock::now() + timeout;
    abra_.set_deadline(deadline_);
    if (!plan_) {
      log("== " + std::string(to_string(phase)) + " (timeout " + std::to_string(timeout.count()) + "s)");
      observer_.phase_started(phase, timeout);
    }
  }

  bool record(StepKind kind, const std::string& name, const std::function<void()>& body) {
    StepResult step = attempt(body);
    step.kind = kind;
    step.name = name;
    if (plan_) return true;
    emit(std::move(step));
    return steps_.back().status == Status::passed;
  }

  /// Calls a plugin hook; only an exception escaping it becomes a step.
  void guard(const char* hook, const std::function<void()>& call) {
    StepResult step = attempt(call);
    if (step.status == Status::passed || plan_) return;
    if (quiet_) {  // a hook that throws because the data is gone says just that
      ++quiet_failures_;
      log("-- (expected to fail) " + std::string(hook) + "() threw: " + redactor_.apply(step.message));
      return;
    }
    step.name = std::string(hook) + "()";
    step.message = "uncaught exception: " + step.message;
    emit(std::move(step));
  }

  /// How many steps and checks hooks have asked for so far (in plans too):
  /// a hook that asked for none did nothing.
  size_t hook_calls() const { return hook_calls_; }
  /// Every step recorded since the `first` one passed (and there is one).
  bool passed_since(size_t first) const {
    if (plan_) return true;
    return first < steps_.size() &&
           std::all_of(steps_.begin() + static_cast<std::ptrdiff_t>(first), steps_.end(),
                       [](const StepResult& s) { return counts_as_pass(s.status); });
  }
  size_t steps_recorded() const { return steps_.size(); }

  /// Runs `hook` with its steps and checks observed but not recorded: how the
  /// host asks "is the data gone?" of a hook written to say it is there.
  /// Returns how many of them did not pass (in plans: 1, as if they failed).
  int count_failures_quietly(const std::function<void()>& hook) {
    quiet_ = true;
    quiet_failures_ = 0;
    guard("verify_seeded", hook);
    quiet_ = false;
    return plan_ ? 1 : quiet_failures_;
  }

  bool phase_passed(Phase phase) const {
    bool any = false;
    for (const auto& step : steps_) {
      if (step.phase != phase) continue;
      any = true;
      if (!counts_as_pass(step.status)) return false;
    }
    return any || plan_;
  }

  bool anything_wrong() const {
    for (const auto& step : steps_)
      if (step.status == Status::failed || step.status == Status::errored) return true;
    return false;
  }

  bool recorded(Phase phase) const {
    return plan_ ||
           std::any_of(steps_.begin(), steps_.end(), [&](const StepResult& s) { return s.phase == phase; });
  }

  void error(const std::string& name, const std::string& why) {
    if (plan_) return;
    emit(
        {.phase = phase_, .kind = StepKind::action, .name = name, .status = Status::errored, .message = why});
  }

  void skip(const std::string& name, const std::string& why) {
    if (plan_) {
      plan_(phase_, "skip " + name + ": " + why);
      return;
    }
    emit({.phase = phase_, .kind = StepKind::check, .name = name, .status = Status::skipped, .message = why});
  }

  const RecipeJob& job() const { return job_; }
  Phase phase() const { return phase_; }
  LifecycleObserver& observer() { return observer_; }
  const PlanSink& plan() const { return plan_; }

 private:
  bool quietly(const std::string& name, const std::function<void()>& body) {
    if (plan_) {
      plan_(phase_, "expect gone: " + name);
      return false;
    }
    const StepResult step = attempt(body);
    if (step.status != Status::passed) ++quiet_failures_;
    log("-- (expected to fail) \"" + name + "\" " + std::string(to_string(step.status)) +
        (step.message.empty() ? "" : ": " + redactor_.apply(step.message)));
    return step.status == Status::passed;
  }

  // Runs `body`: a CheckFailure is a failure, anything else thrown an error.
  StepResult attempt(const std::function<void()>& body) const {
    const auto started = Clock::now();
    StepResult step{.phase = phase_};
    try {
      body();
      step.status = Status::passed;
    } catch (const Unverifiable& why) {
      step.status = Status::skipped;
      step.message = why.what();
    } catch (const CheckFailure& failure) {
      step.status = Status::failed;
      step.message = failure.what();
    } catch (const std::exception& error) {
      step.status = Status::errored;
      step.message = error.what();
    } catch (...) {
      step.status = Status::errored;
      step.message = "an exception that is not a std::exception";
    }
    step.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    return step;
  }

  void emit(StepResult step) {
    step.message = redactor_.apply(step.message);
    log("-- " + std::string(to_string(step.phase)) + " \"" + step.name + "\" " +
        std::string(to_string(step.status)) + (step.message.empty() ? "" : ": " + step.message));
    steps_.push_back(step);
    observer_.step_finished(steps_.back());
  }

  const RecipeJob& job_;
  const std::filesystem::path plugin_dir_;
  LifecycleObserver& observer_;
  const PlanSink plan_;  // a copy: callers may pass a temporary
  Redactor redactor_;
  AbraClient abra_;
  Phase phase_ = Phase::deploy;
  Rung rung_ = Rung::deploys;
  size_t hook_calls_ = 0;
  bool quiet_ = false;
  bool moved_ = false;
  int quiet_failures_ = 0;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::vector<StepResult> steps_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace
}  // namespace ccci

namespace ccci {
namespace {

// Waits until the app answers as info.ready says, within the phase. Returns
// whether it did (in plans: true).
bool wait_for_readiness(RunContext& ctx, const RecipeInfo& info) {
  const std::string url = ctx.url(info.ready.path);
  const std::string name = "serves " + url + " over verified HTTPS";
  const auto timeout = phase_timeout(ctx.job().timeouts, ctx.phase());
  if (ctx.dry_run()) {
    std::string conditions;
    for (const auto& [pointer, value] : info.ready.json_equals)
      conditions += " with " + pointer + " = " + value;
    const std::string status =
        info.ready.status == kAnyStatus ? "anything from the app itself" : std::to_string(info.ready.status);
    ctx.plan()(ctx.phase(), "wait until GET " + url + " answers " + status + conditions +
                                " (polled with backoff, up to " + std::to_string(timeout.count()) + "s)");
    return true;
  }
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

// Why the plugin says `rung` does not apply to its recipe, if it does.
std::optional<std::string> not_applicable(const RecipeInfo& info, Rung rung) {
  for (const auto& declared : info.not_applicable)
    if (declared.rung == rung) return declared.reason.empty() ? "declared by the plugin" : declared.reason;
  return std::nullopt;
}

// verify_seeded() as the proof of a data rung: a hook that checks nothing proves nothing.
void verify(RunContext& ctx, RecipeTest& test) {
  const size_t calls = ctx.hook_calls();
  ctx.guard("verify_seeded", [&] { test.verify_seeded(ctx); });
  if (ctx.hook_calls() == calls)
    ctx.error("verify_seeded()", "checks nothing, so the data seed() wrote cannot be looked for");
}

// A deployed app's `undeploy` that must find it deployed.
void undeploy(RunContext& ctx) {
  if (!ctx.abra().undeploy(ctx.domain())) throw CheckFailure("the app was not deployed");
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

// The landing page, shot while the app serves what the checks just saw. A
// picture is for people: whatever happens, no step and no rung depends on it.
void shoot_landing_page(RunContext& ctx, const RecipeJob& job, const RecipeInfo& info,
                        LifecycleObserver& observer) {
  if (job.screenshot_file.empty()) return;
  std::string missing;
  if (info.screenshot.empty()) {
    missing = "the recipe's test names no page to shoot";
  } else if (auto why = take_screenshot({.browser = job.browser,
                                         .domain = job.domain,
                                         .page = info.screenshot,
                                         .http = job.http,
                                         .output = job.screenshot_file,
                                         .deadline = ctx.deadline()})) {
    missing = *why;
  }
  ctx.log(missing.empty() ? "screenshot of " + ctx.url(info.screenshot) + ": " + job.screenshot_file.string()
                          : "no screenshot of " + ctx.url(info.screenshot) + ": " + missing);
  observer.screenshot_taken(missing);
}

// The operator's mistake, after a backup: damage() undoes the seeded data
// through the running app, verify_seeded() must then fail (else the restore
// would prove nothing), and the backup goes back into the running app, as
// backupbot restores (the recipe's restore hooks around the files), and
// verify_seeded() must pass again. False when a step did not pass; true too
// when the plugin has no damage(): then only the restore onto emptied
// volumes proves the backup, and the log says so.
bool restore_into_running_app(RecipeTest& test, RunContext& ctx, const RecipeInfo& info) {
  const size_t calls = ctx.hook_calls();
  const size_t first = ctx.steps_recorded();
  ctx.guard("damage", [&] { test.damage(ctx); });
  if (ctx.hook_calls() == calls) {
    const std::string why(kNoDamageHook);
    if (ctx.dry_run()) ctx.plan()(Phase::backup_restore, "skip the restore into the running app: " + why);
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
      !ctx.step("app restore (into the running app)", [&] { ctx.abra().restore(ctx.domain()); }) ||
      !wait_for_readiness(ctx, info))
    return false;
  verify(ctx, test);
  return ctx.passed_since(first);
}

// The fresh lane after the recipe checks. persistence: seed, undeploy,
// deploy, ready, verify. backup_restore: back up; damage the data in the
// running app, restore into it, verify; then undeploy, remove the volumes,
// deploy on empty ones, check the data is gone (else a restore proves
// nothing), restore, ready, verify: the backup alone brings the app back.
// Each phase stops at the first step that fails, leaving the app for teardown.
void walk_data_phases(RecipeTest& test, RunContext& ctx, const RecipeInfo& info) {
  const RecipeJob& job = ctx.job();
  AbraClient& abra = ctx.abra();
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
    const bool redeployed = ctx.step("app undeploy (to redeploy)", [&] {
      undeploy(ctx);
    }) && ctx.step("app deploy (again, on the same volumes)", [&] { abra.deploy(job.domain); });
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
  if (!ctx.step("app backup create", [&] { back_up(abra, job.domain); }) ||
      !restore_into_running_app(test, ctx, info))
    return;
  const bool destroyed =
      ctx.step("app undeploy (to destroy the data)", [&] { undeploy(ctx); }) &&
      ctx.step("app volume remove (the data is gone)", [&] { abra.remove_volumes(job.domain); }) &&
      ctx.step("app deploy (on empty volumes)", [&] { abra.deploy(job.domain); });
  if (!destroyed || !wait_for_readiness(ctx, info)) return;
  const int failures = ctx.count_failures_quietly([&] { test.verify_seeded(ctx); });
  const bool gone = ctx.record(StepKind::check, "the seeded data is gone before the restore", [&] {
    if (failures == 0)
      throw CheckFailure(
          "verify_seeded() still passes after the app's volumes were removed: the data lives "
          "outside them, where no backup of the volumes reaches, and a restore would prove nothing");
  });
  if (!gone || !ctx.step("app restore (onto the emptied volumes)", [&] { abra.restore(job.domain); }) ||
      !wait_for_readiness(ctx, info))
    return;
  verify(ctx, test);
}

// The upgrade lane after the previous release became ready: seed, move to
// the target (`app upgrade` to a release; a chaos redeploy of the checked-out
// change otherwise), ready, verify, and the recipe checks on the target.
void walk_upgrade(RecipeTest& test, RunContext& ctx, const RecipeInfo& info) {
  const RecipeJob& job = ctx.job();
  AbraClient& abra = ctx.abra();
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
    moved = ctx.step("app upgrade to " + target.version, [&] { abra.upgrade(job.domain, target.version); });
  } else {
    const std::filesystem::path checkout = std::filesystem::path(job.abra.abra_dir) / "recipes" / job.recipe;
    moved = ctx.step("check out the change under test (" + target.describe() + ")", [&] {
      if (ctx.dry_run()) {
        ctx.plan()(Phase::upgrade, "check out " + target.describe() + " into " + checkout.string());
      } else {
        std::filesystem::remove_all(checkout);
        check_out_target(target, checkout);
      }
      // The chaos deploy takes the plugin's overlay (a release deploy, as the
      // lane's first one was, does not: AbraRecipe::deploy says why).
      if (!info.compose_overlay.empty())
        abra.add_compose_overlay(job.domain, job.recipe, ctx.plugin_dir() / info.compose_overlay);
    }) && ctx.step("app deploy --chaos (move to the change)", [&] { abra.deploy_checkout(job.domain); });
  }
  if (!moved) return;
  ctx.moved_to_target();
  if (!wait_for_readiness(ctx, info)) return;
  if (seeded) verify(ctx, test);
  ctx.guard("probe", [&] { test.probe(ctx); });
}

// What to ask Docker about the app's stack, within the current phase.
LeftoverQuery stack_query(const RunContext& ctx) {
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

// After a deploy that passed: every service of the stack runs its replicas.
// abra is told not to wait (-c: a healthcheck's start_period trips it), so
// the host waits, within the deploy phase, and rung 1 means "converges".
// Without a docker CLI nothing is asked and readiness alone decides.
void wait_for_convergence(RunContext& ctx) {
  if (ctx.job().docker.empty()) return;
  const LeftoverQuery query = stack_query(ctx);
  const std::string name = "every service of the stack runs its replicas";
  if (ctx.dry_run()) {
    // "check: NAME" alone on its line: the supervisor reads check names from plans.
    ctx.plan()(Phase::deploy, "check: " + name);
    ctx.plan()(Phase::deploy,
               "  polled until the deploy phase ends: " + joined(convergence_command(query), " "));
    return;
  }
  ctx.record(StepKind::check, name, [&] {
    std::vector<std::string> waiting = services_not_converged(query);
    int polls = 1;
    while (!waiting.empty() && std::chrono::steady_clock::now() < ctx.deadline()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 100 * polls)));
      waiting = services_not_converged(query);
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
void remove_what_teardown_left(RunContext& ctx, size_t first_teardown_step) {
  const RecipeJob& job = ctx.job();
  if (job.docker.empty()) return;  // nothing to reach the server with but abra
  if (ctx.dry_run()) {
    ctx.plan()(Phase::teardown,
               "if teardown does not pass: " + joined(stack_removal_command(stack_query(ctx)), " ") +
                   ", then abra app rm " + job.domain + " again");
    return;
  }
  if (ctx.passed_since(first_teardown_step)) return;
  ctx.begin(Phase::teardown, phase_timeout(job.timeouts, Phase::teardown));
  ctx.abra().set_deadline(ctx.deadline());
  const bool removed = ctx.step(std::string(kHostRemovedStack), [&] {
    if (!remove_stack(stack_query(ctx))) ctx.log("no stack of the app was left on the server");
  });
  if (removed)
    ctx.step("app rm (after docker stack rm)", [&] {
      if (!ctx.abra().remove(job.domain)) ctx.log("app had no env file; nothing to remove");
    });
}

// After teardown: nothing of the app may be left.
void check_nothing_left(RunContext& ctx) {
  const RecipeJob& job = ctx.job();
  if (job.docker.empty()) return;  // the clean-teardown rung stays unverified
  const LeftoverQuery query = stack_query(ctx);
  const std::string name = std::string(kNothingLeft);
  if (ctx.dry_run()) {
    ctx.plan()(Phase::teardown, "check: " + name);
    ctx.plan()(Phase::teardown, "  no " + job.domain + ".env, and none of:");
    for (const auto& argv : leftover_commands(query)) ctx.plan()(Phase::teardown, "  " + joined(argv, " "));
    return;
  }
  // Inspected even after a teardown that failed: the host removed what it
  // could (remove_what_teardown_left), and the report says what is left.
  ctx.record(StepKind::check, name, [&] {
    const auto left = find_leftovers(query);
    if (left.empty()) return;
    throw CheckFailure("teardown left " + std::to_string(left.size()) +
                       " thing(s) behind: " + joined(left, "; "));
  });
}

// The flow of run_lifecycle and plan_lifecycle: one function, so a plan can
// never drift from what a run does.
void walk_lifecycle(RecipeTest& test, const RecipeJob& job, LifecycleObserver& observer,
                    const PlanSink& plan) {
  RunContext ctx(job, observer, plan);
  ctx.begin(Phase::deploy, phase_timeout(job.timeouts, Phase::deploy));
  RecipeInfo info;
  bool have_info = false;
  ctx.guard("info", [&] {
    info = test.info();
    have_info = true;
  });
  if (have_info) ctx.guard("deploy", [&] { test.deploy(ctx); });
  // A deploy() that records nothing deployed nothing that could be judged.
  if (have_info && !ctx.recorded(Phase::deploy))
    ctx.error("deploy()", "recorded no step: nothing was deployed, so nothing can be judged");
  else if (have_info && ctx.phase_passed(Phase::deploy))
    wait_for_convergence(ctx);

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
  if (serving && job.lane == Lane::fresh && !plan) shoot_landing_page(ctx, job, info, observer);
  if (serving && job.lane == Lane::fresh) walk_data_phases(test, ctx, info);
  if (serving && job.lane == Lane::upgrade) walk_upgrade(test, ctx, info);

  if (!plan && job.keep == KeepPolicy::always) {
    observer.kept(keep_notice(job, "--keep always"));
    return;
  }
  if (!plan && job.keep == KeepPolicy::on_failure && ctx.anything_wrong()) {
    observer.kept(keep_notice(job, "--keep on-failure, and the test failed"));
    return;
  }
  ctx.begin(Phase::teardown, phase_timeout(job.timeouts, Phase::teardown));
  const size_t first_teardown_step = ctx.steps_recorded();
  ctx.guard("teardown", [&] { test.teardown(ctx); });
  remove_what_teardown_left(ctx, first_teardown_step);
  check_nothing_left(ctx);
  if (!plan) observer.teardown_finished();
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
void walk_lint(const RecipeJob& job, LifecycleObserver& observer, const PlanSink& plan) {
  RunContext ctx(job, observer, plan);
  ctx.begin(Phase::lint, phase_timeout(job.timeouts, Phase::lint));
  LintReport report;
  if (!ctx.step("abra recipe lint " + job.recipe, [&] { report = ctx.abra().lint(job.recipe); })) return;
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
  walk_lint(job, observer, {});
}

void plan_lint_lane(const RecipeJob& job, const PlanSink& plan) {
  Unheard unheard;
  walk_lint(job, unheard, plan);
}

std::chrono::seconds phase_timeout(const PhaseTimeouts& timeouts, Phase phase) {
  switch (phase) {
    case Phase::deploy:
    case Phase::lint:
      return timeouts.deploy;
    case Phase::probe:
      return timeouts.probe;
    case Phase::persistence:
    case Phase::backup_restore:
    case Phase::upgrade:
      return timeouts.deploy + timeouts.probe;
    case Phase::teardown:
      return timeouts.teardown;
  }
  return timeouts.deploy;
}

void run_lifecycle(RecipeTest& test, const RecipeJob& job, LifecycleObserver& observer) {
  walk_lifecycle(test, job, observer, {});
}

void plan_lifecycle(RecipeTest& test, const RecipeJob& job, const PlanSink& plan) {
  Unheard unheard;
  walk_lifecycle(test, job, unheard, plan);
}

void run_teardown(RecipeTest& test, const RecipeJob& job, LifecycleObserver& observer,
                  const Redactor& known) {
  RunContext ctx(job, observer, {}, &known);
  ctx.begin(Phase::teardown, phase_timeout(job.timeouts, Phase::teardown));
  const size_t first_teardown_step = ctx.steps_recorded();
  ctx.guard("teardown", [&] { test.teardown(ctx); });
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

int execute_job_file(const std::filesystem::path& job_file, int secrets_fd) {
  // Ours alone: abra and whatever the plugin starts must not inherit it.
  if (secrets_fd >= 0) ::fcntl(secrets_fd, F_SETFD, FD_CLOEXEC);
  std::ifstream in(job_file);
  const RecipeJob job = job_from_json(nlohmann::json::parse(in));
  EventWriter events(job.events_file, secrets_fd);
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
