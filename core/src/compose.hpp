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

namespace ccci {

/// A recipe whose env file or compose files cannot be read as abra reads
/// them; the message names the file and, for YAML, the line and column.
class ComposeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using EnvValues = std::map<std::string, std::string, std::less<>>;

/// The statements of an env file as abra's dotenv reader (godotenv) takes
/// them: `[export] KEY=VALUE`, single quotes literal, double quotes with \n
/// and \r, a quoted value across lines, a comment from the last ` #` of an
/// unquoted value, and `$VAR` / `${VAR}` (upper-case names) expanded from the
/// statements above (so `COMPOSE_FILE="$COMPOSE_FILE:x.yml"` appends).
/// `values` holds what is already set and receives the result. Throws
/// ComposeError where abra could not read it either (a line without '=', a
/// key that is not a name, an unclosed quote) and for a value that grows past
/// 64 KiB (8 MiB in all): `A=$A$A` forty times is a hostile file.
void read_env_file(std::string_view text, EnvValues& values);

/// The `export NAME=VALUE` lines of a recipe's abra.sh, as written (abra adds
/// them to the app's environment for a deploy: config versions, mostly).
/// Nothing of abra.sh is run, quoted or expanded.
void read_abra_sh_exports(std::string_view text, EnvValues& values);

/// `value` with compose's interpolation as docker/cli's template package
/// (`docker stack deploy`) applies it: `$$` for a '$', `$VAR`, `${VAR}`,
/// `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`;
/// a default is the text up to the first '}', taken as written. An unset
/// variable is empty; anything else after a '$', or a `?` form without a
/// value, throws ComposeError, as the deploy would fail.
std::string interpolate(std::string_view value, const EnvValues& env);

/// The compose files COMPOSE_FILE names, in order, each once; compose.yml
/// when unset. More than 32 is a ComposeError.
std::vector<std::string> compose_file_names(const EnvValues& env);

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
