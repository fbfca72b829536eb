#include "recipe/env_file.hpp"

#include <algorithm>
#include <cctype>

namespace ccci {
namespace {

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// godotenv expands only upper-case names.
bool is_env_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string lookup(const EnvValues& values, std::string_view name) {
  const auto found = values.find(name);
  return found == values.end() ? std::string() : found->second;
}

// The most compose files COMPOSE_FILE may name (real recipes name a handful).
constexpr size_t kComposeFilesMax = 32;

// godotenv's expansion: `$NAME`, `${NAME}` (either brace may be missing)
// from the values so far; `\$` keeps a '$'; `$(` is left alone.
std::string expand_env(std::string_view value, const EnvValues& values, ValueBudget& budget) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size() && value[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (value[i] != '$' || (i + 1 < value.size() && value[i + 1] == '(')) {
      out += value[i];
      continue;
    }
    size_t at = i + 1;
    const bool braced = at < value.size() && value[at] == '{';
    if (braced) ++at;
    size_t end = at;
    while (end < value.size() && is_env_name_char(value[end])) ++end;
    if (end < value.size() && value[end] == '}') ++end;
    const std::string_view name = value.substr(at, end - at);
    const std::string_view bare = name.ends_with('}') ? name.substr(0, name.size() - 1) : name;
    // No name after the '$': godotenv keeps what it matched as written.
    out += bare.empty() ? std::string(value.substr(i, end - i)) : lookup(values, bare);
    budget.spend(out.size());
    i = end - 1;
  }
  return out;
}

// godotenv's double-quote escapes: \n and \r; any other \X is X, but \$
// stays for expand_env.
std::string unescape_double_quoted(std::string_view value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '\\' || i + 1 == value.size()) {
      out += value[i];
      continue;
    }
    const char next = value[++i];
    if (next == 'n')
      out += '\n';
    else if (next == 'r')
      out += '\r';
    else if (next == '$')
      out += "\\$";
    else
      out += next;
  }
  return out;
}

// The statements of an env file as godotenv reads them: `[export] KEY=VALUE`
// (or `KEY: VALUE`), a quoted value may span lines and another statement may
// follow it on the same line; an unquoted value ends at the line's end, less
// a comment that starts at its last '#' after a space. A key that is not a
// name makes the whole file unreadable, as it does for abra.
void read_dotenv(std::string_view text, EnvValues& values) {
  ValueBudget budget;
  size_t at = 0;
  const auto skip_spaces = [&] {
    while (at < text.size() && (is_space(text[at]) || text[at] == '\n')) ++at;
  };
  for (skip_spaces(); at < text.size(); skip_spaces()) {
    if (text[at] == '#') {
      at = std::min(text.find('\n', at), text.size());
      continue;
    }
    if (text.substr(at).starts_with("export ")) at += 7;
    const size_t key_end = text.find_first_of("=:\n", at);
    if (key_end == std::string_view::npos || text[key_end] == '\n')
      throw ComposeError("the env file has a line without '=': \"" +
                         std::string(trim(text.substr(at, std::min<size_t>(key_end - at, 40)))) + "\"");
    const std::string_view key = trim(text.substr(at, key_end - at));
    if (key.empty() ||
        !std::all_of(key.begin(), key.end(), [](char c) { return is_name_char(c) || c == '.'; }))
      throw ComposeError("the env file has a key that is not a name: \"" + std::string(key.substr(0, 40)) +
                         "\"");
    at = key_end + 1;
    while (at < text.size() && is_space(text[at])) ++at;
    std::string value;
    if (at < text.size() && (text[at] == '\'' || text[at] == '"')) {
      const char quote = text[at];
      size_t close = at + 1;
      while (close < text.size() && (text[close] != quote || text[close - 1] == '\\')) ++close;
      if (close >= text.size())
        throw ComposeError("the env file's value of " + std::string(key) + " has no closing quote");
      const std::string_view inner = text.substr(at + 1, close - at - 1);
      value = quote == '\'' ? std::string(inner) : expand_env(unescape_double_quoted(inner), values, budget);
      at = close + 1;
    } else {
      const size_t line_end = std::min(text.find('\n', at), text.size());
      std::string_view line = text.substr(at, line_end - at);
      for (size_t i = line.size(); i-- > 1;)
        if (line[i] == '#' && is_space(line[i - 1])) {
          line = line.substr(0, i);
          break;
        }
      value = expand_env(trim(line), values, budget);
      at = line_end;
    }
    budget.spend(value.size());
    values[std::string(key)] = std::move(value);
  }
}

// A value of compose's `${NAME:-default}` family, as docker/cli's template
// package (which `docker stack deploy` uses) reads it: `$$`, `$NAME`,
// `${NAME}`, `${NAME:-d}`, `${NAME-d}`, `${NAME:?e}`, `${NAME?e}`; a default
// is taken as written up to the first '}' (no nesting, no `+` forms);
// anything else after a '$' is an invalid template.
std::string interpolate_with(std::string_view value, const EnvValues& env, ValueBudget& budget) {
  const auto invalid = [&] {
    return ComposeError("invalid interpolation format for \"" + std::string(value.substr(0, 80)) +
                        (value.size() > 80 ? "…" : "") + "\"");
  };
  const auto name_start = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '$') {
      out += value[i];
      continue;
    }
    if (i + 1 >= value.size()) throw invalid();
    const char next = value[i + 1];
    if (next == '$') {
      out += '$';
      ++i;
    } else if (name_start(next)) {
      size_t end = i + 1;
      while (end < value.size() && is_name_char(value[end])) ++end;
      out += lookup(env, value.substr(i + 1, end - i - 1));
      i = end - 1;
    } else if (next == '{') {
      const size_t close = value.find('}', i + 2);
      if (close == std::string_view::npos || i + 2 >= value.size() || !name_start(value[i + 2]))
        throw invalid();
      const std::string_view inside = value.substr(i + 2, close - i - 2);
      size_t name_end = 0;
      while (name_end < inside.size() && is_name_char(inside[name_end])) ++name_end;
      const std::string_view name = inside.substr(0, name_end);
      std::string_view operation = inside.substr(name_end);
      const bool colon = operation.starts_with(':');
      if (colon) operation.remove_prefix(1);
      const auto found = env.find(name);
      const bool missing = found == env.end() || (colon && found->second.empty());
      if (operation.empty() && !colon) {
        out += found == env.end() ? std::string() : found->second;
      } else if (operation.starts_with('-')) {
        out += missing ? std::string(operation.substr(1)) : found->second;
      } else if (operation.starts_with('?')) {
        if (missing)
          throw ComposeError("required variable " + std::string(name) +
                             " is missing a value: " + std::string(operation.substr(1, 80)));
        out += found->second;
      } else {
        throw invalid();
      }
      i = close;
    } else {
      throw invalid();
    }
    budget.spend(out.size());
  }
  return out;
}

// ---- YAML ----

}  // namespace

void ValueBudget::spend(size_t bytes) {
  if (bytes > kValueMaxBytes)
    throw ComposeError("a value would grow to " + std::to_string(bytes) + " bytes (at most " +
                       std::to_string(kValueMaxBytes) + ")");
  if (bytes > left_)
    throw ComposeError("the values would grow beyond " + std::to_string(kReadingMaxBytes) + " bytes in all");
  left_ -= bytes;
}

std::string interpolate(std::string_view value, const EnvValues& env, ValueBudget& budget) {
  return interpolate_with(value, env, budget);
}

std::vector<std::string> split_list(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(separator, start), text.size());
    const std::string_view part = trim(text.substr(start, end - start));
    if (!part.empty()) parts.emplace_back(part);
    start = end + 1;
  }
  return parts;
}

void read_env_file(std::string_view text, EnvValues& values) {
  read_dotenv(text, values);
}

void read_abra_sh_exports(std::string_view text, EnvValues& values) {
  // abra takes `export NAME=VALUE` lines of abra.sh as written: no quotes
  // removed, nothing expanded, nothing of the script run.
  ValueBudget budget;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line = trim(text.substr(start, end - start));
    start = end + 1;
    if (!line.starts_with("export ")) continue;
    line = trim(line.substr(7));
    const size_t equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view key = trim(line.substr(0, equals));
    if (key.empty() || !std::all_of(key.begin(), key.end(), is_name_char)) continue;
    std::string_view value = line.substr(equals + 1);
    for (size_t i = value.size(); i-- > 1;)
      if (value[i] == '#' && is_space(value[i - 1])) {
        value = value.substr(0, i);
        break;
      }
    budget.spend(value.size());
    values[std::string(key)] = std::string(trim(value));
  }
}

std::string interpolate(std::string_view value, const EnvValues& env) {
  ValueBudget budget;
  return interpolate_with(value, env, budget);
}

std::vector<std::string> compose_file_names(const EnvValues& env) {
  const auto found = env.find("COMPOSE_FILE");
  if (found == env.end() || trim(found->second).empty()) return {"compose.yml"};
  // A name given twice is one file: merging it again changes nothing.
  std::vector<std::string> names;
  for (auto& name : split_list(found->second, ':'))
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
  if (names.size() > kComposeFilesMax)
    throw ComposeError("COMPOSE_FILE names " + std::to_string(names.size()) + " files (at most " +
                       std::to_string(kComposeFilesMax) + ")");
  return names;
}

}  // namespace ccci
