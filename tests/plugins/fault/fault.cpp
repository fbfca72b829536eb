// Test-only: a plugin that misbehaves where CCCI_TEST_FAULT says, so every
// way a plugin can end or break is proven to be reported, never passed.
//   CCCI_TEST_FAULT=WHERE:WHAT
//   WHERE  load (a static constructor), info, deploy (configure()), check2 (the
//          second of three checks), teardown (before_teardown())
//   WHAT   exit0, exit1 (std::_Exit), segv, throw, hang
#include <ccci/harness.hpp>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

// Does what CCCI_TEST_FAULT says if it names `where`.
void misbehave(const std::string& where) {
  const char* fault = std::getenv("CCCI_TEST_FAULT");
  if (fault == nullptr || std::string(fault).rfind(where + ":", 0) != 0) return;
  const std::string what = std::string(fault).substr(where.size() + 1);
  if (what == "exit0") std::_Exit(0);
  if (what == "exit1") std::_Exit(1);
  if (what == "segv") std::raise(SIGSEGV);
  if (what == "throw") throw std::runtime_error("fault-test: thrown in " + where);
  if (what == "hang")
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}

// At load time, before the host reads anything: a static constructor's fault.
[[maybe_unused]] const bool loaded = [] {
  misbehave("load");
  return true;
}();

class Fault final : public ccci::RecipeTest {
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

}  // namespace

CCCI_PLUGIN(Fault, "fault-test")
