// Test-only: a plugin whose probe never returns, so the host's watchdog must act.
#include <unistd.h>

#include <ccci/harness.hpp>

namespace {
class Hang final : public ccci::RecipeTest {
  void probe(ccci::Context& ctx) override {
    ctx.check("never returns", [] {
      for (;;) ::pause();
    });
  }
};
}  // namespace

CCCI_PLUGIN(Hang, "hang-test")
