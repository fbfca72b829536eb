// The Context a plugin sees while the host walks a lane (internal to the run
// engine): every step timed, classified, redacted, logged and handed to the
// observer at once; in plans, only listed.
#pragma once

#include <fcntl.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "base/markup.hpp"
#include "ccci/abra_client.hpp"
#include "ccci/http.hpp"
#include "ccci/readiness.hpp"
#include "ccci/redactor.hpp"
#include "run/app_abra.hpp"
#include "run/lifecycle.hpp"
#include "run/plugin_loader.hpp"

namespace ccci {

using Clock = std::chrono::steady_clock;

// Thrown by the host's own step bodies when the step could not be checked at
// all: the step is skipped with this reason, so its rung is unverified, never
// passed and never the recipe's failure. (Plugins cannot throw it.)
class Unverifiable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

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
                 : AbraClient::Sink()),
        app_abra_(
            abra_, job.domain,
            (job.abra.abra_dir.empty() ? default_abra_dir() : std::filesystem::path(job.abra.abra_dir)) /
                "recipes" / job.recipe) {
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
  Abra& abra() override { return app_abra_; }
  /// The host's own abra client: any app, every subcommand.
  AbraClient& client() { return abra_; }
  const HttpSettings& http() const override { return job_.http; }
  Clock::time_point deadline() const override { return deadline_; }
  /// True while `cc-ci plan` walks the lane: abra is dry and checks are only listed.
  bool dry_run() const { return static_cast<bool>(plan_); }
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
  AppAbra app_abra_;
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

}  // namespace ccci
