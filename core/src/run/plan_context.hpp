// The recording LaneContext, for `cc-ci plan` and the checks a test declares:
// abra is dry (each command written down, none run), the plugin's steps and
// checks are listed by name and never run, the host's checks are taken as
// passed, and whatever the walk would do next goes to the plan, in order.
#pragma once

#include "run/lane_context.hpp"

namespace ccci {

class PlanContext final : public LaneContext {
 public:
  PlanContext(const RecipeJob& job, LifecycleObserver& observer, PlanSink plan);

  void log(std::string_view /*message*/) override {}
  bool step(const std::string& name, const std::function<void()>& action) override;
  bool check(const std::string& name, const std::function<void()>& body) override;

  bool act(const std::string& name, const std::function<void()>& body) override;
  bool record(StepKind /*kind*/, const std::string& /*name*/,
              const std::function<void()>& /*body*/) override {
    return true;
  }
  void guard(const char* hook, const std::function<void()>& call) override;
  int count_failures_quietly(const std::function<void()>& hook) override;
  void error(const std::string& /*name*/, const std::string& /*why*/) override {}
  void skip(const std::string& name, const std::string& why) override;
  void describe(std::string_view line) override { plan_(phase(), line); }
  void check_out(const RecipeTarget& target, const std::filesystem::path& into) override;
  void shoot_landing_page(const RecipeInfo& /*info*/) override {}
  bool passed_since(size_t /*first*/) const override { return true; }
  bool phase_passed(Phase /*phase*/) const override { return true; }
  bool anything_wrong() const override { return false; }
  size_t steps_recorded() const override { return 0; }

 private:
  const PlanSink plan_;
  bool quiet_ = false;
};

}  // namespace ccci
