// The benchmark's recipe test: the standard lifecycle and one check. Built
// once and linked under many recipe names (see bench/run), each name coming
// from a one-line object that defines ccci_bench_recipe_name.
#include <ccci/harness.hpp>

extern "C" const char ccci_bench_recipe_name[];

namespace {

class BenchRecipe final : public ccci::RecipeTest {
  void probe(ccci::Context& ctx) override {
    ctx.check("the page is served", [&] { ccci::expect_http(ctx, "/").status(200); });
  }
};

}  // namespace

CCCI_PLUGIN(BenchRecipe, ccci_bench_recipe_name)
