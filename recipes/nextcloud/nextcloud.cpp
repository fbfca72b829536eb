// nextcloud: ready once status.php says installed and not in maintenance;
// checks the admin's WebDAV round trip and that a wrong password is refused.
#include <ccci/harness.hpp>

namespace {

class Nextcloud final : public ccci::RecipeTest {
 public:
  ccci::RecipeInfo info() const override {
    return {.tags = {"files", "webdav"},
            .ready = {.path = "/status.php", .json_equals = {{"/installed", true}, {"/maintenance", false}}}};
  }

  void probe(ccci::Context& ctx) override {
    const ccci::HttpClient http(ctx.http());
    const std::string file = ctx.url("/remote.php/dav/files/admin/cc-ci-check.txt");
    ctx.check("status.php reports an installed, current instance", [&] {
      ccci::expect_http(ctx, "/status.php")
          .status(200)
          .json_equals("/installed", true)
          .json_equals("/needsDbUpgrade", false);
    });
    ctx.check("the admin uploads a file over WebDAV and reads it back", [&] {
      const ccci::Credentials admin{"admin", ctx.abra().secret("admin_password")};
      const std::string content = "cc-ci " + ctx.domain() + "\n";
      ccci::webdav::put(http, file, admin, content);
      if (ccci::webdav::get(http, file, admin) != content)
        throw ccci::CheckFailure("the file came back changed");
      ccci::webdav::remove(http, file, admin);
    });
    ctx.check("WebDAV refuses a wrong password", [&] {
      ccci::HttpRequest request{.url = file};
      request.basic_auth = ccci::Credentials{"admin", "not-the-password"};
      ccci::expect_http(http, request).status(401);
    });
  }

  // The data a user keeps in Nextcloud: a file uploaded over WebDAV.
  void seed(ccci::Context& ctx) override {
    ctx.step("the admin uploads a file over WebDAV", [&] {
      ccci::webdav::put(ccci::HttpClient(ctx.http()), seeded_file(ctx), admin(ctx), seeded_content(ctx));
    });
  }

  void damage(ccci::Context& ctx) override {
    ctx.step("the admin deletes the uploaded file",
             [&] { ccci::webdav::remove(ccci::HttpClient(ctx.http()), seeded_file(ctx), admin(ctx)); });
  }

  void verify_seeded(ccci::Context& ctx) override {
    ctx.check("the uploaded file reads back unchanged", [&] {
      if (ccci::webdav::get(ccci::HttpClient(ctx.http()), seeded_file(ctx), admin(ctx)) !=
          seeded_content(ctx))
        throw ccci::CheckFailure("the file came back changed");
    });
  }

 private:
  static ccci::Credentials admin(ccci::Context& ctx) {
    return {"admin", ctx.abra().secret("admin_password")};
  }
  static std::string seeded_file(const ccci::Context& ctx) {
    return ctx.url("/remote.php/dav/files/admin/cc-ci-seed.txt");
  }
  static std::string seeded_content(const ccci::Context& ctx) {
    return "cc-ci seed for " + ctx.domain() + "\n";
  }
};

}  // namespace

CCCI_PLUGIN(Nextcloud, "nextcloud")
