// custom-html: nginx serving the files of a volume. The harness deploys it and
// waits until GET / answers 200 over verified HTTPS; these checks prove that
// nginx itself, not the proxy in front of it, is what answers.
#include <ccci/harness.hpp>

namespace {

class CustomHtml final : public ccci::AbraRecipe {
 public:
  ccci::RecipeInfo info() const override { return {.tags = {"static", "nginx"}}; }

  void probe(ccci::Context& ctx) override {
    ctx.check("index page is served as HTML", [&] {
      ccci::expect_http(ctx, "/")
          .status(200)
          .header_contains("content-type", "text/html")
          .body_contains("<html");
    });
    ctx.check("unknown path is nginx's own 404",
              [&] { ccci::expect_http(ctx, "/cc-ci-no-such-page").status(404).body_contains("nginx"); });
  }
};

}  // namespace

CCCI_PLUGIN(CustomHtml, "custom-html")
