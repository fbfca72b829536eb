#include "run/supervisor.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include "ccci/abra_recipe.hpp"
#include "ccci/process.hpp"
#include "ccci/redactor.hpp"
#include "model/judge.hpp"
#include "run/child_channels.hpp"
#include "run/events.hpp"
#include "run/lifecycle.hpp"

namespace ccci {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Collects what the child reports, and what the host adds.
class Collector final : public LifecycleObserver {
 public:
  Collector(const RecipeJob& job, const Progress& progress, const Redactor& redactor)
      : job_(job), progress_(progress), redactor_(redactor) {}

  void phase_started(Phase phase, std::chrono::seconds timeout) override {
    phase_ = phase;
    phase_deadline_ = Clock::now() + timeout + kWatchdogGrace;
    phase_timeout_ = timeout;
    deploy_attempted_ = deploy_attempted_ || phase != Phase::lint;  // linting deploys nothing
    if (progress_.phase_started) progress_.phase_started(job_, phase);
  }
  void step_finished(const StepResult& step) override {
    StepResult named = step;
    named.lane = job_.lane;
    named.name = prefix_ + redactor_.apply(step.name);
    named.message = redactor_.apply(step.message);  // the child redacts too; this catches what it missed
    steps_.push_back(named);
    if (progress_.step_finished) progress_.step_finished(job_, named);
  }
  void teardown_finished() override { teardown_finished_ = true; }
  void kept(const std::string& what) override { kept_ = what; }
  void checks_declared(const std::vector<std::string>& checks) override { declared_ = checks; }
  void test_finished() override { finished_ = true; }
  void abra_ran(const std::string& subcommand) override { ++abra_calls_[subcommand]; }
  void screenshot_taken(const std::string& missing) override {
    screenshot_ = {.attempted = true, .missing = redactor_.apply(missing)};
  }

  /// The declared checks that recorded no step, in order.
  std::vector<std::string> never_ran() const {
    std::vector<std::string> missing;
    for (const auto& check : declared_)
      if (std::none_of(steps_.begin(), steps_.end(),
                       [&](const StepResult& step) { return step.name == check; }))
        missing.push_back(check);
    return missing;
  }

  void add(Phase phase, Status status, const std::string& name, const std::string& message) {
    step_finished(
        {.phase = phase, .kind = StepKind::action, .name = name, .status = status, .message = message});
  }
  /// Steps recorded from now on are the host's own.
  void host_takes_over(int attempt) {
    prefix_ = attempt == 1 ? "host: " : "host (try " + std::to_string(attempt) + "): ";
    teardown_finished_ = false;
  }

  const RecipeJob& job_;
  const Progress& progress_;
  const Redactor& redactor_;
  std::string prefix_;
  std::optional<Phase> phase_;
  Clock::time_point phase_deadline_ = Clock::time_point::max();
  std::chrono::seconds phase_timeout_{0};
  bool deploy_attempted_ = false;
  bool teardown_finished_ = false;
  bool finished_ = false;
  std::vector<std::string> declared_;
  std::string kept_;
  std::vector<StepResult> steps_;
  std::map<std::string, int> abra_calls_;
  Screenshot screenshot_;
};

constexpr int kHostTeardownAttempts = 3;

// The standard abra teardown, for when the test process cannot do its own.
class StandardTeardown final : public AbraRecipe {
  void probe(Context&) override {}
};

std::string phase_name(const std::optional<Phase>& phase) {
  return phase ? std::string(to_string(*phase)) : std::string("start-up");
}

}  // namespace

RecipeResult supervise(const fs::path& self, const RecipeJob& job, const fs::path& job_file,
                       const RunStop& stop, const Progress& progress) {
  const auto started = Clock::now();
  Redactor redactor;  // fed by the test process: the host's own teardown and logs use it too
  Collector collector(job, progress, redactor);
  EventReader events(job.events_file);

  std::optional<int> status;
  bool fatal = false;    // the test process said why it could not run the test
  std::string ended_by;  // why the host ended the test process, if it did
  std::optional<ChildChannels> channels;
  auto drain_events = [&] {
    for (const auto& message : events.drain(collector)) {
      collector.add(collector.phase_.value_or(Phase::deploy), Status::errored, "test process",
                    redactor.apply(message));
      fatal = true;
    }
  };
  try {
    channels.emplace(job.log_file, redactor);
    Subprocess child(
        Command{.argv = {self.string(), "exec-one", "--job", job_file.string(), "--secrets-fd", "3"},
                .timeout = std::chrono::milliseconds::max(),
                .output = Output::capture,
                .extra_fd = channels->secrets_write_end()});
    channels->child_started(child.output_fd());
    while (!(status = child.poll())) {
      channels->pump(20ms);
      drain_events();
      if (auto reason = stop.reason()) {
        ended_by = *reason;
      } else if (Clock::now() > collector.phase_deadline_) {
        ended_by = phase_name(collector.phase_) + " did not finish within its " +
                   std::to_string(collector.phase_timeout_.count()) + "s timeout (+" +
                   std::to_string(kWatchdogGrace.count()) + "s grace): the test process hung and was killed";
      }
      if (!ended_by.empty()) {
        status = child.terminate(2s);
        break;
      }
    }
    channels->finish();
  } catch (const CommandError& error) {
    ended_by = std::string("cannot start the test process: ") + error.what();
  }
  drain_events();

  // Anything but a test process that walked the whole lifecycle and exited 0
  // is an error, whatever steps it recorded before: a plugin that calls exit()
  // or crashes mid-probe must never look like a short, passing test.
  const Phase phase = collector.phase_.value_or(Phase::deploy);
  if (!ended_by.empty()) {
    collector.add(phase, Status::errored, phase_name(collector.phase_) + " interrupted", ended_by);
  } else if (status) {
    CommandResult exit;
    decode_wait_status(*status, exit);
    std::string why;
    if (exit.signal != 0)
      why = "the test process was " + exit.describe() + " during " + phase_name(collector.phase_);
    else if (exit.exit_code != 0)
      why = "the test process " + exit.describe() + " during " + phase_name(collector.phase_);
    else if (!collector.finished_)
      why = "the test process exited 0 during " + phase_name(collector.phase_) +
            " without finishing the test (did the plugin call exit()?)";
    if (!why.empty() && !fatal) {
      const auto missing = collector.never_ran();
      if (!missing.empty()) {
        why += "; these checks never ran: ";
        for (size_t i = 0; i < missing.size(); ++i) why += (i ? ", \"" : "\"") + missing[i] + "\"";
      }
      collector.add(phase, Status::errored,
                    exit.signal != 0 ? "test process crashed" : "test process ended early", why);
    }
  }

  // The app may be up: tear it down from here unless the child did so cleanly,
  // or --keep says not to. A teardown step that failed (a transient abra or
  // Docker error) gets this second try from a fresh process too.
  bool teardown_failed = false;
  for (const auto& step : collector.steps_)
    // Only teardown's actions: the inspection after it (a check) reports leftovers, it does not remove them.
    teardown_failed = teardown_failed || (step.phase == Phase::teardown && step.kind == StepKind::action &&
                                          step.status != Status::passed && step.status != Status::skipped);
  if (collector.deploy_attempted_ && (!collector.teardown_finished_ || teardown_failed) &&
      collector.kept_.empty()) {
    const Status so_far = overall_status(collector.steps_);
    const bool failed = so_far == Status::failed || so_far == Status::errored;
    if (job.keep == KeepPolicy::always || (job.keep == KeepPolicy::on_failure && failed)) {
      collector.kept_ = "app " + job.domain + " on server " + job.server + " kept (--keep " +
                        std::string(to_string(job.keep)) + ")";
    } else {
      // Transient failures (abra or Docker hiccups) get a few tries, with a pause between.
      StandardTeardown teardown;
      for (int attempt = 1; attempt <= kHostTeardownAttempts; ++attempt) {
        collector.host_takes_over(attempt);
        const size_t first_step = collector.steps_.size();
        run_teardown(teardown, job, collector, redactor);
        const bool clean = std::all_of(collector.steps_.begin() + static_cast<std::ptrdiff_t>(first_step),
                                       collector.steps_.end(),
                                       [](const StepResult& step) { return step.status == Status::passed; });
        if (clean) break;
        std::this_thread::sleep_for(std::chrono::seconds(attempt));
      }
    }
  }

  RecipeResult result;
  result.recipe = job.recipe;
  result.server = job.server;
  result.domain = job.domain;
  result.steps = std::move(collector.steps_);
  result.kept = collector.kept_;
  result.screenshot = collector.screenshot_;
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  result.lanes = {LaneResult{.lane = job.lane,
                             .server = job.server,
                             .domain = job.domain,
                             .status = overall_status(result.steps),
                             .duration = result.duration,
                             .kept = result.kept,
                             .from = job.lane == Lane::upgrade ? job.abra.deploy.version : "",
                             .abra_calls = collector.abra_calls_}};
  judge(result);
  return result;
}

}  // namespace ccci
