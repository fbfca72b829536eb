// keycloak: the master realm answers; the admin gets a token with the
// password grant of admin-cli and uses it on the admin REST API.
#include <ccci/harness.hpp>

namespace {

class Keycloak final : public ccci::RecipeTest {
 public:
  ccci::RecipeInfo info() const override {
    return {.tags = {"identity", "oidc"},
            .ready = {.path = "/realms/master", .json_equals = {{"/realm", "master"}}}};
  }

  void probe(ccci::Context& ctx) override {
    const ccci::HttpClient http(ctx.http());
    std::string token;
    ctx.check("the master realm publishes its token service", [&] {
      const auto service = ccci::expect_http(ctx, "/realms/master").status(200).json_at("/token-service");
      if (service.get<std::string>().find(ctx.domain()) == std::string::npos)
        throw ccci::CheckFailure("token-service " + service.dump() + " is not on " + ctx.domain());
    });
    ctx.check("the admin gets a token with the password grant", [&] {
      token = password_grant(ctx, http, "master", "admin", ctx.abra().secret("admin_password"));
    });
    ctx.check("the admin REST API lists the realms with that token", [&] {
      ccci::expect_http(http, ccci::HttpRequest{.url = ctx.url("/admin/realms")}.bearer(token))
          .status(200)
          .json_equals("/0/realm", "master");
    });
  }

  // The data a user keeps in Keycloak: a realm with a user who can log in.
  void seed(ccci::Context& ctx) override {
    ctx.step("the admin creates a realm with a user", [&] {
      const ccci::HttpClient http(ctx.http());
      const std::string admin =
          password_grant(ctx, http, "master", "admin", ctx.abra().secret("admin_password"));
      ccci::expect_http(
          http, ccci::HttpRequest::json(ctx.url("/admin/realms"), {{"realm", kRealm}, {"enabled", true}})
                    .bearer(admin))
          .status(201);
      password_ = ccci::new_secret(ctx);
      const nlohmann::json user = {
          {"username", "cc-ci"},
          {"enabled", true},
          {"credentials", {{{"type", "password"}, {"value", password_}, {"temporary", false}}}}};
      ccci::expect_http(
          http, ccci::HttpRequest::json(ctx.url("/admin/realms/") + kRealm + "/users", user).bearer(admin))
          .status(201);
    });
  }

  void damage(ccci::Context& ctx) override {
    ctx.step("the admin deletes the realm", [&] {
      const ccci::HttpClient http(ctx.http());
      const std::string admin =
          password_grant(ctx, http, "master", "admin", ctx.abra().secret("admin_password"));
      ccci::expect_http(
          http,
          ccci::HttpRequest{.method = "DELETE", .url = ctx.url("/admin/realms/") + kRealm}.bearer(admin))
          .status(204);
    });
  }

  void verify_seeded(ccci::Context& ctx) override {
    ctx.check("the realm's user still logs in",
              [&] { password_grant(ctx, ccci::HttpClient(ctx.http()), kRealm, "cc-ci", password_); });
  }

 private:
  static constexpr const char* kRealm = "cc-ci-seed";

  // A token from `realm` for `user` with admin-cli's password grant.
  static std::string password_grant(ccci::Context& ctx, const ccci::HttpClient& http,
                                    const std::string& realm, const std::string& user,
                                    const std::string& password) {
    const auto request = ccci::HttpRequest::form(
        ctx.url("/realms/") + realm + "/protocol/openid-connect/token",
        {{"grant_type", "password"}, {"client_id", "admin-cli"}, {"username", user}, {"password", password}});
    std::string token =
        ccci::expect_http(http, request).status(200).json_at("/access_token").get<std::string>();
    ctx.add_secret(token);
    return token;
  }

  std::string password_;
};

}  // namespace

CCCI_PLUGIN(Keycloak, "keycloak")
