#include "ccci/abra_recipe.hpp"

#include <chrono>
#include <functional>

#include "ccci/abra_client.hpp"

namespace ccci {

void AbraRecipe::deploy(Context& ctx) {
  AbraClient& abra = ctx.abra();
  const bool ready_to_deploy = ctx.step("app new", [&] {
    abra.app_new(ctx.recipe(), ctx.server(), ctx.domain());
  }) && ctx.step("app secret generate", [&] { abra.generate_secrets(ctx.domain()); });
  if (!ready_to_deploy) return;
  const RecipeInfo recipe_info = info();
  // The overlay is a file abra's git library would see in the checkout. A
  // chaos deploy takes the checkout as it is; a release deploy refuses one
  // with local changes, and whether a file hidden by .git/info/exclude
  // counts is not known of real abra (docs/abra-fidelity.md). So a release
  // deploys as its maintainers wrote it, and the overlay waits for chaos.
  const bool chaos = abra.settings().deploy.version.empty();
  if (!recipe_info.compose_overlay.empty() && !chaos)
    ctx.log("the CI compose overlay " + recipe_info.compose_overlay +
            " is not used: " + abra.settings().deploy.version +
            " is deployed as released, from a checkout without local changes");
  for (const auto& setting : recipe_info.env)  // a lambda may not capture a structured binding (clang 14)
    if (!ctx.step("set " + setting.first + " in the env file",
                  [&] { abra.set_env(ctx.domain(), setting.first, setting.second); }))
      return;
  // After the plugin's settings, so the overlay joins whatever COMPOSE_FILE they leave.
  if (!recipe_info.compose_overlay.empty() && chaos &&
      !ctx.step("add the CI compose overlay to COMPOSE_FILE", [&] {
        abra.add_compose_overlay(ctx.domain(), ctx.recipe(), ctx.plugin_dir() / recipe_info.compose_overlay);
      }))
    return;
  configure(ctx);
  ctx.step("app deploy", [&] { abra.deploy(ctx.domain()); });
}

namespace {

// Runs `body` with the abra calls in it bounded by `share` of the time left in
// the phase, so a hanging command cannot starve the ones after it.
void with_share(Context& ctx, double share, const std::function<void()>& body) {
  const auto deadline = ctx.deadline();
  const auto now = std::chrono::steady_clock::now();
  if (deadline != std::chrono::steady_clock::time_point::max() && deadline > now)
    ctx.abra().set_deadline(
        now + std::chrono::duration_cast<std::chrono::steady_clock::duration>((deadline - now) * share));
  try {
    body();
  } catch (...) {
    ctx.abra().set_deadline(deadline);
    throw;
  }
  ctx.abra().set_deadline(deadline);
}

}  // namespace

void AbraRecipe::teardown(Context& ctx) {
  AbraClient& abra = ctx.abra();
  // A quarter for the plugin's hook, then half of what is left for undeploy:
  // `app rm` always gets its turn, whatever hangs before it.
  with_share(ctx, 0.25, [&] { before_teardown(ctx); });
  with_share(ctx, 0.5, [&] {
    ctx.step("app undeploy", [&] {
      if (!abra.undeploy(ctx.domain())) ctx.log("app was not deployed; nothing to undeploy");
    });
  });
  ctx.step("app rm", [&] {
    if (!abra.remove(ctx.domain())) ctx.log("app had no env file; nothing to remove");
  });
}

void AbraRecipe::configure(Context&) {}
void AbraRecipe::before_teardown(Context&) {}

}  // namespace ccci
