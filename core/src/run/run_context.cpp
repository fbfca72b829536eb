#include "run/run_context.hpp"

#include <spdlog/sinks/basic_file_sink.h>

#include <algorithm>
#include <chrono>

#include "base/markup.hpp"
#include "recipe/target.hpp"
#include "run/screenshot.hpp"

namespace ccci {

RunContext::RunContext(const RecipeJob& job, LifecycleObserver& observer, const Redactor* known)
    : LaneContext(job, observer, {}) {
  if (known) redactor().add_all(*known);
  if (!job.log_file.empty()) {
    log_ = std::make_shared<spdlog::logger>(
        job.recipe, std::make_shared<spdlog::sinks::basic_file_sink_mt>(job.log_file.string()));
    log_->set_pattern("%H:%M:%S.%e %v");
    log_->flush_on(spdlog::level::trace);  // a crash must not eat the last lines
  }
}

void RunContext::log(std::string_view message) {
  if (!log_) return;
  // Redacted before and after: a secret split by an escape sequence is whole
  // again once terminal_text drops the sequence.
  std::string text = redactor().apply(terminal_text(redactor().apply(message)));
  while (text.ends_with('\n')) text.pop_back();
  log_->info(text);
}

bool RunContext::step(const std::string& name, const std::function<void()>& action) {
  count_hook_call();
  if (quiet_) return quietly(name, action);
  return record(StepKind::action, name, action);
}

bool RunContext::check(const std::string& name, const std::function<void()>& body) {
  count_hook_call();
  if (quiet_) return quietly(name, body);
  if (job().retries == 0) return record(StepKind::check, name, body);
  return check_with_retries(name, body);
}

// With --retries, a check that did not pass runs again; one that passes only
// then is flaky, with the first failure in its message.
bool RunContext::check_with_retries(const std::string& name, const std::function<void()>& body) {
  StepResult first = attempt(body);
  StepResult last = first;
  int attempts = 1;
  while (last.status != Status::passed && attempts <= job().retries) {
    log("-- retrying \"" + name + "\" after: " + last.message);
    last = attempt(body);
    ++attempts;
  }
  if (attempts > 1 && last.status == Status::passed) {
    last.status = Status::flaky;
    last.message = "passed on attempt " + std::to_string(attempts) + " of " +
                   std::to_string(job().retries + 1) + "; first attempt: " + first.message;
  }
  last.kind = StepKind::check;
  last.name = name;
  emit(std::move(last));
  return counts_as_pass(steps_.back().status);
}

bool RunContext::act(const std::string& name, const std::function<void()>& body) {
  return record(StepKind::action, name, body);
}

bool RunContext::record(StepKind kind, const std::string& name, const std::function<void()>& body) {
  StepResult step = attempt(body);
  step.kind = kind;
  step.name = name;
  emit(std::move(step));
  return steps_.back().status == Status::passed;
}

void RunContext::guard(const char* hook, const std::function<void()>& call) {
  StepResult step = attempt(call);
  if (step.status == Status::passed) return;
  if (quiet_) {  // a hook that throws because the data is gone says just that
    ++quiet_failures_;
    log("-- (expected to fail) " + std::string(hook) + "() threw: " + redactor().apply(step.message));
    return;
  }
  step.name = std::string(hook) + "()";
  step.message = "uncaught exception: " + step.message;
  emit(std::move(step));
}

int RunContext::count_failures_quietly(const std::function<void()>& hook) {
  quiet_ = true;
  quiet_failures_ = 0;
  guard("verify_seeded", hook);
  quiet_ = false;
  return quiet_failures_;
}

void RunContext::error(const std::string& name, const std::string& why) {
  emit({.phase = phase(), .kind = StepKind::action, .name = name, .status = Status::errored, .message = why});
}

void RunContext::skip(const std::string& name, const std::string& why) {
  emit({.phase = phase(), .kind = StepKind::check, .name = name, .status = Status::skipped, .message = why});
}

void RunContext::check_out(const RecipeTarget& target, const std::filesystem::path& into) {
  std::filesystem::remove_all(into);
  check_out_target(target, into);
}

void RunContext::shoot_landing_page(const RecipeInfo& info) {
  const RecipeJob& lane = job();
  if (lane.screenshot_file.empty()) return;
  std::string missing;
  std::string took;  // the browser's time, for bench/run's "where the time goes"
  if (info.screenshot.empty()) {
    missing = "the recipe's test names no page to shoot";
  } else {
    const auto started = std::chrono::steady_clock::now();
    if (auto why = observer().shoot({.browser = lane.browser,
                                     .domain = lane.domain,
                                     .page = info.screenshot,
                                     .http = lane.http,
                                     .output = lane.screenshot_file,
                                     .deadline = deadline()}))
      missing = *why;
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    took = " (" + std::to_string(ms.count()) + " ms)";
  }
  log(missing.empty() ? "screenshot of " + url(info.screenshot) + ": " + lane.screenshot_file.string() + took
                      : "no screenshot of " + url(info.screenshot) + ": " + missing + took);
  observer().screenshot_taken(missing);
}

bool RunContext::passed_since(size_t first) const {
  return first < steps_.size() &&
         std::all_of(steps_.begin() + static_cast<std::ptrdiff_t>(first), steps_.end(),
                     [](const StepResult& s) { return counts_as_pass(s.status); });
}

bool RunContext::phase_passed(Phase phase) const {
  bool any = false;
  for (const auto& step : steps_) {
    if (step.phase != phase) continue;
    any = true;
    if (!counts_as_pass(step.status)) return false;
  }
  return any;
}

bool RunContext::anything_wrong() const {
  return std::any_of(steps_.begin(), steps_.end(), [](const StepResult& step) {
    return step.status == Status::failed || step.status == Status::errored;
  });
}

bool RunContext::quietly(const std::string& name, const std::function<void()>& body) {
  const StepResult step = attempt(body);
  if (step.status != Status::passed) ++quiet_failures_;
  log("-- (expected to fail) \"" + name + "\" " + std::string(to_string(step.status)) +
      (step.message.empty() ? "" : ": " + redactor().apply(step.message)));
  return step.status == Status::passed;
}

// Runs `body`: a CheckFailure is a failure, anything else thrown an error.
StepResult RunContext::attempt(const std::function<void()>& body) const {
  const auto started = Clock::now();
  StepResult step{.phase = phase()};
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

void RunContext::emit(StepResult step) {
  step.message = redactor().apply(step.message);
  log("-- " + std::string(to_string(step.phase)) + " \"" + step.name + "\" " +
      std::string(to_string(step.status)) + (step.message.empty() ? "" : ": " + step.message));
  steps_.push_back(step);
  observer().step_finished(steps_.back());
}

}  // namespace ccci
