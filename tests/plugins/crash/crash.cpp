// Test-only: a plugin whose probe crashes the test process (SIGSEGV).
#include <ccci/harness.hpp>
#include <csignal>

namespace {
class Crash final : public ccci::RecipeTest {
  void probe(ccci::Context& ctx) override {
    ctx.check("crashes", [] { std::raise(SIGSEGV); });
  }
};
}  // namespace

CCCI_PLUGIN(Crash, "crash-test")
