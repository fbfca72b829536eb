// The CI engines the `!testme` bridge starts builds on. cc-ci schedules
// nothing of its own: the engine queues the build, runs the recipe's cc-ci
// pipeline (nix/pipelines/) and keeps its logs.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "forge/gitea.hpp"

namespace ccci {

/// A build of a recipe repository's pipeline for one PR commit. The pipeline
/// comes from the base branch, never from the PR: a PR could otherwise change
/// what runs with the host's secrets. The PR's head is fetched as data, from
/// the variables CC_CI_PR and CC_CI_COMMIT.
struct BuildRequest {
  RepoName repo;
  std::string branch;  ///< the PR's base branch
  long long pr = 0;
  std::string commit;        ///< the PR's head commit
  std::string requested_by;  ///< the login that wrote `!testme`
};

/// The request that starts a build got no answer that says what happened (no
/// answer at all, a gateway that gave up waiting for the engine, an answer
/// that is not the build): the engine may have started it.
class BuildOutcomeUnknown : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A build the engine took: its number, and the page that shows it.
struct StartedBuild {
  long long number = 0;
  std::string page_url;
};

class CiEngine {
 public:
  virtual ~CiEngine() = default;
  /// Starts the build. Throws ForgeError or
  /// HttpError when the engine did not start it (it refused, or it could not
  /// be reached before the build was asked for), BuildOutcomeUnknown when it
  /// may have.
  virtual StartedBuild start(const BuildRequest& request) const = 0;
  virtual std::string name() const = 0;
};

/// `engine` is "woodpecker" (POST /api/repos/{id}/pipelines) or "drone"
/// (POST /api/repos/{owner}/{name}/builds); both take a bearer token.
std::unique_ptr<CiEngine> make_ci_engine(const std::string& engine, std::string url, std::string token);

}  // namespace ccci
