// custom-html: nginx serving the files of a volume. The harness deploys it and
// waits until GET / answers 200 over verified HTTPS; these checks prove that
// nginx itself, not the proxy in front of it, is what answers. Its data is a
// page written into the content volume, as a maintainer of the site would.
#include <ccci/harness.hpp>

namespace {

class CustomHtml final : public ccci::RecipeTest {
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

  void seed(ccci::Context& ctx) override {
    ctx.step("write a page into the content volume", [&] {
      ctx.abra().app_run("app",
                         {"sh", "-c", "echo \"$0\" > /usr/share/nginx/html/cc-ci-seed.html", page(ctx)});
    });
  }

  void damage(ccci::Context& ctx) override {
    ctx.step("the page is deleted from the content volume", [&] {
      ctx.abra().app_run("app", {"rm", "-f", "/usr/share/nginx/html/cc-ci-seed.html"});
    });
  }

  void verify_seeded(ccci::Context& ctx) override {
    ctx.check("the written page is served",
              [&] { ccci::expect_http(ctx, "/cc-ci-seed.html").status(200).body_contains(page(ctx)); });
  }

 private:
  static std::string page(const ccci::Context& ctx) { return "<p>cc-ci seed for " + ctx.domain() + "</p>"; }
};

}  // namespace

CCCI_PLUGIN(CustomHtml, "custom-html")
