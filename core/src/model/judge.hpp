// The ladder's judge: which lane and phase prove each rung, and the level a
// recipe reaches. The one place these rules live; reports only show them.
#pragma once

#include <optional>
#include <string>

#include "model/result.hpp"

namespace ccci {

/// Sets status, rungs, level and level_reason from the steps of every lane:
/// rungs 1-4, 6 from the fresh lane, 5 from the upgrade lane, 7 from the lint
/// lane, 8 from the inspection after each teardown. A rung nothing checked is
/// unverified, never passed.
void judge(RecipeResult& result);

/// The lane whose steps prove `rung`, one of rungs 1-7: the upgrade lane
/// rung 5, the lint lane rung 7, the fresh lane the others.
Lane lane_proving(Rung rung);
/// Whether the steps of `lane` count toward `rung` as judge() reads them: the
/// lane_proving it, and for the clean teardown (rung 8) every lane's.
bool proves(Rung rung, Lane lane);
/// The rung a step's time counts toward: the readiness probe's toward
/// serving, any other step's toward its phase's rung; none when its lane
/// does not prove that rung (the upgrade lane's deploy of the old release).
std::optional<Rung> rung_timed_by(const StepResult& step);

/// Whether a recipe was graded: it was tested and judged, so it has rungs.
bool is_graded(const RecipeResult& recipe);
/// Why the level is not higher, when there is a higher level to explain
/// (not at the top of the ladder); else empty.
std::string why_not_higher(const RecipeResult& recipe);

}  // namespace ccci
