// The recipe as abra deploys it: the env file's values (as abra's dotenv
// reader takes them), the compose files its COMPOSE_FILE names, and what the
// host needs of them (services, backupbot's labels, the Docker names the
// stack will make). One reader for `cc-ci run` and `cc-ci plan`, whose result
// plugins see as ccci::ComposeLayout.
//
// Everything read here comes from the change under test: hostile. Files are
// handed in already bounded (read_target_file); YAML nesting is bounded by
// yaml-cpp's depth guard; aliases are followed only where compose uses them
// (a value, a `<<` merge), never expanded into copies.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ccci/plugin.hpp"

namespace ccci {

/// A recipe whose env file or compose files cannot be read as abra reads
/// them; the message names the file and, for YAML, the line and column.
class ComposeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using EnvValues = std::map<std::string, std::string, std::less<>>;

/// The KEY=VALUE lines of an env file as abra's dotenv reader (godotenv)
/// takes them: `export ` prefixes, single quotes literal, double quotes with
/// escapes, ` #` comments after unquoted values, and `$VAR` / `${VAR}`
/// expanded from the lines above (so `COMPOSE_FILE="$COMPOSE_FILE:x.yml"`
/// appends). `values` holds what is already set and receives the result.
void read_env_file(std::string_view text, EnvValues& values);

/// The `export NAME=VALUE` lines of a recipe's abra.sh, which abra adds to
/// the app's environment for a deploy (config versions, mostly). Nothing of
/// abra.sh is run.
void read_abra_sh_exports(std::string_view text, EnvValues& values);

/// `value` with compose's interpolation applied: `$VAR`, `${VAR}`,
/// `${VAR:-default}`, `${VAR-default}`, `${VAR:+other}`, `${VAR+other}`,
/// `${VAR:?message}` and `${VAR?message}`, `$$` for a '$'. An unset variable
/// is empty, as docker stack deploy makes it; a `?` form that fails throws
/// ComposeError.
std::string interpolate(std::string_view value, const EnvValues& env);

/// The compose files COMPOSE_FILE names, in order; compose.yml when unset.
std::vector<std::string> compose_file_names(const EnvValues& env);

/// A name Docker will give an object of the stack, for its 64-character cap.
struct DockerName {
  std::string kind;  ///< "secret", "config", "volume" or "network"
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
/// (nullopt: no such file). Throws ComposeError for a file that is missing or
/// is not a compose file, and lets read_file's own errors through.
ComposeReading read_compose(const std::function<std::optional<std::string>(const std::string&)>& read_file,
                            const EnvValues& env, std::string_view stack);

/// One line per backed-up service for people (plans, logs): its paths, and
/// the hooks around a backup and a restore.
std::vector<std::string> describe_backups(const ComposeLayout& layout);

}  // namespace ccci
