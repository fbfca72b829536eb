#include "ccci/abra_recipe.hpp"

#include "ccci/abra_client.hpp"

namespace ccci {

void AbraRecipe::deploy(Context& ctx) {
  AbraClient& abra = ctx.abra();
  const bool ready_to_deploy = ctx.step("app new", [&] {
    abra.app_new(ctx.recipe(), ctx.server(), ctx.domain());
  }) && ctx.step("app secret generate", [&] { abra.generate_secrets(ctx.domain()); });
  if (!ready_to_deploy) return;
  configure(ctx);
  ctx.step("app deploy", [&] { abra.deploy(ctx.domain()); });
}

void AbraRecipe::teardown(Context& ctx) {
  AbraClient& abra = ctx.abra();
  before_teardown(ctx);
  ctx.step("app undeploy", [&] {
    if (!abra.undeploy(ctx.domain())) ctx.log("app was not deployed; nothing to undeploy");
  });
  ctx.step("app rm", [&] {
    if (!abra.remove(ctx.domain())) ctx.log("app had no env file; nothing to remove");
  });
}

void AbraRecipe::configure(Context&) {}
void AbraRecipe::before_teardown(Context&) {}

}  // namespace ccci
