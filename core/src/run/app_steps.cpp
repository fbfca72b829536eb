#include "run/app_steps.hpp"

#include <chrono>
#include <functional>

namespace ccci {
namespace {

// Runs `body` with the abra calls in it bounded by `share` of the time left in
// the phase, so a hanging command cannot starve the ones after it.
void with_share(LaneContext& ctx, double share, const std::function<void()>& body) {
  const auto deadline = ctx.deadline();
  const auto now = std::chrono::steady_clock::now();
  if (deadline != std::chrono::steady_clock::time_point::max() && deadline > now)
    ctx.client().set_deadline(
        now + std::chrono::duration_cast<std::chrono::steady_clock::duration>((deadline - now) * share));
  try {
    body();
  } catch (...) {
    ctx.client().set_deadline(deadline);
    throw;
  }
  ctx.client().set_deadline(deadline);
}

// The plugin's env settings and its CI overlay, after `app secret generate`.
// The overlay is a file abra's git library would see in the checkout. A
// chaos deploy takes the checkout as it is; a release deploy refuses one with
// local changes, and whether a file hidden by .git/info/exclude counts is not
// known of real abra (docs/abra-fidelity.md). So a release deploys as its
// maintainers wrote it, and the overlay waits for chaos.
bool configure_env(LaneContext& ctx, const RecipeInfo& info) {
  AbraClient& abra = ctx.client();
  const bool chaos = abra.settings().deploy.version.empty();
  if (!info.compose_overlay.empty() && !chaos)
    ctx.log("the CI compose overlay " + info.compose_overlay +
            " is not used: " + abra.settings().deploy.version +
            " is deployed as released, from a checkout without local changes");
  for (const auto& setting : info.env)  // a lambda may not capture a structured binding (clang 14)
    if (!ctx.act("set " + setting.first + " in the env file",
                 [&] { abra.set_env(ctx.domain(), setting.first, setting.second); }))
      return false;
  // After the plugin's settings, so the overlay joins whatever COMPOSE_FILE they leave.
  return info.compose_overlay.empty() || !chaos || ctx.act("add the CI compose overlay to COMPOSE_FILE", [&] {
    abra.add_compose_overlay(ctx.domain(), ctx.recipe(), ctx.plugin_dir() / info.compose_overlay);
  });
}

}  // namespace

void deploy_app(RecipeTest& test, LaneContext& ctx, const RecipeInfo& info) {
  AbraClient& abra = ctx.client();
  const bool created = ctx.act("app new", [&] { abra.app_new(ctx.recipe(), ctx.server(), ctx.domain()); }) &&
                       ctx.act("app secret generate", [&] { abra.generate_secrets(ctx.domain()); });
  if (!created || !configure_env(ctx, info)) return;
  const size_t first = ctx.steps_recorded();
  ctx.guard("configure", [&] { test.configure(ctx); });
  if (ctx.steps_recorded() != first && !ctx.passed_since(first)) return;
  ctx.act("app deploy", [&] { abra.deploy(ctx.domain()); });
}

void tear_down_app(RecipeTest& test, LaneContext& ctx) {
  AbraClient& abra = ctx.client();
  with_share(ctx, 0.25, [&] { ctx.guard("before_teardown", [&] { test.before_teardown(ctx); }); });
  with_share(ctx, 0.5, [&] {
    ctx.act("app undeploy", [&] {
      if (!abra.undeploy(ctx.domain())) ctx.log("app was not deployed; nothing to undeploy");
    });
  });
  ctx.act("app rm", [&] {
    if (!abra.remove(ctx.domain())) ctx.log("app had no env file; nothing to remove");
  });
}

}  // namespace ccci
