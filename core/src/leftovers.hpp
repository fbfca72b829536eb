// What Docker says of an app's stack: whether it converged after a deploy, and
// what of the app is still on its server after teardown (the clean-teardown rung).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace ccci {

struct LeftoverQuery {
  std::string docker;  ///< the docker CLI; it reaches the server through the context abra made for it
  std::string server;  ///< abra's server name, which is its Docker context
  std::string domain;
  std::filesystem::path abra_dir;  ///< where the app's env file was
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

/// `docker service ls` of the app's stack, each service with its replicas.
std::vector<std::string> convergence_command(const LeftoverQuery& query);

/// The services of the app's stack that do not run all their replicas, as
/// "NAME RUNNING/WANTED"; the stack itself when it has no service. Empty once
/// the stack converged. Throws CommandError when docker cannot answer.
std::vector<std::string> services_not_converged(const LeftoverQuery& query);

/// The commands find_leftovers runs, in order (for plans and logs).
std::vector<std::vector<std::string>> leftover_commands(const LeftoverQuery& query);

/// Every trace of the app: its env file under ABRA_DIR, and each Docker stack,
/// service, secret, config, volume and network named after it (abra derives
/// them from the domain: `<domain with . as _>` and `<that>_<name>`). Empty
/// when teardown was clean. Throws CommandError when docker cannot answer.
std::vector<std::string> find_leftovers(const LeftoverQuery& query);

}  // namespace ccci
