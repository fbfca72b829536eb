// keycloak: the master realm answers; the admin gets a token with the
// password grant of admin-cli and uses it on the admin REST API.
#include <ccci/harness.hpp>

namespace {

class Keycloak final : public ccci::AbraRecipe {
 public:
  ccci::RecipeInfo info() const override {
    return {.tags = {"identity", "oidc"},
            .ready = {.path = "/realms/master", .json_equals = {{"/realm", "\"master\""}}}};
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
      const auto request = ccci::HttpRequest::form(ctx.url("/realms/master/protocol/openid-connect/token"),
                                                   {{"grant_type", "password"},
                                                    {"client_id", "admin-cli"},
                                                    {"username", "admin"},
                                                    {"password", ctx.abra().secret("admin_password")}});
      token = ccci::expect_http(http, request).status(200).json_at("/access_token").get<std::string>();
      ctx.add_secret(token);
    });
    ctx.check("the admin REST API lists the realms with that token", [&] {
      ccci::expect_http(http, ccci::HttpRequest{.url = ctx.url("/admin/realms")}.bearer(token))
          .status(200)
          .json_equals("/0/realm", "master");
    });
  }
};

}  // namespace

CCCI_PLUGIN(Keycloak, "keycloak")
