#include "compose.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "ccci/text.hpp"

// yaml-cpp, Debian's libyaml-cpp-dev, rather than a hand-made reader: real
// recipes use what YAML allows (mapping and list labels, quoting styles,
// anchors and `<<` merges, flow style), and a reader that knows only the
// common shapes misses the rest silently. libyaml (C) would do too, at the
// cost of writing the tree ourselves; yaml-cpp's 0.7 bounds nesting
// (DeepRecursion) and keeps an alias a reference, not a copy.

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

// What one reading may produce: `A=$A$A` forty times, or one long value
// pasted into thousands of labels, must end in an error, not in the host's
// memory. Far above what any real recipe makes.
constexpr size_t kValueMaxBytes = size_t{64} << 10;
constexpr size_t kReadingMaxBytes = size_t{8} << 20;
// The most compose files COMPOSE_FILE may name (real recipes name a handful).
constexpr size_t kComposeFilesMax = 32;

class Budget {
 public:
  void spend(size_t bytes) {
    if (bytes > kValueMaxBytes)
      throw ComposeError("a value would grow to " + std::to_string(bytes) + " bytes (at most " +
                         std::to_string(kValueMaxBytes) + ")");
    if (bytes > left_)
      throw ComposeError("the values would grow beyond " + std::to_string(kReadingMaxBytes) +
                         " bytes in all");
    left_ -= bytes;
  }

 private:
  size_t left_ = kReadingMaxBytes;
};

// godotenv's expansion: `$NAME`, `${NAME}` (either brace may be missing)
// from the values so far; `\$` keeps a '$'; `$(` is left alone.
std::string expand_env(std::string_view value, const EnvValues& values, Budget& budget) {
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
  Budget budget;
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
std::string interpolate_with(std::string_view value, const EnvValues& env, Budget& budget) {
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

std::string scalar(const YAML::Node& node) {
  return node && node.IsScalar() ? node.Scalar() : std::string();
}

struct Mount {
  std::string source;  ///< a named volume (the compose key), or empty for a bind or tmpfs
  std::string target;
};

struct Service {
  std::map<std::string, std::string> labels;
  std::vector<Mount> mounts;
};

// How much YAML one reading walks: a mapping's entries, labels and mounts
// each count one. Aliases are references in yaml-cpp, but walking a service
// that aliases a map of 20,000 labels 50,000 times is still 10^9 steps.
constexpr size_t kWalkMaxSteps = 500'000;
// The most `<<` bases one mapping merges, and entries one mapping has.
constexpr size_t kMergeMaxBases = 64;
constexpr size_t kMappingMaxEntries = 10'000;

// One reading of a recipe's compose files: the environment they are
// interpolated with, and what the reading may still spend.
class ComposeWalk {
 public:
  ComposeWalk(const EnvValues& env, std::string_view stack) : env_(env), stack_(stack) {}

  std::string interpolate(std::string_view value) { return interpolate_with(value, env_, budget_); }

  void step(size_t count = 1) {
    if (count > steps_left_)
      throw ComposeError("the compose files take more than " + std::to_string(kWalkMaxSteps) +
                         " steps to read (aliases used over and over?)");
    steps_left_ -= count;
  }

  // A mapping with its `<<` merge keys applied (compose allows an alias or a
  // list of them; explicit keys win, then earlier bases). One level, as
  // compose reads it.
  std::vector<std::pair<std::string, YAML::Node>> entries(const YAML::Node& map) {
    std::vector<std::pair<std::string, YAML::Node>> own;
    if (!map || !map.IsMap()) return own;
    std::vector<YAML::Node> bases;
    std::set<std::string> seen;
    const auto add = [&](const std::string& key, const YAML::Node& value) {
      step();
      if (!seen.insert(key).second) return;
      if (own.size() == kMappingMaxEntries)
        throw ComposeError("a mapping has more than " + std::to_string(kMappingMaxEntries) + " entries");
      own.emplace_back(key, value);
    };
    const auto add_base = [&](const YAML::Node& base) {
      if (!base.IsMap()) return;
      for (const auto& known : bases)
        if (known.is(base)) return;  // the same alias twice merges once
      if (bases.size() == kMergeMaxBases)
        throw ComposeError("a `<<` merges more than " + std::to_string(kMergeMaxBases) + " mappings");
      bases.push_back(base);
    };
    for (const auto& entry : map) {
      const std::string key = scalar(entry.first);
      if (key != "<<") {
        add(key, entry.second);
      } else if (entry.second.IsSequence()) {
        for (const auto& item : entry.second) add_base(item);
      } else {
        add_base(entry.second);
      }
    }
    for (const auto& base : bases)
      for (const auto& entry : base)
        if (const std::string key = scalar(entry.first); key != "<<") add(key, entry.second);
    return own;
  }

  YAML::Node child(const YAML::Node& map, std::string_view key) {
    if (!map || !map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    for (const auto& entry : map) {  // an explicit key first, without building the whole list
      step();
      if (scalar(entry.first) == key) return entry.second;
    }
    for (auto& [name, value] : entries(map))
      if (name == key) return value;
    return YAML::Node(YAML::NodeType::Undefined);
  }

  // A service's deploy labels, list ("k=v") or mapping form, interpolated.
  void read_labels(const YAML::Node& labels, std::map<std::string, std::string>& into) {
    if (labels.IsSequence()) {
      for (const auto& item : labels) {
        step();
        const std::string text = interpolate(scalar(item));
        const size_t equals = text.find('=');
        into[text.substr(0, equals)] = equals == std::string::npos ? std::string() : text.substr(equals + 1);
      }
    } else {
      for (const auto& [key, value] : entries(labels)) into[key] = interpolate(scalar(value));
    }
  }

  // One entry of a service's `volumes:`, short ("data:/srv:ro") or long form.
  std::optional<Mount> read_mount(const YAML::Node& item) {
    step();
    Mount mount;
    if (item.IsScalar()) {
      const std::string text = interpolate(item.Scalar());
      const size_t colon = text.find(':');
      if (colon == std::string::npos) return Mount{.source = "", .target = text};  // an anonymous volume
      mount.source = text.substr(0, colon);
      const size_t second = text.find(':', colon + 1);
      mount.target =
          text.substr(colon + 1, second == std::string::npos ? std::string::npos : second - colon - 1);
    } else if (item.IsMap()) {
      const std::string type = interpolate(scalar(child(item, "type")));
      mount.source = interpolate(scalar(child(item, "source")));
      mount.target = interpolate(scalar(child(item, "target")));
      if (!type.empty() && type != "volume") mount.source.clear();
    } else {
      return std::nullopt;
    }
    // Paths are binds, not named volumes: backupbot backs up volumes only.
    if (mount.source.starts_with('/') || mount.source.starts_with('.') || mount.source.starts_with('~'))
      mount.source.clear();
    return mount;
  }

  // The names of a top-level section (secrets, configs, volumes, networks)
  // as Docker will spell them: its `name:` when given, else `<stack>_<key>`;
  // an external one without a name is looked up by its key.
  void add_names(const YAML::Node& section, const char* kind, std::map<std::string, DockerName>& names) {
    for (const auto& [key, value] : entries(section)) {
      std::string name = interpolate(scalar(child(value, "name")));
      const YAML::Node external = child(value, "external");
      if (name.empty() && external.IsMap())
        name = interpolate(scalar(child(external, "name")));  // the older form
      if (name.empty()) name = scalar(external) == "true" ? key : std::string(stack_) + "_" + key;
      names[std::string(kind) + "/" + key] = DockerName{.kind = kind, .name = name};
    }
  }

 private:
  const EnvValues& env_;
  std::string_view stack_;
  Budget budget_;
  size_t steps_left_ = kWalkMaxSteps;
};

std::vector<std::string> split(std::string_view text, char separator) {
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

std::string label(const Service& service, const std::string& key) {
  const auto found = service.labels.find(key);
  return found == service.labels.end() ? std::string() : found->second;
}

// What backup-bot-two makes of one service's labels (docs/abra-fidelity.md,
// "backup-bot-two's label contract"): `backupbot.backup` true turns it on;
// every named volume is backed up, unless `backupbot.backup.volumes.<volume>`
// is false, and only the paths `backupbot.backup.volumes.<volume>.path` lists
// (relative to the volume) when set. The older `backupbot.backup.path` adds
// container paths: real recipes still write it, what backup-bot-two does with
// it is unverified, so the generic plugin prefers a whole volume.
std::optional<BackedUpService> backed_up(const std::string& name, const Service& service) {
  if (label(service, "backupbot.backup") != "true") return std::nullopt;
  BackedUpService out{.service = name,
                      .backup_pre_hook = label(service, "backupbot.backup.pre-hook"),
                      .backup_post_hook = label(service, "backupbot.backup.post-hook"),
                      .restore_pre_hook = label(service, "backupbot.restore.pre-hook"),
                      .restore_post_hook = label(service, "backupbot.restore.post-hook"),
                      .backup_command = label(service, "backupbot.backup.command")};
  for (const auto& mount : service.mounts) {
    if (mount.source.empty()) continue;
    const std::string prefix = "backupbot.backup.volumes." + mount.source;
    if (label(service, prefix) == "false") continue;
    const auto only = service.labels.find(prefix + ".path");
    if (only == service.labels.end()) {
      out.paths.push_back({.path = mount.target, .volume = mount.source, .whole_volume = true});
      continue;
    }
    for (std::string relative : split(only->second, ',')) {
      while (relative.starts_with('/')) relative.erase(0, 1);  // some recipes write them absolute
      out.paths.push_back({.path = mount.target + (mount.target.ends_with('/') ? "" : "/") + relative,
                           .volume = mount.source});
    }
  }
  for (const auto& path : split(label(service, "backupbot.backup.path"), ','))
    out.paths.push_back({.path = path});
  return out;
}

YAML::Node load(const std::string& name, const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& error) {
    throw ComposeError(name + " line " + std::to_string(error.mark.line + 1) + ", column " +
                       std::to_string(error.mark.column + 1) + ": " + error.msg);
  }
}

}  // namespace

void read_env_file(std::string_view text, EnvValues& values) {
  read_dotenv(text, values);
}

void read_abra_sh_exports(std::string_view text, EnvValues& values) {
  // abra takes `export NAME=VALUE` lines of abra.sh as written: no quotes
  // removed, nothing expanded, nothing of the script run.
  Budget budget;
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
  Budget budget;
  return interpolate_with(value, env, budget);
}

std::vector<std::string> compose_file_names(const EnvValues& env) {
  const auto found = env.find("COMPOSE_FILE");
  if (found == env.end() || trim(found->second).empty()) return {"compose.yml"};
  // A name given twice is one file: merging it again changes nothing.
  std::vector<std::string> names;
  for (auto& name : split(found->second, ':'))
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
  if (names.size() > kComposeFilesMax)
    throw ComposeError("COMPOSE_FILE names " + std::to_string(names.size()) + " files (at most " +
                       std::to_string(kComposeFilesMax) + ")");
  return names;
}

ComposeReading read_compose(const std::function<std::optional<std::string>(const std::string&)>& read_file,
                            const EnvValues& env, std::string_view stack) {
  ComposeReading reading;
  reading.layout.files = compose_file_names(env);
  ComposeWalk walk(env, stack);
  // Services in the order they first appear; later files merge into them.
  std::vector<std::string> order;
  std::map<std::string, Service> services;
  std::map<std::string, DockerName> names;
  for (const auto& file : reading.layout.files) {
    const std::optional<std::string> text = read_file(file);
    if (!text) throw ComposeError("COMPOSE_FILE names " + file + ", which the recipe does not have");
    // Reports and job files are JSON: a name or label that is not UTF-8 is the recipe's error here.
    if (valid_utf8(*text) != *text) throw ComposeError(file + " is not UTF-8 text");
    const YAML::Node root = load(file, *text);
    if (!root.IsMap()) throw ComposeError(file + " is not a compose file (its top level is not a mapping)");
    try {
      for (const auto& [name, definition] : walk.entries(walk.child(root, "services"))) {
        if (!services.contains(name)) order.push_back(name);
        Service& service = services[name];
        walk.read_labels(walk.child(walk.child(definition, "deploy"), "labels"), service.labels);
        const YAML::Node volumes = walk.child(definition, "volumes");
        if (!volumes.IsSequence()) continue;
        for (const auto& item : volumes) {
          auto mount = walk.read_mount(item);
          if (!mount) continue;
          // A later file's mount of the same target replaces the earlier one.
          walk.step(service.mounts.size());
          std::erase_if(service.mounts, [&](const Mount& known) { return known.target == mount->target; });
          service.mounts.push_back(std::move(*mount));
        }
      }
      walk.add_names(walk.child(root, "secrets"), "secret", names);
      walk.add_names(walk.child(root, "configs"), "config", names);
      walk.add_names(walk.child(root, "volumes"), "volume", names);
      walk.add_names(walk.child(root, "networks"), "network", names);
    } catch (const YAML::Exception& error) {
      throw ComposeError(file + " line " + std::to_string(error.mark.line + 1) + ": " + error.msg);
    } catch (const ComposeError& error) {
      throw ComposeError(file + ": " + error.what());
    }
  }
  reading.layout.services = order;
  for (const auto& name : order) {
    names["service/" + name] = DockerName{.kind = "service", .name = std::string(stack) + "_" + name};
    if (auto backup = backed_up(name, services.at(name)))
      reading.layout.backups.push_back(std::move(*backup));
  }
  // abra's own secrets: `app secret generate` makes <stack>_<name>_<version>
  // for each SECRET_<NAME>_VERSION of the env file (the value without its
  // `# length=…` comment, as the env reader took it).
  constexpr std::string_view kSecretPrefix = "SECRET_";
  constexpr std::string_view kSecretSuffix = "_VERSION";
  for (const auto& [key, version] : env) {
    if (!key.starts_with(kSecretPrefix) || !key.ends_with(kSecretSuffix) ||
        key.size() <= kSecretPrefix.size() + kSecretSuffix.size())
      continue;
    std::string secret =
        key.substr(kSecretPrefix.size(), key.size() - kSecretPrefix.size() - kSecretSuffix.size());
    std::transform(secret.begin(), secret.end(), secret.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    names["abra-secret/" + secret] =
        DockerName{.kind = "secret", .name = std::string(stack) + "_" + secret + "_" + version};
  }
  for (auto& [key, name] : names) reading.docker_names.push_back(std::move(name));
  return reading;
}

std::vector<std::string> describe_backups(const ComposeLayout& layout) {
  std::vector<std::string> lines;
  for (const auto& service : layout.backups) {
    std::string line = service.service + ":";
    for (const auto& path : service.paths)
      line +=
          " " + path.path +
          (path.volume.empty() ? "" : (path.whole_volume ? " (volume " : " (in volume ") + path.volume + ")");
    if (service.paths.empty()) line += " nothing (no named volume, no path)";
    for (const auto& [hook, command] : {std::pair{"backup pre-hook", &service.backup_pre_hook},
                                        std::pair{"backup post-hook", &service.backup_post_hook},
                                        std::pair{"restore pre-hook", &service.restore_pre_hook},
                                        std::pair{"restore post-hook", &service.restore_post_hook},
                                        std::pair{"backup command", &service.backup_command}})
      if (!command->empty()) line += "; " + std::string(hook) + " `" + *command + "`";
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace ccci
