// The ladder a recipe climbs (levels 0-8, after YunoHost's package_check):
// each rung is judged on its own, and the level is the highest rung with
// every rung below it passed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ccci {

/// Rung N is what level N proves (level 0: does not deploy).
enum class Rung : std::uint8_t {
  deploys = 1,     ///< deploys and converges
  serves,          ///< serves its domain over verified HTTPS
  checks,          ///< passes every recipe check
  persistence,     ///< keeps its data across undeploy and redeploy
  upgrade,         ///< upgrades from the previous release keeping its data
  backup_restore,  ///< backup and restore round-trip its data
  lint,            ///< `abra recipe lint` has no failed error-severity rule
  clean_teardown,  ///< teardown leaves no stack, secret, volume or env file behind
};
inline constexpr std::array kRungs = {Rung::deploys,     Rung::serves,        Rung::checks,
                                      Rung::persistence, Rung::upgrade,       Rung::backup_restore,
                                      Rung::lint,        Rung::clean_teardown};

/// passed; failed (it was checked and said no); errored (the check could not
/// run); not_applicable (the plugin says so, with its reason; still caps the
/// level, as an intentional cap); unverified (nothing checked it: no previous
/// release, no seed hook, a lane not run; the reason says what would).
enum class RungStatus : std::uint8_t { passed, failed, errored, not_applicable, unverified };

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
