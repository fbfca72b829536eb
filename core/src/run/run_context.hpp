// The live LaneContext: each step run, timed, classified, redacted, logged
// and handed to the observer at once, so a crash later loses nothing.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <vector>

#include "run/lane_context.hpp"

namespace ccci {

class RunContext final : public LaneContext {
 public:
  /// `known` (if set): secrets registered before this context, redacted too.
  RunContext(const RecipeJob& job, LifecycleObserver& observer, const Redactor* known = nullptr);

  void log(std::string_view message) override;
  bool step(const std::string& name, const std::function<void()>& action) override;
  bool check(const std::string& name, const std::function<void()>& body) override;

  bool act(const std::string& name, const std::function<void()>& body) override;
  bool record(StepKind kind, const std::string& name, const std::function<void()>& body) override;
  void guard(const char* hook, const std::function<void()>& call) override;
  int count_failures_quietly(const std::function<void()>& hook) override;
  void error(const std::string& name, const std::string& why) override;
  void skip(const std::string& name, const std::string& why) override;
  void describe(std::string_view /*line*/) override {}
  void check_out(const RecipeTarget& target, const std::filesystem::path& into) override;
  void shoot_landing_page(const RecipeInfo& info) override;
  bool passed_since(size_t first) const override;
  bool phase_passed(Phase phase) const override;
  bool anything_wrong() const override;
  size_t steps_recorded() const override { return steps_.size(); }

 private:
  bool quietly(const std::string& name, const std::function<void()>& body);
  bool check_with_retries(const std::string& name, const std::function<void()>& body);
  StepResult attempt(const std::function<void()>& body) const;
  void emit(StepResult step);

  bool quiet_ = false;
  int quiet_failures_ = 0;
  std::vector<StepResult> steps_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace ccci
