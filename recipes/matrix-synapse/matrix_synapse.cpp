// matrix-synapse: client and federation APIs answer, and a user can register,
// log in and be recognised by the token it got.
#include <ccci/harness.hpp>

namespace {

class MatrixSynapse final : public ccci::RecipeTest {
 public:
  ccci::RecipeInfo info() const override {
    // Synapse's first start is slow: abra waits up to TIMEOUT (set below) for it.
    return {.tags = {"chat", "matrix"},
            .ready = {.path = "/_matrix/client/versions"},
            .timeouts = {.deploy = std::chrono::seconds(1200)},
            .compose_overlay = "matrix-synapse.compose.yml"};
  }

  void configure(ccci::Context& ctx) override {
    ctx.step("open registration and allow a slow start", [&] {
      ctx.abra().set_env("ENABLE_REGISTRATION", "true");
      ctx.abra().set_env("TIMEOUT", "900");
    });
  }

  void probe(ccci::Context& ctx) override {
    const ccci::HttpClient http(ctx.http());
    ctx.check("the client API lists the spec versions it speaks", [&] {
      if (ccci::expect_http(ctx, "/_matrix/client/versions").status(200).json_at("/versions").empty())
        throw ccci::CheckFailure("no versions listed");
    });
    ctx.check("the federation API names Synapse", [&] {
      ccci::expect_http(ctx, "/_matrix/federation/v1/version")
          .status(200)
          .json_equals("/server/name", "Synapse");
    });
    ctx.check("a user registers, logs in and is recognised by its token", [&] {
      const std::string password = ccci::new_secret(ctx);
      const std::string user_id = register_user(ctx, http, "cc-ci", password);
      log_in(ctx, http, "cc-ci", password, user_id);
    });
  }

  // The data a user keeps in Synapse: their account.
  void seed(ccci::Context& ctx) override {
    ctx.step("a user registers", [&] {
      password_ = ccci::new_secret(ctx);
      user_id_ = register_user(ctx, ccci::HttpClient(ctx.http()), "cc-ci-seed", password_);
    });
  }

  // Deactivation, with the user-interactive auth Synapse asks for (a first
  // request without it gets the session to answer in): only the database
  // the backup holds knows the account afterwards.
  void damage(ccci::Context& ctx) override {
    ctx.step("the user deactivates their account", [&] {
      const ccci::HttpClient http(ctx.http());
      const std::string token = access_token(ctx, http, "cc-ci-seed", password_);
      const std::string url = ctx.url("/_matrix/client/v3/account/deactivate");
      const std::string session =
          ccci::expect_http(http, ccci::HttpRequest::json(url, nlohmann::json::object()).bearer(token))
              .status(401)
              .json_at("/session")
              .get<std::string>();
      const nlohmann::json auth = {{"type", "m.login.password"},
                                   {"identifier", {{"type", "m.id.user"}, {"user", user_id_}}},
                                   {"password", password_},
                                   {"session", session}};
      ccci::expect_http(http, ccci::HttpRequest::json(url, {{"auth", auth}}).bearer(token)).status(200);
    });
  }

  void verify_seeded(ccci::Context& ctx) override {
    ctx.check("the registered user still logs in",
              [&] { log_in(ctx, ccci::HttpClient(ctx.http()), "cc-ci-seed", password_, user_id_); });
  }

 private:
  static std::string register_user(ccci::Context& ctx, const ccci::HttpClient& http, const std::string& name,
                                   const std::string& password) {
    return ccci::expect_http(
               http, ccci::HttpRequest::json(
                         ctx.url("/_matrix/client/v3/register"),
                         {{"username", name}, {"password", password}, {"auth", {{"type", "m.login.dummy"}}}}))
        .status(200)
        .json_at("/user_id")
        .get<std::string>();
  }

  // A password login's access token.
  static std::string access_token(ccci::Context& ctx, const ccci::HttpClient& http, const std::string& name,
                                  const std::string& password) {
    const auto login = ccci::HttpRequest::json(ctx.url("/_matrix/client/v3/login"),
                                               {{"type", "m.login.password"},
                                                {"identifier", {{"type", "m.id.user"}, {"user", name}}},
                                                {"password", password}});
    std::string token =
        ccci::expect_http(http, login).status(200).json_at("/access_token").get<std::string>();
    ctx.add_secret(token);
    return token;
  }

  // Logs in and checks the token says who it belongs to.
  static void log_in(ccci::Context& ctx, const ccci::HttpClient& http, const std::string& name,
                     const std::string& password, const std::string& user_id) {
    const std::string token = access_token(ctx, http, name, password);
    ccci::expect_http(http,
                      ccci::HttpRequest{.url = ctx.url("/_matrix/client/v3/account/whoami")}.bearer(token))
        .status(200)
        .json_equals("/user_id", user_id);
  }

  std::string password_;
  std::string user_id_;
};

}  // namespace

CCCI_PLUGIN(MatrixSynapse, "matrix-synapse")
