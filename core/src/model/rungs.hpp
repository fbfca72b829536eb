// The ladder a recipe climbs (levels 0-8, after YunoHost's package_check):
// each rung is judged on its own, and the level is the highest rung with
// every rung below it passed. The rungs themselves are ccci::Rung (plugin.hpp):
// plugins name them to declare one not applicable.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ccci/plugin.hpp"

namespace ccci {

inline constexpr std::array kRungs = {Rung::deploys,     Rung::serves,        Rung::checks,
                                      Rung::persistence, Rung::upgrade,       Rung::backup_restore,
                                      Rung::lint,        Rung::clean_teardown};

/// passed; failed (it was checked and said no); errored (the check could not
/// run); not_applicable (the plugin says so, with its reason; still caps the
/// level, as an intentional cap); unverified (nothing checked it: no previous
/// release, no seed hook, a lane not run; the reason says what would).
enum class RungStatus : std::uint8_t { passed, failed, errored, not_applicable, unverified };

inline constexpr std::array kRungStatuses = {RungStatus::passed, RungStatus::failed, RungStatus::errored,
                                             RungStatus::not_applicable, RungStatus::unverified};

struct RungResult {
  Rung rung = Rung::deploys;
  RungStatus status = RungStatus::unverified;
  std::string reason{};  ///< empty when passed
};

/// "persistence"; "keeps its data across undeploy and redeploy".
std::string_view to_string(Rung rung);
std::string_view describe(Rung rung);
std::string_view to_string(RungStatus status);

struct Grade {
  int level = 0;
  std::optional<Rung> capped_by{};  ///< the lowest rung that did not pass; none at level 8
  std::string reason{};             ///< why the level is not higher, in words
};

/// The level of a recipe from its rungs: the highest N with rungs 1..N all
/// passed. A rung missing from `rungs` counts as unverified.
Grade grade(const std::vector<RungResult>& rungs);

}  // namespace ccci
