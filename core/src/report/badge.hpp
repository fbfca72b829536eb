// Pictures of a result, drawn by cc-ci itself as SVG (no badge service, no
// network): the shields-style badge ("cc-ci | level 6") and the summary card
// of a run (a row per recipe: level, its eight rungs as coloured cells,
// duration, commit). card.png is this SVG rendered by rsvg-convert.
#pragma once

#include <string>
#include <string_view>

#include "model/result.hpp"

namespace ccci {

/// The colour of a level, red (0) through orange and yellow to bright green (8),
/// as package_check colours its levels.
std::string_view level_colour(int level);

/// The colour of a rung's status (passed, failed, errored, not_applicable, unverified).
std::string_view rung_status_colour(std::string_view status);

/// "level N" for a graded recipe result (is_graded), else "not tested".
std::string level_words(const RecipeResult& recipe);

/// The level's colour for a graded recipe result, else grey.
std::string_view graded_colour(const RecipeResult& recipe);

/// A flat badge, `label` on grey and `message` on `colour` (#rrggbb).
std::string badge_svg(std::string_view label, std::string_view message, std::string_view colour);

/// The badge of one recipe result: "level N" in the level's colour, or "not
/// tested" in grey when it was not graded.
std::string recipe_badge_svg(const RecipeResult& recipe);

/// The badge of a whole run: one recipe's badge, "interrupted" in grey, or
/// "N/M passed" for several.
std::string run_badge_svg(const RunReport& results);

/// The summary card of a run: 960 px wide, a row per recipe.
std::string card_svg(const RunReport& results);

}  // namespace ccci
