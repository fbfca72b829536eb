// The settings of one cc-ci invocation, from flags, environment and cc-ci.json.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "job.hpp"

namespace ccci {

/// Bad flags, config or environment: one line for the user, exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A server of the pool and how many recipe tests it takes at once (0: no limit but --jobs).
struct ServerSlot {
  std::string name;
  int capacity = 0;
  bool operator==(const ServerSlot&) const = default;
};

/// "NAME" or "NAME:CAPACITY"; throws UsageError.
ServerSlot parse_server(const std::string& text);

/// What the user gave, flag by flag; unset ones stay empty.
struct GivenSettings {
  std::optional<std::string> config_file;
  std::vector<std::string> plugin_paths;
  std::optional<std::string> abra;
  std::vector<std::string> servers;
  std::optional<std::string> domain_suffix;
  std::optional<int> jobs;
  std::optional<std::string> report_dir;
  std::optional<std::string> ca_file;
  std::vector<std::string> connect_to;
  std::optional<std::string> keep;
  TimeoutOverrides timeouts;
  std::optional<std::string> history;
  std::optional<std::chrono::seconds> run_timeout;
  std::optional<bool> fail_fast;
  std::optional<int> retries;
};

struct Settings {
  std::vector<std::filesystem::path> plugin_paths;
  std::string abra = "abra";
  std::vector<ServerSlot> servers;
  std::string domain_suffix;
  int jobs = 1;
  std::filesystem::path report_dir = "cc-ci-report";
  std::string ca_file;
  std::vector<std::string> connect_to;
  KeepPolicy keep = KeepPolicy::never;
  TimeoutOverrides timeouts;
  std::filesystem::path history;                    ///< a previous report dir; empty: none
  std::optional<std::chrono::seconds> run_timeout;  ///< the whole run's limit
  bool fail_fast = false;
  int retries = 0;  ///< extra attempts for a failed probe check
};

/// Flags win over the environment (CC_CI_PLUGIN_PATH, CC_CI_ABRA, CC_CI_SERVER,
/// CC_CI_DOMAIN_SUFFIX), which wins over the config file (--config, else
/// $CC_CI_CONFIG, else ./cc-ci.json if present), which wins over the defaults. Throws UsageError.
Settings resolve_settings(const GivenSettings& given,
                          const std::vector<std::filesystem::path>& default_plugin_paths);

}  // namespace ccci
