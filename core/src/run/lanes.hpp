// The host's sequences inside a lane, each a list of steps on a LaneContext:
// readiness, convergence, the data phases of the fresh lane, the upgrade
// lane's move, and what teardown must leave. run/lifecycle.cpp strings them
// into one lane's flow.
#pragma once

#include <string>
#include <string_view>

#include "run/lane_context.hpp"

namespace ccci {

/// Waits until the app answers as info.ready says, within the phase. Returns
/// whether it did (in plans: true).
bool wait_for_readiness(LaneContext& ctx, const RecipeInfo& info);
/// After a deploy that passed: every service of the stack runs its replicas.
void wait_for_convergence(LaneContext& ctx);
/// How to remove an app that --keep kept, in words for the log.
std::string keep_notice(const RecipeJob& job, std::string_view why);
/// The fresh lane after the recipe checks: persistence, then backup_restore.
void walk_data_phases(RecipeTest& test, LaneContext& ctx, const RecipeInfo& info);
/// The upgrade lane after the previous release became ready.
void walk_upgrade(RecipeTest& test, LaneContext& ctx, const RecipeInfo& info);
/// The host's own removal of what a teardown that did not finish left.
void remove_what_teardown_left(LaneContext& ctx, size_t first_teardown_step);
/// After teardown: nothing of the app may be left.
void check_nothing_left(LaneContext& ctx);

}  // namespace ccci
