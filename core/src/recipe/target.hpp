// What a recipe test deploys: the revision under test (a release, a commit,
// or a local checkout with its uncommitted changes), resolved with git before
// anything is deployed, and the release an upgrade starts from.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ccci {

class GitObjects;

struct RecipeTarget {
  std::string ref;                     ///< as asked: a tag, branch or commit; "the working tree of PATH"
  std::string commit;                  ///< the full commit id of the target
  std::string version;                 ///< the release tag at that commit (X.Y.Z+UPSTREAM); empty: unreleased
  bool local_changes = false;          ///< a local checkout's uncommitted changes are part of the target
  std::string previous_release;        ///< the newest release older than the target; empty: none
  std::filesystem::path repository{};  ///< the git repository the test clones
  std::filesystem::path working_tree{};  ///< a local checkout whose changes are copied over the clone

  /// A release deploys by version; anything else the way abra deploys
  /// unreleased code, with --chaos.
  bool is_release() const { return !version.empty() && !local_changes; }
  /// "1.6.0+1.25.3", "unreleased 3f2a9c1d", "unreleased 3f2a9c1d with local changes".
  std::string describe() const;
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RecipeTarget, ref, commit, version, local_changes,
                                                previous_release, repository, working_tree)

/// What the user asked for one recipe: --ref, --recipe-dir or neither (the latest release).
struct TargetRequest {
  std::optional<std::string> ref;
  std::optional<std::filesystem::path> recipe_dir;
};

/// Whether `tag` names a recipe release: X.Y.Z+UPSTREAM.
bool is_release_version(std::string_view tag);

/// Resolves the target of `recipe`: from `request.recipe_dir` (a git checkout,
/// HEAD plus any uncommitted changes), else from the repository
/// `recipes_from/<recipe>` at `request.ref`, else at its latest release.
/// Throws UsageError (one line naming the recipe and the cause) for a missing
/// folder, a folder that is not a git checkout, an unknown ref or a recipe
/// without releases.
/// `objects`, when given, is set to the git that read the target's
/// repository: its files and releases are then read with no new process.
RecipeTarget resolve_target(const std::string& recipe, const TargetRequest& request,
                            const std::filesystem::path& recipes_from,
                            std::shared_ptr<GitObjects>* objects = nullptr);

/// Makes `destination` a clone of the target's repository at its commit, with
/// a local checkout's uncommitted changes (edits, new files, deletions) copied
/// in. Its origin is the local repository, so abra's tag fetches stay offline.
/// Throws std::runtime_error when git fails.
void check_out_target(const RecipeTarget& target, const std::filesystem::path& destination);

/// The release `version` of the target's repository (its tag's commit, no
/// local changes): what abra deploys for that version. nullopt when
/// `version` is not a release tag there. `objects`: a git reading the
/// target's repository (resolve_target's), else one started for this.
std::optional<RecipeTarget> release_of(const RecipeTarget& target, const std::string& version,
                                       GitObjects* objects = nullptr);

/// The most of one checkout file cc-ci reads (.env.sample, compose files):
/// far above any real recipe's, far below what would hurt.
inline constexpr std::uintmax_t kTargetFileMaxBytes = std::uintmax_t{1} << 20;

/// A file of the target as it will be deployed (the working tree's copy for a
/// local checkout with changes); nullopt when the target has no such file.
/// `path` is relative to the recipe's folder; a leading '/' is dropped, as
/// abra joins the names in COMPOSE_FILE to that folder. The checkout is the
/// change under test, so it is read as hostile: throws UsageError for a path
/// that leads out of the checkout (by "..", or by a link once resolved), for
/// anything but a regular file, and for a file over kTargetFileMaxBytes.
std::optional<std::string> read_target_file(const RecipeTarget& target, const std::string& path);

nlohmann::json to_json(const RecipeTarget& target);
RecipeTarget target_from_json(const nlohmann::json& json);

}  // namespace ccci
