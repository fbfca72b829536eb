#include "job.hpp"

#include <stdexcept>

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

json to_json(const RecipeJob& job) {
  return {{"plugin_file", job.plugin_file.string()},
          {"recipe", job.recipe},
          {"server", job.server},
          {"domain", job.domain},
          {"target", to_json(job.target)},
          {"abra",
           {{"executable", job.abra.executable},
            {"abra_dir", job.abra.abra_dir},
            {"command_timeout_s", job.abra.command_timeout.count()},
            {"deploy", job.abra.deploy}}},
          {"http", {{"ca_file", job.http.ca_file}, {"connect_to", job.http.connect_to}}},
          {"timeouts_s",
           {{"deploy", job.timeouts.deploy.count()},
            {"probe", job.timeouts.probe.count()},
            {"teardown", job.timeouts.teardown.count()}}},
          {"keep", to_string(job.keep)},
          {"retries", job.retries},
          {"log_file", job.log_file.string()},
          {"events_file", job.events_file.string()}};
}

RecipeJob job_from_json(const json& in) {
  RecipeJob job;
  job.plugin_file = in.at("plugin_file").get<std::string>();
  job.recipe = in.at("recipe").get<std::string>();
  job.server = in.at("server").get<std::string>();
  job.domain = in.at("domain").get<std::string>();
  const auto& abra = in.at("abra");
  job.abra.executable = abra.at("executable").get<std::string>();
  job.abra.abra_dir = abra.at("abra_dir").get<std::string>();
  job.abra.command_timeout = std::chrono::seconds(abra.at("command_timeout_s").get<long long>());
  job.abra.deploy = abra.at("deploy").get<DeployOptions>();
  job.target = target_from_json(in.at("target"));
  job.http.ca_file = in.at("http").at("ca_file").get<std::string>();
  job.http.connect_to = in.at("http").at("connect_to").get<std::vector<std::string>>();
  const auto& timeouts = in.at("timeouts_s");
  job.timeouts.deploy = std::chrono::seconds(timeouts.at("deploy").get<long long>());
  job.timeouts.probe = std::chrono::seconds(timeouts.at("probe").get<long long>());
  job.timeouts.teardown = std::chrono::seconds(timeouts.at("teardown").get<long long>());
  job.keep = parse_keep_policy(in.at("keep").get<std::string>());
  job.retries = in.value("retries", 0);
  job.log_file = in.at("log_file").get<std::string>();
  job.events_file = in.at("events_file").get<std::string>();
  return job;
}

}  // namespace ccci
