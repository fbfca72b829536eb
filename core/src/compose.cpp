#include "compose.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

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

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

std::string lookup(const EnvValues& values, std::string_view name) {
  const auto found = values.find(name);
  return found == values.end() ? std::string() : found->second;
}

// godotenv's expansion: `$NAME` and `${NAME}` from the values so far; `\$`
// keeps a '$'. No defaults: those belong to compose, not to the env file.
std::string expand_env(std::string_view value, const EnvValues& values) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size() && value[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (value[i] != '$') {
      out += value[i];
      continue;
    }
    const bool braced = i + 1 < value.size() && value[i + 1] == '{';
    size_t start = i + (braced ? 2 : 1);
    size_t end = start;
    while (end < value.size() && is_name_char(value[end])) ++end;
    if (end == start || (braced && (end >= value.size() || value[end] != '}'))) {
      out += value[i];
      continue;
    }
    out += lookup(values, value.substr(start, end - start));
    i = braced ? end : end - 1;
  }
  return out;
}

std::string unescape_double_quoted(std::string_view value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '\\' || i + 1 == value.size()) {
      out += value[i];
      continue;
    }
    const char next = value[++i];
    switch (next) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case '$':
        out += "\\$";
        break;  // kept for expand_env, which makes it a '$'
      default:
        out += next;
    }
  }
  return out;
}

// The value part of one env line, as godotenv reads it.
std::string env_line_value(std::string_view raw, const EnvValues& values) {
  raw = trim(raw);
  if (!raw.empty() && (raw.front() == '\'' || raw.front() == '"')) {
    const char quote = raw.front();
    size_t end = 1;
    while (end < raw.size() && (raw[end] != quote || (quote == '"' && raw[end - 1] == '\\'))) ++end;
    const std::string_view inner = raw.substr(1, end - 1);
    if (quote == '\'') return std::string(inner);
    return expand_env(unescape_double_quoted(inner), values);
  }
  if (const auto comment = raw.find(" #"); comment != std::string_view::npos)
    raw = trim(raw.substr(0, comment));
  return expand_env(raw, values);
}

void read_assignments(std::string_view text, EnvValues& values, bool exports_only) {
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line = trim(text.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line.front() == '#') continue;
    const bool exported = line.starts_with("export ");
    if (exports_only && !exported) continue;
    if (exported) line = trim(line.substr(7));
    const size_t equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view key = trim(line.substr(0, equals));
    if (key.empty() || !std::all_of(key.begin(), key.end(), is_name_char)) continue;
    values[std::string(key)] = env_line_value(line.substr(equals + 1), values);
  }
}

// A value compose's interpolation ends at: the closing brace that matches
// the one opened at `open` (defaults may hold `${…}` themselves).
size_t closing_brace(std::string_view value, size_t open) {
  int depth = 0;
  for (size_t i = open; i < value.size(); ++i) {
    if (value[i] == '{') ++depth;
    if (value[i] == '}' && --depth == 0) return i;
  }
  return std::string_view::npos;
}

std::string interpolate_at_depth(std::string_view value, const EnvValues& env, int depth) {
  if (depth > 8)
    throw ComposeError("interpolation nested more than 8 deep in \"" + std::string(value) + "\"");
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '$') {
      out += value[i];
      continue;
    }
    if (i + 1 < value.size() && value[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (i + 1 < value.size() && value[i + 1] == '{') {
      const size_t close = closing_brace(value, i + 1);
      if (close == std::string_view::npos)
        throw ComposeError("unclosed \"${\" in \"" + std::string(value) + "\"");
      const std::string_view inside = value.substr(i + 2, close - i - 2);
      size_t name_end = 0;
      while (name_end < inside.size() && is_name_char(inside[name_end])) ++name_end;
      const std::string_view name = inside.substr(0, name_end);
      std::string_view operation = inside.substr(name_end);
      if (name.empty()) throw ComposeError("\"${" + std::string(inside) + "}\" names no variable");
      const auto found = env.find(name);
      const bool set = found != env.end();
      const bool empty = !set || found->second.empty();
      const std::string current = set ? found->second : std::string();
      const bool colon = operation.starts_with(":");
      if (colon) operation.remove_prefix(1);
      const bool missing = colon ? empty : !set;
      if (operation.empty() && !colon) {
        out += current;
      } else if (operation.starts_with("-")) {
        out += missing ? interpolate_at_depth(operation.substr(1), env, depth + 1) : current;
      } else if (operation.starts_with("+")) {
        out += missing ? std::string() : interpolate_at_depth(operation.substr(1), env, depth + 1);
      } else if (operation.starts_with("?")) {
        if (missing)
          throw ComposeError("required variable " + std::string(name) +
                             " is missing a value: " + std::string(operation.substr(1)));
        out += current;
      } else {
        throw ComposeError("invalid interpolation \"${" + std::string(inside) + "}\"");
      }
      i = close;
      continue;
    }
    size_t end = i + 1;
    while (end < value.size() && is_name_char(value[end])) ++end;
    if (end == i + 1) {
      out += '$';
      continue;
    }
    out += lookup(env, value.substr(i + 1, end - i - 1));
    i = end - 1;
  }
  return out;
}

// ---- YAML ----

std::string scalar(const YAML::Node& node) {
  return node && node.IsScalar() ? node.Scalar() : std::string();
}

// A mapping with its `<<` merge keys applied (compose allows them, with an
// alias or a list of aliases; explicit keys win). One level, as compose reads it.
std::vector<std::pair<std::string, YAML::Node>> entries(const YAML::Node& map) {
  std::vector<std::pair<std::string, YAML::Node>> own;
  std::vector<YAML::Node> merged;
  if (!map || !map.IsMap()) return own;
  for (const auto& entry : map) {
    const std::string key = scalar(entry.first);
    if (key == "<<") {
      if (entry.second.IsMap()) merged.push_back(entry.second);
      if (entry.second.IsSequence())
        for (const auto& item : entry.second)
          if (item.IsMap()) merged.push_back(item);
      continue;
    }
    own.emplace_back(key, entry.second);
  }
  for (const auto& base : merged)
    for (const auto& entry : base) {
      const std::string key = scalar(entry.first);
      if (key == "<<") continue;
      if (std::none_of(own.begin(), own.end(), [&](const auto& pair) { return pair.first == key; }))
        own.emplace_back(key, entry.second);
    }
  return own;
}

YAML::Node child(const YAML::Node& map, std::string_view key) {
  for (auto& [name, value] : entries(map))
    if (name == key) return value;
  return YAML::Node(YAML::NodeType::Undefined);
}

// A service's deploy labels, list ("k=v") or mapping form, interpolated.
void read_labels(const YAML::Node& labels, const EnvValues& env, std::map<std::string, std::string>& into) {
  if (labels.IsSequence()) {
    for (const auto& item : labels) {
      const std::string text = interpolate(scalar(item), env);
      const size_t equals = text.find('=');
      into[text.substr(0, equals)] = equals == std::string::npos ? std::string() : text.substr(equals + 1);
    }
  } else {
    for (const auto& [key, value] : entries(labels)) into[key] = interpolate(scalar(value), env);
  }
}

struct Mount {
  std::string source;  ///< a named volume (the compose key), or empty for a bind or tmpfs
  std::string target;
};

// One entry of a service's `volumes:`, short ("data:/srv:ro") or long form.
std::optional<Mount> read_mount(const YAML::Node& item, const EnvValues& env) {
  Mount mount;
  if (item.IsScalar()) {
    const std::string text = interpolate(item.Scalar(), env);
    const size_t colon = text.find(':');
    if (colon == std::string::npos) return Mount{.source = "", .target = text};  // an anonymous volume
    mount.source = text.substr(0, colon);
    const size_t second = text.find(':', colon + 1);
    mount.target =
        text.substr(colon + 1, second == std::string::npos ? std::string::npos : second - colon - 1);
  } else if (item.IsMap()) {
    const std::string type = interpolate(scalar(child(item, "type")), env);
    if (!type.empty() && type != "volume")
      return Mount{.source = "", .target = scalar(child(item, "target"))};
    mount.source = interpolate(scalar(child(item, "source")), env);
    mount.target = interpolate(scalar(child(item, "target")), env);
  } else {
    return std::nullopt;
  }
  // Paths are binds, not named volumes: backupbot backs up volumes only.
  if (mount.source.starts_with('/') || mount.source.starts_with('.') || mount.source.starts_with('~'))
    mount.source.clear();
  return mount;
}

struct Service {
  std::map<std::string, std::string> labels;
  std::vector<Mount> mounts;
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

// The names of a top-level section (secrets, configs, volumes, networks) as
// Docker will spell them: its `name:` when given, else `<stack>_<key>`.
void add_names(const YAML::Node& section, const char* kind, const EnvValues& env, std::string_view stack,
               std::map<std::string, DockerName>& names) {
  for (const auto& [key, value] : entries(section)) {
    std::string name = interpolate(scalar(child(value, "name")), env);
    // An external object is looked up by its key; the stack makes the others under its own name.
    if (name.empty())
      name = scalar(child(value, "external")) == "true" ? key : std::string(stack) + "_" + key;
    names[std::string(kind) + "/" + key] = DockerName{.kind = kind, .name = name};
  }
}

}  // namespace

void read_env_file(std::string_view text, EnvValues& values) {
  read_assignments(text, values, false);
}

void read_abra_sh_exports(std::string_view text, EnvValues& values) {
  read_assignments(text, values, true);
}

std::string interpolate(std::string_view value, const EnvValues& env) {
  return interpolate_at_depth(value, env, 0);
}

std::vector<std::string> compose_file_names(const EnvValues& env) {
  const auto found = env.find("COMPOSE_FILE");
  if (found == env.end() || trim(found->second).empty()) return {"compose.yml"};
  return split(found->second, ':');
}

ComposeReading read_compose(const std::function<std::optional<std::string>(const std::string&)>& read_file,
                            const EnvValues& env, std::string_view stack) {
  ComposeReading reading;
  reading.layout.files = compose_file_names(env);
  // Services in the order they first appear; later files merge into them.
  std::vector<std::string> order;
  std::map<std::string, Service> services;
  std::map<std::string, DockerName> names;
  for (const auto& file : reading.layout.files) {
    const std::optional<std::string> text = read_file(file);
    if (!text) throw ComposeError("COMPOSE_FILE names " + file + ", which the recipe does not have");
    const YAML::Node root = load(file, *text);
    if (!root.IsMap()) throw ComposeError(file + " is not a compose file (its top level is not a mapping)");
    try {
      for (const auto& [name, definition] : entries(child(root, "services"))) {
        if (!services.contains(name)) order.push_back(name);
        Service& service = services[name];
        read_labels(child(child(definition, "deploy"), "labels"), env, service.labels);
        const YAML::Node volumes = child(definition, "volumes");
        if (!volumes.IsSequence()) continue;
        for (const auto& item : volumes) {
          auto mount = read_mount(item, env);
          if (!mount) continue;
          // A later file's mount of the same target replaces the earlier one.
          std::erase_if(service.mounts, [&](const Mount& known) { return known.target == mount->target; });
          service.mounts.push_back(std::move(*mount));
        }
      }
      add_names(child(root, "secrets"), "secret", env, stack, names);
      add_names(child(root, "configs"), "config", env, stack, names);
      add_names(child(root, "volumes"), "volume", env, stack, names);
      add_names(child(root, "networks"), "network", env, stack, names);
    } catch (const YAML::Exception& error) {
      throw ComposeError(file + " line " + std::to_string(error.mark.line + 1) + ": " + error.msg);
    } catch (const ComposeError& error) {
      throw ComposeError(file + ": " + error.what());
    }
  }
  reading.layout.services = order;
  for (const auto& name : order)
    if (auto backup = backed_up(name, services.at(name)))
      reading.layout.backups.push_back(std::move(*backup));
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
