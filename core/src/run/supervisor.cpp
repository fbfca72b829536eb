#include "run/supervisor.hpp"

#include <algorithm>
#include <optional>
#include <thread>

#include "ccci/process.hpp"
#include "ccci/redactor.hpp"
#include "run/child_channels.hpp"
#include "run/events.hpp"
#include "run/host_requests.hpp"
#include "run/lifecycle.hpp"

namespace ccci {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string phase_name(const std::optional<Phase>& phase) {
  return phase ? std::string(to_string(*phase)) : std::string("start-up");
}

// Collects what the child reports, and what the host adds: the one record of
// a lane while it runs, handed over whole when the host is done with it.
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

  /// The phase the child is in; nullopt before it started one.
  const std::optional<Phase>& phase() const { return phase_; }
  /// Why the current phase counts as hung at `now` (past its timeout and the grace); empty: it does not.
  std::string overrun(Clock::time_point now) const {
    if (now <= phase_deadline_) return {};
    return phase_name(phase_) + " did not finish within its " + std::to_string(phase_timeout_.count()) +
           "s timeout (+" + std::to_string(kWatchdogGrace.count()) +
           "s grace): the test process hung and was killed";
  }
  /// When the child must have ended its current phase (before the grace).
  Clock::time_point phase_deadline() const {
    return phase_deadline_ == Clock::time_point::max() ? Clock::now() + std::chrono::minutes(1)
                                                       : phase_deadline_ - kWatchdogGrace;
  }
  bool deploy_attempted() const { return deploy_attempted_; }
  bool teardown_done() const { return teardown_finished_; }
  /// The child said it walked the whole lifecycle.
  bool test_done() const { return finished_; }
  const std::vector<StepResult>& steps() const { return steps_; }
  const std::string& what_was_kept() const { return kept_; }

  /// What was recorded, handed to the lane's owner; the collector is spent.
  LaneRecord hand_over(std::chrono::milliseconds duration) && {
    return LaneRecord{.steps = std::move(steps_),
                      .kept = std::move(kept_),
                      .screenshot = std::move(screenshot_),
                      .abra_calls = std::move(abra_calls_),
                      .duration = duration};
  }

 private:
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

// One test process, from its start to its end (its own, or the host's
// doing), its events reaching the collector as they come.
class ChildWatch {
 public:
  ChildWatch(const RecipeJob& job, Collector& collector, Redactor& redactor)
      : job_(job), collector_(collector), redactor_(redactor), events_(job.events_file) {}

  /// Runs the child to its end; kills it when a phase overruns or the run must stop.
  void run(const fs::path& self, const fs::path& job_file, const RunStop& stop, SharedBrowser* browser) {
    try {
      ChildChannels channels(job_.log_file, redactor_);
      HostRequests requests(job_, browser, [this] { return collector_.phase_deadline(); });
      Subprocess child(Command{.argv = {self.string(), "exec-one", "--job", job_file.string(), "--secrets-fd",
                                        "3", "--host-fd", "4"},
                               .timeout = std::chrono::milliseconds::max(),
                               .output = Output::capture,
                               .extra_fds = {channels.secrets_write_end(), requests.child_end()}});
      channels.child_started(child.output_fd());
      requests.child_started();
      while (!(status_ = child.poll())) {
        channels.pump(20ms);
        drain_events();
        requests.serve();
        ended_by_ = stop.reason().value_or(collector_.overrun(Clock::now()));
        if (!ended_by_.empty()) {
          status_ = child.terminate(2s);
          break;
        }
      }
      channels.finish();
    } catch (const CommandError& error) {
      ended_by_ = std::string("cannot start the test process: ") + error.what();
    }
    drain_events();
  }

  // Anything but a test process that walked the whole lifecycle and exited 0
  // is an error, whatever steps it recorded before: a plugin that calls exit()
  // or crashes mid-probe must never look like a short, passing test.
  void record_how_it_ended() {
    const Phase phase = collector_.phase().value_or(Phase::deploy);
    const std::string during = phase_name(collector_.phase());
    if (!ended_by_.empty()) {
      collector_.add(phase, Status::errored, during + " interrupted", ended_by_);
      return;
    }
    if (!status_) return;
    CommandResult exit;
    decode_wait_status(*status_, exit);
    std::string why;
    if (exit.signal != 0)
      why = "the test process was " + exit.describe() + " during " + during;
    else if (exit.exit_code != 0)
      why = "the test process " + exit.describe() + " during " + during;
    else if (!collector_.test_done())
      why = "the test process exited 0 during " + during +
            " without finishing the test (did the plugin call exit()?)";
    if (why.empty() || fatal_) return;  // a fatal event already said why
    const auto missing = collector_.never_ran();
    if (!missing.empty()) {
      why += "; these checks never ran: ";
      for (size_t i = 0; i < missing.size(); ++i) why += (i ? ", \"" : "\"") + missing[i] + "\"";
    }
    collector_.add(phase, Status::errored,
                   exit.signal != 0 ? "test process crashed" : "test process ended early", why);
  }

 private:
  void drain_events() {
    for (const auto& message : events_.drain(collector_)) {
      collector_.add(collector_.phase().value_or(Phase::deploy), Status::errored, "test process",
                     redactor_.apply(message));
      fatal_ = true;
    }
  }

  const RecipeJob& job_;
  Collector& collector_;
  Redactor& redactor_;
  EventReader events_;
  std::optional<int> status_;
  bool fatal_ = false;    // the test process said why it could not run the test
  std::string ended_by_;  // why the host ended the test process, if it did
};

constexpr int kHostTeardownAttempts = 3;

// No hooks: the host's teardown alone, for when the test process died.
class StandardTeardown final : public RecipeTest {
  void probe(Context&) override {}
};

// The app may be up unless the child tore it down cleanly. A teardown step
// that failed (a transient abra or Docker error) counts as not done: the
// host's teardown is its second try, from a fresh process.
bool app_may_be_up(const Collector& collector) {
  if (!collector.deploy_attempted() || !collector.what_was_kept().empty()) return false;
  // Only teardown's actions: the inspection after it (a check) reports leftovers, it does not remove them.
  const bool teardown_failed =
      std::any_of(collector.steps().begin(), collector.steps().end(), [](const auto& step) {
        return step.phase == Phase::teardown && step.kind == StepKind::action &&
               step.status != Status::passed && step.status != Status::skipped;
      });
  return !collector.teardown_done() || teardown_failed;
}

// Tears the app down from the host, unless --keep says to keep it.
void keep_or_tear_down(const RecipeJob& job, Collector& collector, const Redactor& redactor) {
  const Status so_far = overall_status(collector.steps());
  const bool failed = so_far == Status::failed || so_far == Status::errored;
  if (job.keep == KeepPolicy::always || (job.keep == KeepPolicy::on_failure && failed)) {
    collector.kept("app " + job.domain + " on server " + job.server + " kept (--keep " +
                   std::string(to_string(job.keep)) + ")");
    return;
  }
  // Transient failures (abra or Docker hiccups) get a few tries, with a pause between.
  StandardTeardown teardown;
  for (int attempt = 1; attempt <= kHostTeardownAttempts; ++attempt) {
    collector.host_takes_over(attempt);
    const size_t first_step = collector.steps().size();
    run_teardown(teardown, job, collector, redactor);
    const auto& steps = collector.steps();
    const bool clean = std::all_of(steps.begin() + static_cast<std::ptrdiff_t>(first_step), steps.end(),
                                   [](const StepResult& step) { return step.status == Status::passed; });
    if (clean) break;
    std::this_thread::sleep_for(std::chrono::seconds(attempt));
  }
}

}  // namespace

LaneRecord supervise(const fs::path& self, const RecipeJob& job, const fs::path& job_file,
                     const RunStop& stop, const Progress& progress, SharedBrowser* browser) {
  const auto started = Clock::now();
  Redactor redactor;  // fed by the test process: the host's own teardown and logs use it too
  Collector collector(job, progress, redactor);
  ChildWatch child(job, collector, redactor);
  child.run(self, job_file, stop, browser);
  child.record_how_it_ended();
  if (app_may_be_up(collector)) keep_or_tear_down(job, collector, redactor);
  return std::move(collector).hand_over(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started));
}

}  // namespace ccci
