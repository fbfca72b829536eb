// gitea: a forge. Checks create an admin inside the container, get an API
// token, call the API with it, and push a commit over HTTPS with git.
#include <ccci/harness.hpp>

namespace {

constexpr const char* kAdmin = "cc-ci-admin";

class Gitea final : public ccci::AbraRecipe {
 public:
  ccci::RecipeInfo info() const override {
    return {.tags = {"forge", "git"},
            .ready = {.path = "/api/healthz", .json_equals = {{"/status", "\"pass\""}}}};
  }

  void probe(ccci::Context& ctx) override {
    const ccci::HttpClient http(ctx.http());
    std::string password, token;
    ctx.check("an admin is created inside the app container", [&] {
      const std::vector<std::string> create = {"gitea",
                                               "admin",
                                               "user",
                                               "create",
                                               "--admin",
                                               "--username",
                                               kAdmin,
                                               "--email",
                                               "cc-ci@example.org",
                                               "--random-password",
                                               "--must-change-password=false"};
      ctx.abra().app_run(ctx.domain(), "app", create, [&](const std::string& output) {
        password = ccci::text_between(output, "generated random password is '", "'").value_or("");
        return std::vector<std::string>{password};
      });
      if (password.empty()) throw ccci::CheckFailure("gitea printed no generated password");
    });
    ctx.check("the admin gets an API token", [&] {
      auto request = ccci::HttpRequest::json(ctx.url("/api/v1/users/") + kAdmin + "/tokens",
                                             {{"name", "cc-ci"}, {"scopes", {"all"}}});
      request.basic_auth = ccci::Credentials{kAdmin, password};
      token = ccci::expect_http(http, request).status(201).json_at("/sha1").get<std::string>();
      ctx.add_secret(token);
    });
    ctx.check("the API answers /api/v1/version with that token", [&] {
      const auto version =
          ccci::expect_http(http, ccci::HttpRequest{.url = ctx.url("/api/v1/version")}.bearer(token))
              .status(200)
              .json_at("/version");
      if (!version.is_string() || version.get<std::string>().empty())
        throw ccci::CheckFailure("no version in the answer");
    });
    ctx.check("a repository is created over the API and a commit is pushed to it", [&] {
      auto create = ccci::HttpRequest::json(ctx.url("/api/v1/user/repos"), {{"name", "cc-ci-check"}});
      const std::string clone_url =
          ccci::expect_http(http, create.bearer(token)).status(201).json_at("/clone_url").get<std::string>();
      ccci::GitClient git(ctx.http(), ctx.domain(), [&](std::string_view line) { ctx.log(line); });
      const auto work = git.scratch("cc-ci-check");
      git.run({"init", "-q"}, work);
      git.run({"commit", "-q", "--allow-empty", "-m", "cc-ci was here"}, work);
      const std::string head = git.run({"rev-parse", "HEAD"}, work).substr(0, 40);
      git.run({"push", "-q", clone_url, "HEAD:main"}, work, ccci::Credentials{kAdmin, token});
      ccci::expect_http(
          http,
          ccci::HttpRequest{.url = ctx.url("/api/v1/repos/") + kAdmin + "/cc-ci-check/commits"}.bearer(token))
          .status(200)
          .json_equals("/0/sha", head);
    });
  }
};

}  // namespace

CCCI_PLUGIN(Gitea, "gitea")
