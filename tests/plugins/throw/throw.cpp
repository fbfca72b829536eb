// Test-only: a plugin whose probe() throws outside any check.
#include <ccci/harness.hpp>
#include <stdexcept>

namespace {
class Throw final : public ccci::RecipeTest {
  void probe(ccci::Context&) override { throw std::runtime_error("the plugin gave up"); }
};
}  // namespace

CCCI_PLUGIN(Throw, "throw-test")
