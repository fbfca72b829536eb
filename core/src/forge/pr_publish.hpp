// `cc-ci gitea`: a finished run told on its pull request. One comment per PR
// (summary.md), created once and edited in place by every later run, and a
// commit status `cc-ci/<recipe>` for each recipe of the run.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "forge/gitea.hpp"
#include "model/result.hpp"

namespace ccci {

/// The first line of cc-ci's PR comment: how a later run finds the comment to
/// edit (among those the same token's user wrote).
inline constexpr std::string_view kCommentMarker = "<!-- cc-ci: edited in place by `cc-ci gitea` -->";

struct PublishRequest {
  RepoName repo;
  std::optional<long long> pr;  ///< the PR to comment on; none: statuses only
  std::string commit{};  ///< the commit the CI engine built: the statuses go on it, and every recipe must
                         ///< have been tested at it
  std::string dashboard_url{};  ///< where the report folder is served; the statuses link there
};

/// Comments and sets the statuses for the run in `report_dir` (results.json
/// and summary.md). Returns what it did, a line each. Throws ForgeError when
/// Gitea refuses, std::runtime_error when the report is not one to publish
/// (no results, no summary.md, a commit that is not the one tested).
std::vector<std::string> publish_to_gitea(const std::filesystem::path& report_dir, const GiteaClient& gitea,
                                          const PublishRequest& request);

/// When there is no report to publish (the run stopped before it sealed
/// one, or the folder is not as sealed): the status `error`, "not tested", on
/// the request's commit, for the recipe the repository holds. Returns what it
/// did. Throws ForgeError or HttpError.
std::string mark_not_tested(const GiteaClient& gitea, const PublishRequest& request);

/// The commit status a recipe's result gives: success only for a recipe that
/// passed in a run that was not interrupted.
CommitStatus recipe_status(const RecipeResult& recipe, bool interrupted, const std::string& dashboard_url);

}  // namespace ccci
