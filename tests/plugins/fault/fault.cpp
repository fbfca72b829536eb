// Test-only: a plugin that misbehaves where CCCI_TEST_FAULT says, so every
// way a plugin can end or break is proven to be reported, never passed.
//   CCCI_TEST_FAULT=WHERE:WHAT
//   WHERE  load (a static constructor), info, deploy, check2 (the second of
//          three checks), teardown
//   WHAT   exit0, exit1 (std::_Exit), segv, throw, hang, nothing (the hook does
//          nothing at all: a deploy() that records no step)
#include <ccci/harness.hpp>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

// Does what CCCI_TEST_FAULT says if it names `where`; returns false for "nothing".
bool misbehave(const std::string& where) {
  const char* fault = std::getenv("CCCI_TEST_FAULT");
  if (fault == nullptr || std::string(fault).rfind(where + ":", 0) != 0) return true;
  const std::string what = std::string(fault).substr(where.size() + 1);
  if (what == "exit0") std::_Exit(0);
  if (what == "exit1") std::_Exit(1);
  if (what == "segv") std::raise(SIGSEGV);
  if (what == "throw") throw std::runtime_error("fault-test: thrown in " + where);
  if (what == "hang")
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  return what != "nothing";
}

const bool loaded = misbehave("load");

class Fault final : public ccci::AbraRecipe {
 public:
  ccci::RecipeInfo info() const override {
    misbehave("info");
    return {.tags = {"test"}};
  }
  void configure(ccci::Context&) override { misbehave("deploy"); }
  void probe(ccci::Context& ctx) override {
    ctx.check("first check", [] {});
    ctx.check("second check", [] { misbehave("check2"); });
    ctx.check("third check", [] {});
  }
  void before_teardown(ccci::Context&) override { misbehave("teardown"); }
};

// A deploy() that records nothing: CCCI_TEST_FAULT=deploy:nothing.
class QuietDeploy final : public ccci::RecipeTest {
 public:
  void deploy(ccci::Context&) override {}
  void probe(ccci::Context& ctx) override {
    ctx.check("passes", [] {});
  }
  void teardown(ccci::Context&) override {}
};

class Dispatch final : public ccci::RecipeTest {
 public:
  Dispatch() {
    const char* fault = std::getenv("CCCI_TEST_FAULT");
    if (fault != nullptr && std::string(fault) == "deploy:nothing")
      test_ = std::make_unique<QuietDeploy>();
    else
      test_ = std::make_unique<Fault>();
  }
  ccci::RecipeInfo info() const override { return loaded ? test_->info() : ccci::RecipeInfo{}; }
  void deploy(ccci::Context& ctx) override { test_->deploy(ctx); }
  void probe(ccci::Context& ctx) override { test_->probe(ctx); }
  void teardown(ccci::Context& ctx) override { test_->teardown(ctx); }

 private:
  std::unique_ptr<ccci::RecipeTest> test_;
};

}  // namespace

CCCI_PLUGIN(Dispatch, "fault-test")
