// The settings of one cc-ci invocation, from flags, environment and a config file.
//
// One table (kSettings) names every setting once: its config key, flag,
// environment variable, value, limits and help. The command line, the config
// reader, --help and the README's table (`cc-ci settings`) are all made from it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "base/usage_error.hpp"
#include "model/job.hpp"
#include "recipe/target.hpp"

namespace ccci {

/// How a setting's value is written and checked.
enum class SettingKind : std::uint8_t {
  text,     ///< one string
  list,     ///< repeatable flag; a JSON string or array; env split on `separator`
  integer,  ///< a whole number within [min, max]; "2.7", "true", "1e3" are refused
  seconds,  ///< a whole number of seconds within [min, max]
  flag,     ///< a flag without a value; a JSON boolean; env "1"/"true"/"0"/"false"
};

/// Which commands read a setting: `run` and `plan` take every run setting;
/// the forge settings belong to `cc-ci gitea` and `cc-ci bridge`.
enum class SettingGroup : std::uint8_t { run, forge };

struct SettingSpec {
  std::string_view key;         ///< the config file's key, e.g. "timeout_deploy"
  std::string_view flag;        ///< e.g. "--timeout-deploy"
  std::string_view env;         ///< e.g. "CC_CI_TIMEOUT_DEPLOY"
  std::string_view value_name;  ///< e.g. "S"; empty for a flag
  SettingKind kind;
  SettingGroup group = SettingGroup::run;
  char separator = ',';  ///< list only: how the env var separates values
  long long min = 0;     ///< integer and seconds only
  long long max = 0;
  std::string_view help;      ///< one sentence, for --help and the README
  std::string_view fallback;  ///< what applies when nothing is given, in words
};

/// Every setting, in the order --help shows them.
std::span<const SettingSpec> settings_table();
/// The row for `key`; throws std::logic_error for an unknown key (a programming error).
const SettingSpec& setting(std::string_view key);
/// The settings table as Markdown (the README's copy; `cc-ci settings`).
std::string settings_markdown();

/// A server of the pool and how many recipe tests it takes at once (0: no limit but --jobs).
struct ServerSlot {
  std::string name;
  int capacity = 0;
  bool operator==(const ServerSlot&) const = default;
};

/// "NAME" or "NAME:CAPACITY"; throws UsageError.
ServerSlot parse_server(const std::string& text);

/// The fields of a curl --connect-to spec, split at the colons outside
/// [brackets] (IPv6 hosts): four for a valid spec.
std::vector<std::string> connect_to_fields(std::string_view spec);

/// Checks a curl --connect-to spec (HOST:PORT:CONNECT_HOST:CONNECT_PORT, each
/// field may be empty, hosts may be [IPv6]); throws UsageError naming the fault.
void validate_connect_to(const std::string& spec);

/// Why `url` is not an http(s) URL with a host, or nullopt.
std::optional<std::string> web_url_problem(std::string_view url);

/// Why `url` cannot be the --dashboard-url, or nullopt: an http(s) URL with
/// nothing Markdown or HTML would read as the end of a link. Empty is fine.
std::optional<std::string> dashboard_url_problem(std::string_view url);

/// What the user gave on the command line, by config key, as typed.
struct GivenSettings {
  std::optional<std::string> config_file;
  std::map<std::string, std::vector<std::string>, std::less<>> flags;
};

/// What `cc-ci gitea` and `cc-ci bridge` talk to. Secrets are named by the
/// file holding them, never given as values: a value would sit on a command
/// line or in the environment of every process started.
struct ForgeSettings {
  std::string gitea_url;                      ///< https://git.example.org; empty: not given
  std::filesystem::path gitea_token_file;     ///< empty: the systemd credential gitea-token
  std::filesystem::path webhook_secret_file;  ///< empty: the systemd credential webhook-secret
  std::string ci_engine;                      ///< "woodpecker" or "drone"; empty: not given
  std::string ci_url;                         ///< the CI engine's URL; empty: not given
  std::filesystem::path ci_token_file;        ///< empty: the systemd credential ci-token
  std::string listen = "127.0.0.1:8099";      ///< the bridge's HOST:PORT
  std::filesystem::path bridge_state;         ///< the bridge's record of triggered commits
};

struct Settings {
  std::vector<std::filesystem::path> plugin_paths;
  std::string abra = "abra";
  std::string docker = "docker";     ///< empty: nothing inspects the server after teardown
  std::string browser = "chromium";  ///< shoots the landing page; empty: no screenshots (resolve_settings:
                                     ///< chromium-headless-shell when installed)
  std::vector<ServerSlot> servers;
  std::string domain_suffix;
  int jobs = 1;
  std::filesystem::path report_dir = "cc-ci-report";
  std::string ca_file;
  std::vector<std::string> connect_to;
  KeepPolicy keep = KeepPolicy::never;
  TimeoutOverrides timeouts;
  std::filesystem::path history;                    ///< a previous report dir; empty: none
  std::string dashboard_url;                        ///< where the report folder is served; empty: none
  std::optional<std::chrono::seconds> run_timeout;  ///< the whole run's limit
  bool fail_fast = false;
  int retries = 0;  ///< extra attempts for a failed probe check
  /// --ref / --recipe-dir by recipe; a recipe without one tests its latest release.
  std::map<std::string, TargetRequest, std::less<>> targets;
  std::filesystem::path recipes_from;  ///< DIR/<recipe> is each recipe's git repository
  DeployOptions deploy;                ///< how abra creates and deploys each app
  std::vector<Lane> lanes{Lane::fresh, Lane::upgrade, Lane::lint};  ///< in that order
  ForgeSettings forge;
};

/// Flags win over the environment, which wins over the config file (--config,
/// else $CC_CI_CONFIG; never a file found in the working directory, which may
/// be a checkout under test), which wins over the defaults. Every value is
/// checked here, so a run never fails late on a bad setting. Throws UsageError.
Settings resolve_settings(const GivenSettings& given,
                          const std::vector<std::filesystem::path>& default_plugin_paths);

}  // namespace ccci
