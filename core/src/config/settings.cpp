#include "config/settings.hpp"

#include <algorithm>
#include <boost/process/search_path.hpp>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ccci/abra_client.hpp"
#include "model/result.hpp"
#include "recipe/names.hpp"

namespace ccci {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::optional<std::string> environment(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

// A setting's value as given, before it is checked, and where it came from.
struct Raw {
  std::vector<std::string> values;
  std::string source;  // "--jobs", "CC_CI_JOBS", "config file F: \"jobs\""
};

class Sources {
 public:
  explicit Sources(const GivenSettings& given) : given_(given) { load_config(); }

  std::optional<Raw> find(const SettingSpec& spec) const {
    if (auto flag = given_.flags.find(spec.key); flag != given_.flags.end() && !flag->second.empty())
      return Raw{flag->second, std::string(spec.flag)};
    if (auto value = environment(spec.env)) {
      std::vector<std::string> values{*value};
      if (spec.kind == SettingKind::list) values = split(*value, spec.separator);
      return Raw{values, std::string(spec.env)};
    }
    if (config_.contains(spec.key)) return from_config(spec, config_.at(spec.key));
    return std::nullopt;
  }

 private:
  void load_config() {
    const auto named = given_.config_file ? given_.config_file : environment("CC_CI_CONFIG");
    if (!named) return;
    file_ = *named;
    std::error_code error;
    if (!fs::is_regular_file(file_, error)) throw UsageError("config file " + file_ + " does not exist");
    std::ifstream in(file_);
    config_ = json::parse(in, nullptr, false);
    if (config_.is_discarded() || !config_.is_object())
      throw UsageError("config file " + file_ + " is not a JSON object");
    for (const auto& item : config_.items()) {
      const std::string& key = item.key();
      const auto& table = settings_table();
      if (std::none_of(table.begin(), table.end(), [&](const SettingSpec& spec) { return spec.key == key; }))
        throw UsageError("config file " + file_ + ": unknown key \"" + key + "\"");
    }
  }

  Raw from_config(const SettingSpec& spec, const json& value) const {
    Raw raw{{}, "config file " + file_ + ": \"" + std::string(spec.key) + "\""};
    auto wrong = [&](const char* expected) {
      return UsageError(raw.source + " must be " + expected + ", not " + value.dump());
    };
    switch (spec.kind) {
      case SettingKind::text:
        if (!value.is_string()) throw wrong("a string");
        raw.values = {value.get<std::string>()};
        break;
      case SettingKind::list:
        if (value.is_string()) {
          raw.values = {value.get<std::string>()};
        } else {
          if (!value.is_array()) throw wrong("a string or a list of strings");
          for (const auto& item : value) {
            if (!item.is_string()) throw wrong("a string or a list of strings");
            raw.values.push_back(item.get<std::string>());
          }
        }
        break;
      case SettingKind::integer:
      case SettingKind::seconds:
        // A JSON integer only: 2.7, true and 1e20 are not whole numbers of anything.
        if (!value.is_number_integer()) throw wrong("a whole number");
        raw.values = {value.dump()};
        break;
      case SettingKind::flag:
        if (!value.is_boolean()) throw wrong("true or false");
        raw.values = {value.dump()};
        break;
    }
    return raw;
  }

  const GivenSettings& given_;
  std::string file_;
  json config_ = json::object();
};

long long parse_whole_number(const SettingSpec& spec, const Raw& raw) {
  const std::string& text = raw.values.back();
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty() || value < spec.min ||
      value > spec.max)
    throw UsageError(raw.source + ": expected a whole number from " + std::to_string(spec.min) + " to " +
                     std::to_string(spec.max) + (spec.kind == SettingKind::seconds ? " (seconds)" : "") +
                     ", not \"" + text + "\"");
  return value;
}

bool parse_flag(const Raw& raw) {
  const std::string& text = raw.values.back();
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  throw UsageError(raw.source + ": expected true or false, not \"" + text + "\"");
}

// Reads every setting through the table, so each is checked the same way wherever it came from.
class Resolver {
 public:
  explicit Resolver(const GivenSettings& given) : sources_(given) {}

  std::optional<Raw> raw(std::string_view key) const { return sources_.find(setting(key)); }

  std::string text(std::string_view key, const std::string& fallback) const {
    auto found = raw(key);
    return found ? found->values.back() : fallback;
  }
  std::vector<std::string> list(std::string_view key) const {
    auto found = raw(key);
    return found ? found->values : std::vector<std::string>{};
  }
  long long whole(std::string_view key, long long fallback) const {
    auto found = raw(key);
    return found ? parse_whole_number(setting(key), *found) : fallback;
  }
  std::optional<std::chrono::seconds> seconds(std::string_view key) const {
    auto found = raw(key);
    if (!found) return std::nullopt;
    return std::chrono::seconds(parse_whole_number(setting(key), *found));
  }
  bool flag(std::string_view key) const {
    auto found = raw(key);
    return found && parse_flag(*found);
  }

 private:
  Sources sources_;
};

void validate_ca_file(const std::string& path) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) throw UsageError("--ca-file " + path + ": no such file");
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw UsageError("--ca-file " + path + ": cannot be read");
  if (text.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    throw UsageError("--ca-file " + path + ": holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
}

}  // namespace

namespace {

// --server, each once: SERVER or SERVER:CAPACITY; "default" when none.
std::vector<ServerSlot> resolve_servers(const Resolver& settings_from) {
  std::vector<std::string> servers = settings_from.list("server");
  if (servers.empty()) servers = {"default"};  // what `abra server add --local` names it
  std::vector<ServerSlot> slots;
  for (const auto& server : servers) {
    slots.push_back(parse_server(server));
    for (size_t i = 0; i + 1 < slots.size(); ++i)
      if (slots[i].name == slots.back().name)
        throw UsageError("--server " + slots.back().name + " is given twice");
  }
  return slots;
}

// --lanes, in their own order, each once; `fallback` when none is named.
std::vector<Lane> resolve_lanes(const Resolver& settings_from, std::vector<Lane> fallback) {
  std::vector<std::string> lanes;
  for (const auto& value : settings_from.list("lanes")) {
    std::istringstream names(value);
    for (std::string name; std::getline(names, name, ',');)
      if (!name.empty()) lanes.push_back(name);
  }
  if (lanes.empty()) return fallback;
  std::vector<Lane> asked;
  for (const auto& name : lanes) {
    try {
      asked.push_back(lane_from_string(name));
    } catch (const std::invalid_argument&) {
      throw UsageError("--lanes: unknown lane \"" + name + "\" (the lanes are fresh, upgrade and lint)");
    }
  }
  std::vector<Lane> ordered;
  for (const Lane lane : {Lane::fresh, Lane::upgrade, Lane::lint})
    if (std::find(asked.begin(), asked.end(), lane) != asked.end()) ordered.push_back(lane);
  return ordered;
}

// RECIPE=REF and RECIPE=PATH: one target per recipe, whichever way it is given.
std::map<std::string, TargetRequest, std::less<>> resolve_targets(const Resolver& settings_from) {
  std::map<std::string, TargetRequest, std::less<>> targets;
  auto add_targets = [&](std::string_view key, const std::string& value_name,
                         const std::function<void(TargetRequest&, std::string)>& set) {
    for (const auto& item : settings_from.list(key)) {
      const std::string flag(setting(key).flag);
      const auto equals = item.find('=');
      if (equals == std::string::npos || equals == 0 || equals + 1 == item.size())
        throw UsageError(flag + " " + item + ": expected RECIPE=" + value_name);
      const std::string recipe = item.substr(0, equals);
      TargetRequest& request = targets[recipe];
      if (request.ref || request.recipe_dir)
        throw UsageError(flag + " " + item + ": recipe " + recipe +
                         " already has a target (one --ref or --recipe-dir per recipe)");
      set(request, item.substr(equals + 1));
    }
  };
  add_targets("ref", "REF", [](TargetRequest& request, std::string ref) { request.ref = std::move(ref); });
  add_targets("recipe_dir", "PATH",
              [](TargetRequest& request, std::string path) { request.recipe_dir = std::move(path); });
  return targets;
}

// Gitea, the CI engine and the bridge.
ForgeSettings resolve_forge(const Resolver& settings_from) {
  ForgeSettings forge;
  auto url = [&](std::string_view key) {
    std::string value = settings_from.text(key, "");
    while (value.ends_with('/')) value.pop_back();
    if (!value.empty())
      if (auto problem = web_url_problem(value))
        throw UsageError(std::string(setting(key).flag) + ": " + *problem);
    return value;
  };
  forge.gitea_url = url("gitea_url");
  forge.ci_url = url("ci_url");
  forge.gitea_token_file = settings_from.text("gitea_token_file", "");
  forge.webhook_secret_file = settings_from.text("webhook_secret_file", "");
  forge.ci_token_file = settings_from.text("ci_token_file", "");
  forge.ci_engine = settings_from.text("ci_engine", "");
  if (!forge.ci_engine.empty() && forge.ci_engine != "woodpecker" && forge.ci_engine != "drone")
    throw UsageError("--ci-engine \"" + forge.ci_engine + "\": the engines are woodpecker and drone");
  forge.listen = settings_from.text("listen", forge.listen);
  forge.bridge_state = settings_from.text("bridge_state", "");
  if (forge.bridge_state.empty())
    if (auto state = environment("STATE_DIRECTORY"))  // systemd lists several with ':'
      forge.bridge_state = fs::path(state->substr(0, state->find(':'))) / "bridge-state.json";
  return forge;
}

// The browser when none is given: Debian's chromium-headless-shell (the old
// headless mode: a fifth of the full browser's CPU for a page, and pages shot
// in half the time; bench/README.md), else the full chromium.
std::string default_browser() {
  constexpr const char* kHeadlessShell = "chromium-headless-shell";
  return boost::process::search_path(kHeadlessShell).empty() ? "chromium" : kHeadlessShell;
}

}  // namespace

Settings resolve_settings(const GivenSettings& given, const std::vector<fs::path>& default_plugin_paths) {
  const Resolver settings_from(given);
  Settings settings;

  for (const auto& path : settings_from.list("plugins")) settings.plugin_paths.emplace_back(path);
  if (settings.plugin_paths.empty()) settings.plugin_paths = default_plugin_paths;

  settings.abra = settings_from.text("abra", "abra");
  settings.docker = settings_from.text("docker", "docker");
  settings.browser = settings_from.text("browser", default_browser());
  settings.servers = resolve_servers(settings_from);

  settings.domain_suffix = settings_from.text("domain_suffix", "");
  while (settings.domain_suffix.starts_with('.')) settings.domain_suffix.erase(0, 1);
  if (!settings.domain_suffix.empty())
    if (auto problem = domain_suffix_problem(settings.domain_suffix))
      throw UsageError("--domain-suffix \"" + settings.domain_suffix + "\": " + *problem);

  settings.jobs = static_cast<int>(settings_from.whole("jobs", 1));
  settings.report_dir = settings_from.text("report_dir", "cc-ci-report");
  if (settings.report_dir.empty()) throw UsageError("--report-dir: give a folder");

  settings.ca_file = settings_from.text("ca_file", "");
  if (!settings.ca_file.empty()) validate_ca_file(settings.ca_file);
  settings.connect_to = settings_from.list("connect_to");
  for (const auto& spec : settings.connect_to) validate_connect_to(spec);

  try {
    settings.keep = parse_keep_policy(settings_from.text("keep", "never"));
  } catch (const std::invalid_argument& error) {
    throw UsageError(error.what());
  }
  settings.timeouts.deploy = settings_from.seconds("timeout_deploy");
  settings.timeouts.probe = settings_from.seconds("timeout_probe");
  settings.timeouts.teardown = settings_from.seconds("timeout_teardown");
  settings.run_timeout = settings_from.seconds("timeout");
  settings.history = settings_from.text("history", "");
  settings.dashboard_url = settings_from.text("dashboard_url", "");
  if (const auto problem = dashboard_url_problem(settings.dashboard_url))
    throw UsageError("--dashboard-url: " + *problem);
  settings.fail_fast = settings_from.flag("fail_fast");
  settings.retries = static_cast<int>(settings_from.whole("retries", 0));
  settings.lanes = resolve_lanes(settings_from, settings.lanes);
  settings.targets = resolve_targets(settings_from);
  settings.recipes_from = settings_from.text("recipes_from", (default_abra_dir() / "recipes").string());
  settings.deploy.lets_encrypt_env = settings_from.text("lets_encrypt_env", "");
  settings.deploy.domain_checks = settings_from.flag("domain_checks");
  settings.deploy.converge_checks = settings_from.flag("converge_checks");
  settings.forge = resolve_forge(settings_from);
  return settings;
}

}  // namespace ccci
