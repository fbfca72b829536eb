#include "model/job.hpp"

#include <stdexcept>

#include "model/result.hpp"
#include "model/result_json.hpp"

// Durations in job.json are whole seconds.
template <>
struct nlohmann::adl_serializer<std::chrono::seconds> {
  static void to_json(json& out, const std::chrono::seconds& value) { out = value.count(); }
  static void from_json(const json& in, std::chrono::seconds& value) {
    value = std::chrono::seconds(in.get<long long>());
  }
};

namespace ccci {

using nlohmann::json;

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DeployOptions, version, domain_checks, converge_checks,
                                                lets_encrypt_env)

std::string_view to_string(KeepPolicy policy) {
  switch (policy) {
    case KeepPolicy::never:
      return "never";
    case KeepPolicy::on_failure:
      return "on-failure";
    case KeepPolicy::always:
      return "always";
  }
  return "?";
}

KeepPolicy parse_keep_policy(const std::string& text) {
  for (auto policy : {KeepPolicy::never, KeepPolicy::on_failure, KeepPolicy::always})
    if (to_string(policy) == text) return policy;
  throw std::invalid_argument("--keep must be never, on-failure or always, not \"" + text + "\"");
}

PhaseTimeouts resolve_timeouts(const Timeouts& plugin_asks, const TimeoutOverrides& user) {
  const PhaseTimeouts defaults;
  auto pick = [](const std::optional<std::chrono::seconds>& set, std::chrono::seconds asked,
                 std::chrono::seconds fallback) {
    if (set) return *set;
    return asked.count() > 0 ? asked : fallback;
  };
  return {pick(user.deploy, plugin_asks.deploy, defaults.deploy),
          pick(user.probe, plugin_asks.probe, defaults.probe),
          pick(user.teardown, plugin_asks.teardown, defaults.teardown)};
}

// job.json, the host's word to the child, is the types themselves: one
// mapping per type, written once by nlohmann's macros. Seconds are whole
// numbers; the keep policy is its flag spelling.
NLOHMANN_JSON_SERIALIZE_ENUM(KeepPolicy, {{KeepPolicy::never, "never"},
                                          {KeepPolicy::on_failure, "on-failure"},
                                          {KeepPolicy::always, "always"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(AbraSettings, executable, abra_dir, command_timeout, deploy)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(HttpSettings, ca_file, connect_to)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PhaseTimeouts, deploy, probe, teardown)
NLOHMANN_JSON_SERIALIZE_ENUM(Lane, {{Lane::fresh, "fresh"}, {Lane::upgrade, "upgrade"}, {Lane::lint, "lint"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(BackupPath, path, volume, whole_volume)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(BackedUpService, service, paths, backup_pre_hook, backup_post_hook,
                                   restore_pre_hook, restore_post_hook, backup_command)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ComposeLayout, files, services, backups)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RecipeJob, plugin_file, recipe, lane, server, domain, target, abra, http,
                                   timeouts, keep, retries, backup_surface, compose, compose_after_move,
                                   docker, browser, screenshot_file, log_file, events_file)

json to_json(const RecipeJob& job) {
  json out;
  to_json(out, job);
  return out;
}

RecipeJob job_from_json(const json& in) {
  RecipeJob job = in.get<RecipeJob>();
  // The enum macro reads an unknown spelling as the first value; a job is refused instead.
  job.keep = parse_keep_policy(in.at("keep").get<std::string>());
  job.lane = lane_from_string(in.at("lane").get<std::string>());
  return job;
}

}  // namespace ccci
