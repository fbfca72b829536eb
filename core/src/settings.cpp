#include "settings.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ccci/abra_client.hpp"
#include "names.hpp"
#include "report.hpp"

namespace ccci {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr long long kWeek = 7LL * 24 * 3600;  // longer limits are typos, and overflow clocks

// clang-format off
constexpr SettingSpec kSettings[] = {
  {.key = "plugins", .flag = "--plugins", .env = "CC_CI_PLUGIN_PATH", .value_name = "DIR",
   .kind = SettingKind::list, .separator = ':',
   .help = "where the recipe plugins (*.so) are, searched recursively; repeatable",
   .fallback = "the installed plugins, or build/recipes and build/plugins for a binary in the build tree"},
  {.key = "abra", .flag = "--abra", .env = "CC_CI_ABRA", .value_name = "PATH", .kind = SettingKind::text,
   .help = "the abra executable", .fallback = "abra on PATH"},
  {.key = "docker", .flag = "--docker", .env = "CC_CI_DOCKER", .value_name = "PATH",
   .kind = SettingKind::text,
   .help = "the docker CLI that inspects each server after teardown, through the Docker context abra "
           "made for it; an empty value leaves the clean-teardown rung unverified",
   .fallback = "docker on PATH"},
  {.key = "browser", .flag = "--browser", .env = "CC_CI_BROWSER", .value_name = "PATH",
   .kind = SettingKind::text,
   .help = "the headless Chromium that shoots each app's landing page for the report (screenshots/); an "
           "empty value takes no pictures", .fallback = "chromium on PATH"},
  {.key = "server", .flag = "--server", .env = "CC_CI_SERVER", .value_name = "NAME[:N]",
   .kind = SettingKind::list,
   .help = "abra server to deploy on, taking at most N tests at once; repeat for a pool",
   .fallback = "default"},
  {.key = "domain_suffix", .flag = "--domain-suffix", .env = "CC_CI_DOMAIN_SUFFIX", .value_name = "S",
   .kind = SettingKind::text,
   .help = "apps are named <recipe[:4]>-<6 hex>.<S>; a lower-case DNS name short enough for Docker's "
           "64-character names", .fallback = "none (required by run and janitor)"},
  {.key = "jobs", .flag = "--jobs", .env = "CC_CI_JOBS", .value_name = "N", .kind = SettingKind::integer,
   .min = 1, .max = 256, .help = "recipe tests at the same time", .fallback = "1"},
  {.key = "report_dir", .flag = "--report-dir", .env = "CC_CI_REPORT_DIR", .value_name = "DIR",
   .kind = SettingKind::text, .help = "where results.json, junit.xml and logs/ go",
   .fallback = "./cc-ci-report"},
  {.key = "ca_file", .flag = "--ca-file", .env = "CC_CI_CA_FILE", .value_name = "PATH",
   .kind = SettingKind::text,
   .help = "also trust this CA (PEM) for the apps' HTTPS; the system store stays trusted",
   .fallback = "none"},
  {.key = "connect_to", .flag = "--connect-to", .env = "CC_CI_CONNECT_TO", .value_name = "SPEC",
   .kind = SettingKind::list,
   .help = "curl syntax HOST:PORT:CONNECT_HOST:CONNECT_PORT, empty fields match anything; repeatable",
   .fallback = "none"},
  {.key = "keep", .flag = "--keep", .env = "CC_CI_KEEP", .value_name = "WHEN", .kind = SettingKind::text,
   .help = "never, on-failure or always: skip teardown; the report says what was kept",
   .fallback = "never"},
  {.key = "timeout_deploy", .flag = "--timeout-deploy", .env = "CC_CI_TIMEOUT_DEPLOY", .value_name = "S",
   .kind = SettingKind::seconds, .min = 1, .max = kWeek, .help = "seconds for the deploy phase",
   .fallback = "the plugin's, else 900"},
  {.key = "timeout_probe", .flag = "--timeout-probe", .env = "CC_CI_TIMEOUT_PROBE", .value_name = "S",
   .kind = SettingKind::seconds, .min = 1, .max = kWeek, .help = "seconds for readiness and checks",
   .fallback = "the plugin's, else 300"},
  {.key = "timeout_teardown", .flag = "--timeout-teardown", .env = "CC_CI_TIMEOUT_TEARDOWN",
   .value_name = "S", .kind = SettingKind::seconds, .min = 1, .max = kWeek,
   .help = "seconds for teardown", .fallback = "the plugin's, else 300"},
  {.key = "timeout", .flag = "--timeout", .env = "CC_CI_TIMEOUT", .value_name = "S",
   .kind = SettingKind::seconds, .min = 1, .max = kWeek,
   .help = "seconds for the whole run; then running tests are stopped and torn down", .fallback = "none"},
  {.key = "fail_fast", .flag = "--fail-fast", .env = "CC_CI_FAIL_FAST", .kind = SettingKind::flag,
   .help = "after a recipe fails, start no more (running ones finish)", .fallback = "off"},
  {.key = "retries", .flag = "--retries", .env = "CC_CI_RETRIES", .value_name = "N",
   .kind = SettingKind::integer, .min = 0, .max = 10,
   .help = "rerun a probe check that did not pass up to N times; a later pass is reported as flaky",
   .fallback = "0"},
  {.key = "lanes", .flag = "--lanes", .env = "CC_CI_LANES", .value_name = "LANE,…",
   .kind = SettingKind::list,
   .help = "the lanes to run: fresh (install, redeploy, backup and restore), upgrade (from the previous "
           "release), lint (abra recipe lint); the rungs of a lane not run are unverified",
   .fallback = "fresh,upgrade,lint"},
  {.key = "ref", .flag = "--ref", .env = "CC_CI_REF", .value_name = "RECIPE=REF",
   .kind = SettingKind::list,
   .help = "test this commit, branch or tag of the recipe's repository (a release deploys by version, "
           "anything else with --chaos); repeatable",
   .fallback = "the recipe's latest release"},
  {.key = "recipe_dir", .flag = "--recipe-dir", .env = "CC_CI_RECIPE_DIR", .value_name = "RECIPE=PATH",
   .kind = SettingKind::list, .separator = ':',
   .help = "test this local git checkout of the recipe (e.g. a PR workspace), uncommitted changes included; "
           "repeatable", .fallback = "none"},
  {.key = "recipes_from", .flag = "--recipes-from", .env = "CC_CI_RECIPES_FROM", .value_name = "DIR",
   .kind = SettingKind::text,
   .help = "the folder holding each recipe's git repository as DIR/<recipe> (abra's own clones)",
   .fallback = "$ABRA_DIR/recipes"},
  {.key = "lets_encrypt_env", .flag = "--lets-encrypt-env", .env = "CC_CI_LETS_ENCRYPT_ENV", .value_name = "V",
   .kind = SettingKind::text,
   .help = "LETS_ENCRYPT_ENV for test apps; empty makes Traefik serve its wildcard certificate, no ACME",
   .fallback = "empty"},
  {.key = "domain_checks", .flag = "--domain-checks", .env = "CC_CI_DOMAIN_CHECKS", .kind = SettingKind::flag,
   .help = "let abra check the app domain's DNS on deploy (test domains usually have none)",
   .fallback = "off: deploy with --no-domain-checks"},
  {.key = "converge_checks", .flag = "--converge-checks", .env = "CC_CI_CONVERGE_CHECKS",
   .kind = SettingKind::flag,
   .help = "let abra wait for convergence on deploy, as well as cc-ci's own readiness wait",
   .fallback = "off: deploy with --no-converge-checks"},
  {.key = "dashboard_url", .flag = "--dashboard-url", .env = "CC_CI_DASHBOARD_URL", .value_name = "URL",
   .kind = SettingKind::text,
   .help = "where the report folder is served (http or https): summary.md links there and shows the "
           "badge and card from there", .fallback = "none: summary.md links and embeds nothing"},
  {.key = "history", .flag = "--history", .env = "CC_CI_HISTORY", .value_name = "DIR",
   .kind = SettingKind::text, .help = "a previous report dir: start the recipes that took longest first",
   .fallback = "none"},
  {.key = "gitea_url", .flag = "--gitea-url", .env = "CC_CI_GITEA_URL", .value_name = "URL",
   .kind = SettingKind::text, .group = SettingGroup::forge,
   .help = "the Gitea or Forgejo server holding the recipe repositories",
   .fallback = "none (required by gitea and bridge)"},
  {.key = "gitea_token_file", .flag = "--gitea-token-file", .env = "CC_CI_GITEA_TOKEN_FILE",
   .value_name = "PATH", .kind = SettingKind::text, .group = SettingGroup::forge,
   .help = "the file holding the Gitea API token (comments, statuses, permissions); never give the token "
           "itself", .fallback = "the systemd credential gitea-token"},
  {.key = "webhook_secret_file", .flag = "--webhook-secret-file", .env = "CC_CI_WEBHOOK_SECRET_FILE",
   .value_name = "PATH", .kind = SettingKind::text, .group = SettingGroup::forge,
   .help = "the file holding the secret Gitea signs webhooks with",
   .fallback = "the systemd credential webhook-secret"},
  {.key = "ci_engine", .flag = "--ci-engine", .env = "CC_CI_ENGINE", .value_name = "NAME",
   .kind = SettingKind::text, .group = SettingGroup::forge,
   .help = "the CI engine `!testme` starts builds on: woodpecker or drone",
   .fallback = "none (required by bridge)"},
  {.key = "ci_url", .flag = "--ci-url", .env = "CC_CI_ENGINE_URL", .value_name = "URL",
   .kind = SettingKind::text, .group = SettingGroup::forge, .help = "the CI engine's URL",
   .fallback = "none (required by bridge)"},
  {.key = "ci_token_file", .flag = "--ci-token-file", .env = "CC_CI_ENGINE_TOKEN_FILE", .value_name = "PATH",
   .kind = SettingKind::text, .group = SettingGroup::forge, .help = "the file holding the CI engine's API token",
   .fallback = "the systemd credential ci-token"},
  {.key = "listen", .flag = "--listen", .env = "CC_CI_LISTEN", .value_name = "HOST:PORT",
   .kind = SettingKind::text, .group = SettingGroup::forge,
   .help = "where the bridge takes webhooks (POST /hook; GET /health)", .fallback = "127.0.0.1:8099"},
  {.key = "bridge_state", .flag = "--bridge-state", .env = "CC_CI_BRIDGE_STATE", .value_name = "FILE",
   .kind = SettingKind::text, .group = SettingGroup::forge,
   .help = "the bridge's memory of the builds it asked for (30 days) and the deliveries it handled (15 minutes), "
           "so neither a repeated `!testme` nor a replay starts another build",
   .fallback = "$STATE_DIRECTORY/bridge-state.json (systemd), else required by bridge"},
};
// clang-format on

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

void validate_port(const std::string& spec, const std::string& port) {
  if (port.empty()) return;
  int value = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (error != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535)
    throw UsageError("--connect-to " + spec + ": \"" + port + "\" is not a port from 1 to 65535");
}

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

std::span<const SettingSpec> settings_table() {
  return kSettings;
}

const SettingSpec& setting(std::string_view key) {
  for (const auto& spec : kSettings)
    if (spec.key == key) return spec;
  throw std::logic_error("no setting \"" + std::string(key) + "\"");
}

std::string settings_markdown() {
  std::string text = "| flag | environment | config key | what it sets | default |\n|---|---|---|---|---|\n";
  for (const auto& spec : kSettings) {
    std::string flag(spec.flag);
    if (!spec.value_name.empty()) flag += " " + std::string(spec.value_name);
    std::string help(spec.help);
    if (spec.kind == SettingKind::integer || spec.kind == SettingKind::seconds)
      help += " (" + std::to_string(spec.min) + " to " + std::to_string(spec.max) + ")";
    if (spec.kind == SettingKind::list && spec.separator != ',')
      help += " (environment: '" + std::string(1, spec.separator) + "'-separated)";
    text += "| `" + flag + "` | `" + std::string(spec.env) + "` | `" + std::string(spec.key) + "` | " + help +
            " | " + std::string(spec.fallback) + " |\n";
  }
  return text;
}

ServerSlot parse_server(const std::string& text) {
  const auto colon = text.rfind(':');
  ServerSlot slot{.name = text.substr(0, colon)};
  if (colon != std::string::npos) {
    const std::string capacity = text.substr(colon + 1);
    int value = 0;
    const auto [end, error] = std::from_chars(capacity.data(), capacity.data() + capacity.size(), value);
    if (capacity.empty() || error != std::errc() || end != capacity.data() + capacity.size() || value < 1 ||
        value > 1000)
      throw UsageError("--server " + text + ": CAPACITY must be a whole number from 1 to 1000");
    slot.capacity = value;
  }
  if (slot.name.empty()) throw UsageError("--server " + text + ": the server needs a name");
  // The name becomes a folder under $ABRA_DIR/servers: nothing that walks out of it.
  if (slot.name == "." || slot.name == ".." || slot.name.find('/') != std::string::npos ||
      slot.name.find('\0') != std::string::npos)
    throw UsageError("--server " + text + ": not a server name");
  return slot;
}

std::optional<std::string> web_url_problem(std::string_view url) {
  const bool web = url.starts_with("https://") || url.starts_with("http://");
  const std::size_t host = url.find("://") + 3;
  if (!web || host >= url.size() || url[host] == '/')
    return "give an http(s) URL with a host, e.g. https://ci.example.org/cc-ci";
  // A URL is printed in errors and logs: credentials never go in one.
  if (url.substr(host, url.find_first_of("/?#", host) - host).find('@') != std::string_view::npos)
    return "a user or password in the URL would be printed; give the token in its file instead";
  return std::nullopt;
}

std::optional<std::string> dashboard_url_problem(std::string_view url) {
  if (url.empty()) return std::nullopt;
  if (auto problem = web_url_problem(url)) return problem;
  for (const char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 ||
        std::string_view("<>()\"'`\\").find(c) != std::string_view::npos)
      return "a URL has no spaces, quotes, brackets or backslashes: they would end the link in summary.md";
  return std::nullopt;
}

std::vector<std::string> connect_to_fields(std::string_view spec) {
  std::vector<std::string> fields(1);
  bool bracket = false;
  for (const char c : spec) {
    if (c == '[') bracket = true;
    if (c == ']') bracket = false;
    if (c == ':' && !bracket)
      fields.emplace_back();
    else
      fields.back() += c;
  }
  return fields;
}

void validate_connect_to(const std::string& spec) {
  // Four fields; a host may be an IPv6 address in brackets, with colons inside.
  const std::vector<std::string> fields = connect_to_fields(spec);
  const auto open = spec.rfind('[');
  const auto close = spec.rfind(']');
  const bool bracket_left_open = open != std::string::npos && (close == std::string::npos || close < open);
  if (fields.size() != 4 || bracket_left_open)
    throw UsageError("--connect-to " + spec +
                     ": expected HOST:PORT:CONNECT_HOST:CONNECT_PORT (fields may be empty)");
  validate_port(spec, fields[1]);
  validate_port(spec, fields[3]);
  for (const auto& host : {fields[0], fields[2]})
    if (host.find_first_of(" \t\r\n/") != std::string::npos)
      throw UsageError("--connect-to " + spec + ": \"" + host + "\" is not a host name or address");
}

Settings resolve_settings(const GivenSettings& given, const std::vector<fs::path>& default_plugin_paths) {
  const Resolver settings_from(given);
  Settings settings;

  for (const auto& path : settings_from.list("plugins")) settings.plugin_paths.emplace_back(path);
  if (settings.plugin_paths.empty()) settings.plugin_paths = default_plugin_paths;

  settings.abra = settings_from.text("abra", "abra");
  settings.docker = settings_from.text("docker", "docker");
  settings.browser = settings_from.text("browser", "chromium");

  std::vector<std::string> servers = settings_from.list("server");
  if (servers.empty()) servers = {"default"};  // what `abra server add --local` names it
  for (const auto& server : servers) {
    settings.servers.push_back(parse_server(server));
    for (size_t i = 0; i + 1 < settings.servers.size(); ++i)
      if (settings.servers[i].name == settings.servers.back().name)
        throw UsageError("--server " + settings.servers.back().name + " is given twice");
  }

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
  std::vector<std::string> lanes;
  for (const auto& value : settings_from.list("lanes")) {
    std::istringstream names(value);
    for (std::string name; std::getline(names, name, ',');)
      if (!name.empty()) lanes.push_back(name);
  }
  if (!lanes.empty()) {
    std::vector<Lane> asked;
    for (const auto& name : lanes) {
      try {
        asked.push_back(lane_from_string(name));
      } catch (const std::invalid_argument&) {
        throw UsageError("--lanes: unknown lane \"" + name + "\" (the lanes are fresh, upgrade and lint)");
      }
    }
    settings.lanes.clear();  // in their own order, each once
    for (const Lane lane : {Lane::fresh, Lane::upgrade, Lane::lint})
      if (std::find(asked.begin(), asked.end(), lane) != asked.end()) settings.lanes.push_back(lane);
  }

  // RECIPE=REF and RECIPE=PATH: one target per recipe, whichever way it is given.
  auto add_targets = [&](std::string_view key, const std::string& value_name,
                         const std::function<void(TargetRequest&, std::string)>& set) {
    for (const auto& item : settings_from.list(key)) {
      const std::string flag(setting(key).flag);
      const auto equals = item.find('=');
      if (equals == std::string::npos || equals == 0 || equals + 1 == item.size())
        throw UsageError(flag + " " + item + ": expected RECIPE=" + value_name);
      const std::string recipe = item.substr(0, equals);
      TargetRequest& request = settings.targets[recipe];
      if (request.ref || request.recipe_dir)
        throw UsageError(flag + " " + item + ": recipe " + recipe +
                         " already has a target (one --ref or --recipe-dir per recipe)");
      set(request, item.substr(equals + 1));
    }
  };
  add_targets("ref", "REF", [](TargetRequest& request, std::string ref) { request.ref = std::move(ref); });
  add_targets("recipe_dir", "PATH",
              [](TargetRequest& request, std::string path) { request.recipe_dir = std::move(path); });
  settings.recipes_from = settings_from.text("recipes_from", (default_abra_dir() / "recipes").string());
  settings.deploy.lets_encrypt_env = settings_from.text("lets_encrypt_env", "");
  settings.deploy.domain_checks = settings_from.flag("domain_checks");
  settings.deploy.converge_checks = settings_from.flag("converge_checks");

  ForgeSettings& forge = settings.forge;
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
  return settings;
}

}  // namespace ccci
