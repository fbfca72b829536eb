#include "run/plan_context.hpp"

#include "recipe/target.hpp"

namespace ccci {
namespace {

// A hook's or step body's exception in a plan: the walk goes on, as it would
// have to know the app's answers to do otherwise.
void ignoring_errors(const std::function<void()>& body) {
  try {
    body();
  } catch (...) {  // NOLINT(bugprone-empty-catch): a plan runs nothing that could fail for real
  }
}

}  // namespace

PlanContext::PlanContext(const RecipeJob& job, LifecycleObserver& observer, PlanSink plan)
    : LaneContext(job, observer, [this](std::string_view command) { describe(command); }),
      plan_(std::move(plan)) {}

// The plugin's own steps may do anything (HTTP, git, abra app run): listed, never run.
bool PlanContext::step(const std::string& name, const std::function<void()>& /*action*/) {
  count_hook_call();
  describe((quiet_ ? "expect gone: " : "step: ") + name);
  return !quiet_;
}

bool PlanContext::check(const std::string& name, const std::function<void()>& /*body*/) {
  count_hook_call();
  describe((quiet_ ? "expect gone: " : "check: ") + name);
  return !quiet_;
}

bool PlanContext::act(const std::string& /*name*/, const std::function<void()>& body) {
  ignoring_errors(body);  // abra is dry: the body writes its commands down
  return true;
}

void PlanContext::guard(const char* /*hook*/, const std::function<void()>& call) {
  ignoring_errors(call);
}

int PlanContext::count_failures_quietly(const std::function<void()>& hook) {
  quiet_ = true;
  guard("verify_seeded", hook);
  quiet_ = false;
  return 1;  // as if the data were gone: the walk goes on to show the restore
}

void PlanContext::skip(const std::string& name, const std::string& why) {
  describe("skip " + name + ": " + why);
}

void PlanContext::check_out(const RecipeTarget& target, const std::filesystem::path& into) {
  describe("check out " + target.describe() + " into " + into.string());
}

}  // namespace ccci
