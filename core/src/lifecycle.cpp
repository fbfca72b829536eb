#include "lifecycle.hpp"

#include <fcntl.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>

#include <algorithm>
#include <fstream>

#include "ccci/abra_client.hpp"
#include "ccci/http.hpp"
#include "ccci/readiness.hpp"
#include "ccci/redactor.hpp"
#include "events.hpp"
#include "plugin_loader.hpp"

namespace ccci {
namespace {

using Clock = std::chrono::steady_clock;

// The Context a plugin sees. Each step is timed, classified, redacted, logged
// and handed to the observer at once, so a crash later loses nothing.
class RunContext final : public Context {
 public:
  RunContext(const RecipeJob& job, LifecycleObserver& observer, const PlanSink& plan,
             const Redactor* known = nullptr)
      : job_(job),
        observer_(observer),
        plan_(plan),
        abra_(
            job.abra, redactor_, [this](std::string_view text) { log(text); },
            plan ? AbraClient::Sink([this](std::string_view line) { plan_(phase_, line); })
                 : AbraClient::Sink()) {
    if (known) redactor_.add_all(*known);
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

  void log(std::string_view message) override {
    if (!log_) return;
    std::string text = redactor_.apply(message);
    while (text.ends_with('\n')) text.pop_back();
    log_->info(text);
  }
  void add_secret(std::string value) override { redactor_.add(value); }

  bool step(const std::string& name, const std::function<void()>& action) override {
    return record(StepKind::action, name, action);
  }
  bool check(const std::string& name, const std::function<void()>& body) override {
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
    step.name = std::string(hook) + "()";
    step.message = "uncaught exception: " + step.message;
    emit(std::move(step));
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
    if (plan_) return;
    emit({.phase = phase_, .kind = StepKind::check, .name = name, .status = Status::skipped, .message = why});
  }

  const RecipeJob& job() const { return job_; }
  LifecycleObserver& observer() { return observer_; }
  const PlanSink& plan() const { return plan_; }

 private:
  // Runs `body`: a CheckFailure is a failure, anything else thrown an error.
  StepResult attempt(const std::function<void()>& body) const {
    const auto started = Clock::now();
    StepResult step{.phase = phase_};
    try {
      body();
      step.status = Status::passed;
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
  LifecycleObserver& observer_;
  const PlanSink plan_;  // a copy: callers may pass a temporary
  Redactor redactor_;
  AbraClient abra_;
  Phase phase_ = Phase::deploy;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::vector<StepResult> steps_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace
}  // namespace ccci

namespace ccci {
namespace {

void wait_for_readiness(RunContext& ctx, const RecipeInfo& info, std::chrono::seconds timeout) {
  const std::string url = ctx.url(info.ready.path);
  const std::string name = "serves " + url + " over verified HTTPS";
  if (ctx.dry_run()) {
    std::string conditions;
    for (const auto& [pointer, value] : info.ready.json_equals)
      conditions += " with " + pointer + " = " + value;
    ctx.plan()(Phase::probe, "wait until GET " + url + " answers " + std::to_string(info.ready.status) +
                                 conditions + " (polled with backoff, up to " +
                                 std::to_string(timeout.count()) + "s)");
    return;
  }
  ctx.record(StepKind::readiness, name, [&] {
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

// The flow of run_lifecycle and plan_lifecycle: one function, so a plan can
// never drift from what a run does.
void walk_lifecycle(RecipeTest& test, const RecipeJob& job, LifecycleObserver& observer,
                    const PlanSink& plan) {
  RunContext ctx(job, observer, plan);
  ctx.begin(Phase::deploy, job.timeouts.deploy);
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

  ctx.begin(Phase::probe, job.timeouts.probe);
  if (!ctx.phase_passed(Phase::deploy)) {
    ctx.skip("readiness and checks", "deploy did not succeed");
  } else {
    wait_for_readiness(ctx, info, job.timeouts.probe);
    if (ctx.phase_passed(Phase::probe))
      ctx.guard("probe", [&] { test.probe(ctx); });
    else
      ctx.skip("recipe checks", "the app never became ready");
  }

  if (!plan && job.keep == KeepPolicy::always) {
    observer.kept(keep_notice(job, "--keep always"));
    return;
  }
  if (!plan && job.keep == KeepPolicy::on_failure && ctx.anything_wrong()) {
    observer.kept(keep_notice(job, "--keep on-failure, and the test failed"));
    return;
  }
  ctx.begin(Phase::teardown, job.timeouts.teardown);
  ctx.guard("teardown", [&] { test.teardown(ctx); });
  if (!plan) observer.teardown_finished();
}

}  // namespace

void run_lifecycle(RecipeTest& test, const RecipeJob& job, LifecycleObserver& observer) {
  walk_lifecycle(test, job, observer, {});
}

void plan_lifecycle(RecipeTest& test, const RecipeJob& job, const PlanSink& plan) {
  struct Unheard final : LifecycleObserver {
    void phase_started(Phase, std::chrono::seconds) override {}
    void step_finished(const StepResult&) override {}
    void teardown_finished() override {}
    void kept(const std::string&) override {}
  } unheard;
  walk_lifecycle(test, job, unheard, plan);
}

void run_teardown(RecipeTest& test, const RecipeJob& job, LifecycleObserver& observer,
                  const Redactor& known) {
  RunContext ctx(job, observer, {}, &known);
  ctx.begin(Phase::teardown, job.timeouts.teardown);
  ctx.guard("teardown", [&] { test.teardown(ctx); });
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
    const LoadedPlugin plugin(job.plugin_file);
    if (plugin.recipe() != job.recipe)
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
