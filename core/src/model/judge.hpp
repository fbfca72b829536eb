// The ladder's judge: which lane and phase prove each rung, and the level a
// recipe reaches. The one place these rules live; reports only show them.
#pragma once

#include "model/result.hpp"

namespace ccci {

/// Sets status, rungs, level and level_reason from the steps of every lane:
/// rungs 1-4, 6 from the fresh lane, 5 from the upgrade lane, 7 from the lint
/// lane, 8 from the inspection after each teardown. A rung nothing checked is
/// unverified, never passed.
void judge(RecipeResult& result);

}  // namespace ccci
