// The Context a plugin sees while the host walks a lane, and the operations
// the host's own sequences need (internal to the run engine). One walk
// (run/lifecycle.cpp, run/lanes.cpp, run/app_steps.cpp) drives two
// implementations: RunContext does each step, PlanContext writes down what a
// run would do. The walk never asks which one it has.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ccci/abra_client.hpp"
#include "ccci/redactor.hpp"
#include "model/job.hpp"
#include "run/app_abra.hpp"
#include "run/docker_engine.hpp"
#include "run/lifecycle.hpp"

namespace ccci {

using Clock = std::chrono::steady_clock;

// Thrown by the host's own step bodies when the step could not be checked at
// all: the step is skipped with this reason, so its rung is unverified, never
// passed and never the recipe's failure. (Plugins cannot throw it.)
class Unverifiable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class LaneContext : public Context {
 public:
  const std::string& recipe() const final { return job_.recipe; }
  const std::string& server() const final { return job_.server; }
  const std::string& domain() const final { return job_.domain; }
  Abra& abra() final { return app_abra_; }
  /// The host's own abra client: any app, every subcommand (dry in plans).
  AbraClient& client() { return abra_; }
  const HttpSettings& http() const final { return job_.http; }
  Clock::time_point deadline() const final { return deadline_; }
  Lane lane() const final { return job_.lane; }
  Rung rung() const final { return rung_; }
  const std::filesystem::path& plugin_dir() const final { return plugin_dir_; }
  const ComposeLayout& compose() const final { return moved_ ? job_.compose_after_move : job_.compose; }
  void add_secret(std::string value) final { redactor_.add(value); }
  /// The upgrade lane moved to the target: from now on the app is laid out as it says.
  void moved_to_target() { moved_ = true; }
  const RecipeJob& job() const { return job_; }
  Phase phase() const { return phase_; }
  /// The server's Docker engine, through job().docker: one connection for
  /// the lane, opened at the first question (plans never ask one).
  DockerEngine& docker_engine() { return docker_engine_; }

  /// A new phase with its own deadline.
  void begin(Phase phase, std::chrono::seconds timeout);
  /// Teardown is skipped on purpose: `what` says what was kept and how to remove it.
  void keep(const std::string& what) {
    describe(what);
    observer_.kept(what);
  }
  /// Teardown ran to its end, whatever its steps said.
  void teardown_finished() { observer_.teardown_finished(); }

  /// How many steps and checks hooks have asked for so far (in plans too):
  /// a hook that asked for none did nothing.
  size_t hook_calls() const { return hook_calls_; }

  // ---- What the host's sequences do; each implementation its own way.

  /// A step of the host whose body speaks to the server only through
  /// client() or check_out(): run and recorded; in plans run dry.
  virtual bool act(const std::string& name, const std::function<void()>& body) = 0;
  /// A check (or readiness wait) of the host: run and recorded; in plans
  /// not run at all, and taken as passed.
  virtual bool record(StepKind kind, const std::string& name, const std::function<void()>& body) = 0;
  /// Calls a plugin hook; only an exception escaping it becomes a step.
  virtual void guard(const char* hook, const std::function<void()>& call) = 0;
  /// Runs `hook` with its steps and checks observed but not recorded: how the
  /// host asks "is the data gone?" of a hook written to say it is there.
  /// Returns how many of them did not pass (in plans: 1, as if they failed).
  virtual int count_failures_quietly(const std::function<void()>& hook) = 0;
  /// A step the host records as errored (plans: nothing).
  virtual void error(const std::string& name, const std::string& why) = 0;
  /// A check the host skips, with why.
  virtual void skip(const std::string& name, const std::string& why) = 0;
  /// What a plan shows at this point of the walk; a run does the thing instead.
  virtual void describe(std::string_view line) = 0;
  /// Replaces `into` with the recipe at `target`.
  virtual void check_out(const RecipeTarget& target, const std::filesystem::path& into) = 0;
  /// The landing page's picture, for people only: no step depends on it.
  virtual void shoot_landing_page(const RecipeInfo& info) = 0;

  /// Every step recorded since the `first` one passed, and there is one (plans: true).
  virtual bool passed_since(size_t first) const = 0;
  /// Every step of `phase` passed, and there is one (plans: true).
  virtual bool phase_passed(Phase phase) const = 0;
  /// A step failed or errored (plans: false).
  virtual bool anything_wrong() const = 0;
  /// How many steps have been recorded so far (plans: none).
  virtual size_t steps_recorded() const = 0;

 protected:
  /// `dry`, if set, makes abra print each command to it instead of running it.
  LaneContext(const RecipeJob& job, LifecycleObserver& observer, AbraClient::Sink dry);

  void count_hook_call() { ++hook_calls_; }
  LifecycleObserver& observer() { return observer_; }
  Redactor& redactor() { return redactor_; }

 private:
  const RecipeJob& job_;
  const std::filesystem::path plugin_dir_;
  LifecycleObserver& observer_;
  Redactor redactor_;
  AbraClient abra_;
  AppAbra app_abra_;
  DockerEngine docker_engine_;
  Phase phase_ = Phase::deploy;
  Rung rung_ = Rung::deploys;
  size_t hook_calls_ = 0;
  bool moved_ = false;
  Clock::time_point deadline_ = Clock::time_point::max();
};

}  // namespace ccci
