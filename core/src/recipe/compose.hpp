// The recipe as abra deploys it: the env file's values (as abra's dotenv
// reader takes them), the compose files its COMPOSE_FILE names, and what the
// host needs of them (services, backupbot's labels, the Docker names the
// stack will make). One reader for `cc-ci run` and `cc-ci plan`, whose result
// plugins see as ccci::ComposeLayout.
//
// Everything read here comes from the change under test: hostile. Files are
// handed in already bounded (read_target_file); YAML nesting is bounded by
// yaml-cpp's depth guard; the walk over aliases and `<<` merges, and every
// value interpolation makes, are bounded by budgets (compose.cpp).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ccci/plugin.hpp"
#include "recipe/env_file.hpp"

namespace ccci {

/// A name Docker will give an object of the stack, for its 64-character cap.
struct DockerName {
  std::string kind;  ///< "secret", "config", "volume", "network" or "service"
  std::string name;
};

/// What the compose files say, read for one app (its stack name).
struct ComposeReading {
  ComposeLayout layout;
  /// Every secret, config, volume and network name the stack will create or
  /// look up, as Docker will spell it.
  std::vector<DockerName> docker_names;
};

/// Reads the recipe: `env` is the app's environment (the env file's values,
/// abra.sh's exports, STACK_NAME, DOMAIN), `read_file` a compose file by name
/// (nullopt: no such file). Throws ComposeError for a file that is missing,
/// not UTF-8 or not a compose file, and for one that takes too much to read
/// (a bounded number of steps and bytes, whatever its aliases and merges
/// make of it); lets read_file's own errors through.
ComposeReading read_compose(const std::function<std::optional<std::string>(const std::string&)>& read_file,
                            const EnvValues& env, std::string_view stack);

/// One line per backed-up service for people (plans, logs): its paths, and
/// the hooks around a backup and a restore.
std::vector<std::string> describe_backups(const ComposeLayout& layout);

}  // namespace ccci
