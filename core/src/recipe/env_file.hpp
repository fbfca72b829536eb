// The app's environment as abra builds it for a deploy: the env file as
// abra's dotenv reader (godotenv) reads it, abra.sh's exports, and compose's
// `${VAR:-default}` interpolation as docker/cli applies it. All of it comes
// from the change under test: hostile, and bounded (ValueBudget).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

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

/// What one reading may make of its values: `A=$A$A` forty times, or one
/// long value pasted into thousands of labels, ends in a ComposeError, not in
/// the host's memory. Far above what any real recipe makes.
class ValueBudget {
 public:
  static constexpr size_t kValueMaxBytes = size_t{64} << 10;
  static constexpr size_t kReadingMaxBytes = size_t{8} << 20;
  /// Throws ComposeError when one value of `bytes` is too large, or the reading's values too many.
  void spend(size_t bytes);

 private:
  size_t left_ = kReadingMaxBytes;
};

/// interpolate() within a reading's budget.
std::string interpolate(std::string_view value, const EnvValues& env, ValueBudget& budget);

/// The non-empty parts of a `separator`-separated list, each trimmed of blanks.
std::vector<std::string> split_list(std::string_view text, char separator);

/// The compose files COMPOSE_FILE names, in order, each once; compose.yml
/// when unset. More than 32 is a ComposeError.
std::vector<std::string> compose_file_names(const EnvValues& env);

}  // namespace ccci
