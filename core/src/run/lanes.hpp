// The host's sequences inside a lane, each a list of steps on a RunContext:
// readiness, convergence, the data phases of the fresh lane, the upgrade
// lane's move, and what teardown must leave. run/lifecycle.cpp strings them
// into one lane's flow.
#pragma once

#include <string>
#include <string_view>

#include "run/run_context.hpp"

namespace ccci {

/// Waits until the app answers as info.ready says, within the phase. Returns
/// whether it did (in plans: true).
bool wait_for_readiness(RunContext& ctx, const RecipeInfo& info);
/// After a deploy that passed: every service of the stack runs its replicas.
void wait_for_convergence(RunContext& ctx);
/// How to remove an app that --keep kept, in words for the log.
std::string keep_notice(const RecipeJob& job, std::string_view why);
/// The landing page's picture (fresh lane), for people only.
void shoot_landing_page(RunContext& ctx, const RecipeJob& job, const RecipeInfo& info,
                        LifecycleObserver& observer);
/// The fresh lane after the recipe checks: persistence, then backup_restore.
void walk_data_phases(RecipeTest& test, RunContext& ctx, const RecipeInfo& info);
/// The upgrade lane after the previous release became ready.
void walk_upgrade(RecipeTest& test, RunContext& ctx, const RecipeInfo& info);
/// The host's own removal of what a teardown that did not finish left.
void remove_what_teardown_left(RunContext& ctx, size_t first_teardown_step);
/// After teardown: nothing of the app may be left.
void check_nothing_left(RunContext& ctx);

}  // namespace ccci
