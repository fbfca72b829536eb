// The host's deploy and teardown of the app under test: the same abra calls
// for every recipe, with the plugin's hooks between them. A plugin cannot
// skip teardown, nor deploy what it was not asked to.
#pragma once

#include "run/lane_context.hpp"

namespace ccci {

/// `app new`, `app secret generate`, the env settings of `info`, the CI
/// compose overlay (chaos deploys only), configure(), `app deploy`: each abra
/// call one step, stopping at the first step that does not pass.
void deploy_app(RecipeTest& test, LaneContext& ctx, const RecipeInfo& info);

/// before_teardown() within a quarter of the phase, `app undeploy` within
/// half of what is left, then `app rm`: every step runs, whatever failed before.
void tear_down_app(RecipeTest& test, LaneContext& ctx);

}  // namespace ccci
