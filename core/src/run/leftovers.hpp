// What Docker says of an app's stack: whether it converged after a deploy, and
// what of the app is still on its server after teardown (the clean-teardown rung).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "run/docker_engine.hpp"

namespace ccci {

struct LeftoverQuery {
  std::string docker;  ///< the docker CLI; it reaches the server through the context abra made for it
  std::string server;  ///< abra's server name, which is its Docker context
  std::string domain;
  std::filesystem::path abra_dir;  ///< where the app's env file was
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

/// The services of the app's stack (abra deploys with `docker stack deploy`,
/// which labels each with its stack), with how many tasks each runs.
EngineListing convergence_listing(const LeftoverQuery& query);

/// The services of the app's stack that do not run all their replicas, as
/// "NAME RUNNING/WANTED"; the stack itself when it has no service. Empty once
/// the stack converged. Throws CommandError when the engine cannot answer.
std::vector<std::string> services_not_converged(DockerEngine& engine, const LeftoverQuery& query);

/// The command that removes the app's stack on its server directly.
std::vector<std::string> stack_removal_command(const LeftoverQuery& query);

/// When `abra app undeploy` could not remove the app: `docker stack rm` of
/// its stack through the server's context, then a wait (until the query's
/// deadline) for its containers and networks to go, so that `app rm` can
/// remove the volumes they held. False when there was no stack to remove.
/// Throws CommandError when docker cannot do it or the stack does not go.
bool remove_stack(DockerEngine& engine, const LeftoverQuery& query);

/// The listings find_leftovers asks for, in order (for plans and logs).
std::vector<EngineListing> leftover_listings(const LeftoverQuery& query);

/// Every trace of the app: its env file under ABRA_DIR, and each Docker stack,
/// service, secret, config, volume and network named after it (abra derives
/// them from the domain: `<domain with . as _>` and `<that>_<name>`). Empty
/// when teardown was clean. Throws CommandError when the engine cannot answer.
std::vector<std::string> find_leftovers(DockerEngine& engine, const LeftoverQuery& query);

}  // namespace ccci
