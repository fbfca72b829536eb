// gitea: a forge. Checks create an admin inside the container, get an API
// token, call the API with it, and push a commit over HTTPS with git; its
// data is another user's repository with a pushed commit.
#include <ccci/harness.hpp>

namespace {

constexpr const char* kAdmin = "cc-ci-admin";
constexpr const char* kSeeder = "cc-ci-seeder";

class Gitea final : public ccci::RecipeTest {
 public:
  ccci::RecipeInfo info() const override {
    return {.tags = {"forge", "git"},
            .ready = {.path = "/api/healthz", .json_equals = {{"/status", "pass"}}}};
  }

  void probe(ccci::Context& ctx) override {
    const ccci::HttpClient http(ctx.http());
    std::string password, token;
    ctx.check("an admin is created inside the app container", [&] { password = create_admin(ctx, kAdmin); });
    ctx.check("the admin gets an API token", [&] { token = api_token(ctx, http, kAdmin, password); });
    ctx.check("the API answers /api/v1/version with that token", [&] {
      const auto version =
          ccci::expect_http(http, ccci::HttpRequest{.url = ctx.url("/api/v1/version")}.bearer(token))
              .status(200)
              .json_at("/version");
      if (!version.is_string() || version.get<std::string>().empty())
        throw ccci::CheckFailure("no version in the answer");
    });
    ctx.check("a repository is created over the API and a commit is pushed to it",
              [&] { push_new_repository(ctx, http, kAdmin, token, "cc-ci-check"); });
  }

  // The data a user keeps in Gitea: a repository with a pushed commit.
  void seed(ccci::Context& ctx) override {
    ctx.step("a user pushes a commit to a new repository", [&] {
      const ccci::HttpClient http(ctx.http());
      seeder_password_ = create_admin(ctx, kSeeder);
      const std::string token = api_token(ctx, http, kSeeder, seeder_password_);
      seeded_head_ = push_new_repository(ctx, http, kSeeder, token, "cc-ci-seed");
    });
  }

  void damage(ccci::Context& ctx) override {
    ctx.step("the user deletes the seeded repository", [&] {
      ccci::HttpRequest remove{.method = "DELETE",
                               .url = ctx.url("/api/v1/repos/") + kSeeder + "/cc-ci-seed"};
      remove.basic_auth = ccci::Credentials{kSeeder, seeder_password_};
      ccci::expect_http(ccci::HttpClient(ctx.http()), remove).status(204);
    });
  }

  void verify_seeded(ccci::Context& ctx) override {
    ctx.check("the seeded repository still has its pushed commit", [&] {
      ccci::HttpRequest commits{.url = ctx.url("/api/v1/repos/") + kSeeder + "/cc-ci-seed/commits"};
      commits.basic_auth = ccci::Credentials{kSeeder, seeder_password_};
      ccci::expect_http(ccci::HttpClient(ctx.http()), commits)
          .status(200)
          .json_equals("/0/sha", seeded_head_);
    });
  }

 private:
  // `gitea admin user create` in the app container; returns the generated password.
  static std::string create_admin(ccci::Context& ctx, const std::string& user) {
    std::string password;
    const std::vector<std::string> create = {"gitea",
                                             "admin",
                                             "user",
                                             "create",
                                             "--admin",
                                             "--username",
                                             user,
                                             "--email",
                                             user + "@example.org",
                                             "--random-password",
                                             "--must-change-password=false"};
    ctx.abra().app_run("app", create, [&](const std::string& output) {
      password = ccci::text_between(output, "generated random password is '", "'").value_or("");
      return std::vector<std::string>{password};
    });
    if (password.empty()) throw ccci::CheckFailure("gitea printed no generated password");
    return password;
  }

  static std::string api_token(ccci::Context& ctx, const ccci::HttpClient& http, const std::string& user,
                               const std::string& password) {
    auto request = ccci::HttpRequest::json(ctx.url("/api/v1/users/") + user + "/tokens",
                                           {{"name", "cc-ci"}, {"scopes", {"all"}}});
    request.basic_auth = ccci::Credentials{user, password};
    std::string token = ccci::expect_http(http, request).status(201).json_at("/sha1").get<std::string>();
    ctx.add_secret(token);
    return token;
  }

  // Creates `name` over the API, pushes one commit over HTTPS, checks the API
  // lists it; returns the commit.
  static std::string push_new_repository(ccci::Context& ctx, const ccci::HttpClient& http,
                                         const std::string& user, const std::string& token,
                                         const std::string& name) {
    auto create = ccci::HttpRequest::json(ctx.url("/api/v1/user/repos"), {{"name", name}});
    const std::string clone_url =
        ccci::expect_http(http, create.bearer(token)).status(201).json_at("/clone_url").get<std::string>();
    ccci::GitClient git(ctx.http(), ctx.domain(), [&](std::string_view line) { ctx.log(line); });
    const auto work = git.scratch(name);
    git.run({"init", "-q"}, work);
    git.run({"commit", "-q", "--allow-empty", "-m", "cc-ci was here"}, work);
    std::string head = git.run({"rev-parse", "HEAD"}, work).substr(0, 40);
    git.run({"push", "-q", clone_url, "HEAD:main"}, work, ccci::Credentials{user, token});
    ccci::expect_http(
        http,
        ccci::HttpRequest{.url = ctx.url("/api/v1/repos/") + user + "/" + name + "/commits"}.bearer(token))
        .status(200)
        .json_equals("/0/sha", head);
    return head;
  }

  std::string seeder_password_;
  std::string seeded_head_;
};

}  // namespace

CCCI_PLUGIN(Gitea, "gitea")
