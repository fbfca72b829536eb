#include "settings.hpp"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace ccci {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::optional<std::string> environment(const char* name) {
  const char* value = std::getenv(name);
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

// The keys cc-ci.json may hold; anything else is a typo worth reporting.
constexpr const char* kConfigKeys[] = {"plugins", "abra",           "server",        "domain_suffix",
                                       "jobs",    "report_dir",     "ca_file",       "connect_to",
                                       "keep",    "timeout_deploy", "timeout_probe", "timeout_teardown"};

json load_config(const GivenSettings& given) {
  fs::path file;
  const auto named = given.config_file ? given.config_file : environment("CC_CI_CONFIG");
  if (named) {
    file = *named;
    if (!fs::exists(file)) throw UsageError("config file " + file.string() + " does not exist");
  } else if (fs::exists("cc-ci.json")) {
    file = "cc-ci.json";
  } else {
    return json::object();
  }
  std::ifstream in(file);
  json config = json::parse(in, nullptr, false);
  if (config.is_discarded() || !config.is_object())
    throw UsageError("config file " + file.string() + " is not a JSON object");
  for (const auto& [key, value] : config.items()) {
    bool known = false;
    for (const char* allowed : kConfigKeys) known = known || key == allowed;
    if (!known) throw UsageError("config file " + file.string() + ": unknown key \"" + key + "\"");
  }
  return config;
}

template <typename T>
T config_value(const json& config, const char* key, const T& fallback) {
  if (!config.contains(key)) return fallback;
  try {
    return config.at(key).get<T>();
  } catch (const json::exception&) {
    throw UsageError(std::string("config file: \"") + key + "\" has the wrong type");
  }
}

// A string or a list of strings.
std::vector<std::string> config_list(const json& config, const char* key) {
  if (!config.contains(key)) return {};
  if (config.at(key).is_string()) return {config.at(key).get<std::string>()};
  return config_value<std::vector<std::string>>(config, key, {});
}

std::optional<std::chrono::seconds> timeout(const std::optional<std::chrono::seconds>& flag,
                                            const json& config, const char* key) {
  if (flag) return flag;
  if (!config.contains(key)) return std::nullopt;
  const long long value = config_value<long long>(config, key, 0);
  if (value <= 0)
    throw UsageError(std::string("config file: \"") + key + "\" must be a positive number of seconds");
  return std::chrono::seconds(value);
}

}  // namespace

ServerSlot parse_server(const std::string& text) {
  const auto colon = text.rfind(':');
  ServerSlot slot{.name = text.substr(0, colon)};
  if (colon != std::string::npos) {
    const std::string capacity = text.substr(colon + 1);
    if (capacity.empty() || capacity.find_first_not_of("0123456789") != std::string::npos ||
        std::stoll(capacity) < 1 || std::stoll(capacity) > 1000)
      throw UsageError("--server " + text + ": CAPACITY must be a whole number from 1 to 1000");
    slot.capacity = std::stoi(capacity);
  }
  if (slot.name.empty()) throw UsageError("--server " + text + ": the server needs a name");
  return slot;
}

Settings resolve_settings(const GivenSettings& given, const std::vector<fs::path>& default_plugin_paths) {
  const json config = load_config(given);
  Settings settings;

  std::vector<std::string> plugins = given.plugin_paths;
  if (plugins.empty())
    if (auto value = environment("CC_CI_PLUGIN_PATH")) plugins = split(*value, ':');
  if (plugins.empty()) plugins = config_list(config, "plugins");
  for (const auto& path : plugins) settings.plugin_paths.emplace_back(path);
  if (settings.plugin_paths.empty()) settings.plugin_paths = default_plugin_paths;

  settings.abra = given.abra.value_or(
      environment("CC_CI_ABRA").value_or(config_value<std::string>(config, "abra", "abra")));

  std::vector<std::string> servers = given.servers;
  if (servers.empty())
    if (auto value = environment("CC_CI_SERVER")) servers = split(*value, ',');
  if (servers.empty()) servers = config_list(config, "server");
  if (servers.empty()) servers = {"default"};  // what `abra server add --local` names it
  for (const auto& server : servers) {
    settings.servers.push_back(parse_server(server));
    for (size_t i = 0; i + 1 < settings.servers.size(); ++i)
      if (settings.servers[i].name == settings.servers.back().name)
        throw UsageError("--server " + settings.servers.back().name + " is given twice");
  }

  settings.domain_suffix = given.domain_suffix.value_or(
      environment("CC_CI_DOMAIN_SUFFIX").value_or(config_value<std::string>(config, "domain_suffix", "")));
  while (settings.domain_suffix.starts_with('.')) settings.domain_suffix.erase(0, 1);

  settings.jobs = given.jobs.value_or(config_value<int>(config, "jobs", 1));
  if (settings.jobs < 1) throw UsageError("--jobs must be at least 1, not " + std::to_string(settings.jobs));

  settings.report_dir =
      given.report_dir.value_or(config_value<std::string>(config, "report_dir", "cc-ci-report"));
  settings.ca_file = given.ca_file.value_or(config_value<std::string>(config, "ca_file", ""));
  if (!settings.ca_file.empty() && !fs::is_regular_file(settings.ca_file))
    throw UsageError("--ca-file " + settings.ca_file + ": no such file");
  settings.connect_to = given.connect_to.empty() ? config_list(config, "connect_to") : given.connect_to;
  for (const auto& spec : settings.connect_to)
    if (std::count(spec.begin(), spec.end(), ':') < 3)
      throw UsageError("--connect-to " + spec +
                       ": expected HOST:PORT:CONNECT_HOST:CONNECT_PORT (fields may be empty)");

  try {
    settings.keep =
        parse_keep_policy(given.keep.value_or(config_value<std::string>(config, "keep", "never")));
  } catch (const std::invalid_argument& error) {
    throw UsageError(error.what());
  }
  settings.timeouts.deploy = timeout(given.timeouts.deploy, config, "timeout_deploy");
  settings.timeouts.probe = timeout(given.timeouts.probe, config, "timeout_probe");
  settings.timeouts.teardown = timeout(given.timeouts.teardown, config, "timeout_teardown");
  settings.run_timeout = timeout(given.run_timeout, config, "timeout");
  settings.history = given.history.value_or(config_value<std::string>(config, "history", ""));
  settings.fail_fast = given.fail_fast.value_or(config_value<bool>(config, "fail_fast", false));
  settings.retries = given.retries.value_or(config_value<int>(config, "retries", 0));
  if (settings.retries < 0 || settings.retries > 10)
    throw UsageError("--retries must be from 0 to 10, not " + std::to_string(settings.retries));
  return settings;
}

}  // namespace ccci
