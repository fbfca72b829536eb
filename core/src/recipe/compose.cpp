#include "recipe/compose.hpp"

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

  std::string interpolate(std::string_view value) { return ccci::interpolate(value, env_, budget_); }

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
  ValueBudget budget_;
  size_t steps_left_ = kWalkMaxSteps;
};

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
    for (std::string relative : split_list(only->second, ',')) {
      while (relative.starts_with('/')) relative.erase(0, 1);  // some recipes write them absolute
      out.paths.push_back({.path = mount.target + (mount.target.ends_with('/') ? "" : "/") + relative,
                           .volume = mount.source});
    }
  }
  for (const auto& path : split_list(label(service, "backupbot.backup.path"), ','))
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

// abra's own secrets: `app secret generate` makes <stack>_<name>_<version>
// for each SECRET_<NAME>_VERSION of the env file (the value without its
// `# length=…` comment, as the env reader took it).
void add_abra_secret_names(const EnvValues& env, std::string_view stack,
                           std::map<std::string, DockerName>& names) {
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
}

}  // namespace

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
  add_abra_secret_names(env, stack, names);
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
