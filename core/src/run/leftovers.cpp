#include "run/leftovers.hpp"

#include <algorithm>
#include <sstream>
#include <thread>

#include "ccci/process.hpp"
#include "recipe/names.hpp"

namespace ccci {

namespace {

// The kinds of Docker object a stack leaves, as `docker <kind> ls` names them.
// `stack ls` has no name filter; the others narrow by name on the server.
constexpr const char* kObjectKinds[] = {"stack", "service", "secret", "config", "volume", "network"};

std::vector<std::string> command_for(const LeftoverQuery& query, const std::string& kind) {
  std::vector<std::string> argv = {query.docker, "--context", query.server, kind,
                                   "ls",         "--format",  "{{.Name}}"};
  if (kind != "stack") argv.insert(argv.end(), {"--filter", "name=" + stack_name(query.domain)});
  return argv;
}

// A docker call bounded by the query's deadline (at least a second, at most a minute).
CommandResult run_docker(const LeftoverQuery& query, const std::vector<std::string>& argv,
                         std::string_view what) {
  const auto left = query.deadline - std::chrono::steady_clock::now();
  const auto timeout = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(left),
                                  std::chrono::milliseconds(1000), std::chrono::milliseconds(60'000));
  CommandResult result = run_command({.argv = argv, .timeout = timeout});
  if (!result.ok())
    throw CommandError("docker cannot list the server's " + std::string(what) + " (" + result.describe() +
                       "): " + result.output.substr(0, 300));
  return result;
}

std::vector<std::string> output_lines(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
      line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace

std::vector<std::string> convergence_command(const LeftoverQuery& query) {
  // abra deploys with `docker stack deploy`, which labels every service with its stack.
  return {query.docker,
          "--context",
          query.server,
          "service",
          "ls",
          "--filter",
          "label=com.docker.stack.namespace=" + stack_name(query.domain),
          "--format",
          "{{.Name}} {{.Replicas}}"};
}

std::vector<std::string> services_not_converged(const LeftoverQuery& query) {
  const auto services = output_lines(run_docker(query, convergence_command(query), "services").output);
  if (services.empty()) return {"stack " + stack_name(query.domain) + " has no service"};
  std::vector<std::string> waiting;
  for (const auto& line : services) {
    // "NAME 1/1", or "NAME 1/1 (max 1 per node)": running before the slash, wanted after.
    const auto space = line.find(' ');
    const auto slash = line.find('/', space == std::string::npos ? 0 : space);
    if (space == std::string::npos || slash == std::string::npos)
      throw CommandError("docker printed a service line cc-ci cannot read: " + line.substr(0, 200));
    const std::string running = line.substr(space + 1, slash - space - 1);
    const std::string wanted = line.substr(slash + 1, line.find(' ', slash) - slash - 1);
    if (running != wanted || wanted == "0") waiting.push_back(line);
  }
  return waiting;
}

std::vector<std::string> stack_removal_command(const LeftoverQuery& query) {
  return {query.docker, "--context", query.server, "stack", "rm", stack_name(query.domain)};
}

bool remove_stack(const LeftoverQuery& query) {
  const std::string stack = stack_name(query.domain);
  const auto stacks = output_lines(run_docker(query, command_for(query, "stack"), "stacks").output);
  if (std::find(stacks.begin(), stacks.end(), stack) == stacks.end()) return false;
  const CommandResult removed =
      run_command({.argv = stack_removal_command(query), .timeout = std::chrono::minutes(1)});
  if (!removed.ok())
    throw CommandError("docker stack rm " + stack + " " + removed.describe() + ": " +
                       removed.output.substr(0, 300));
  // Docker removes the containers and networks after `stack rm` returns; a
  // volume a container still holds cannot be removed by `app rm`.
  const std::vector<std::string> containers = {
      query.docker, "--context", query.server, "ps",
      "--all",      "--quiet",   "--filter",   "label=com.docker.stack.namespace=" + stack};
  const std::vector<std::string> networks = {
      query.docker, "--context", query.server, "network",
      "ls",         "--quiet",   "--filter",   "label=com.docker.stack.namespace=" + stack};
  for (int looks = 1;; ++looks) {
    const auto left = output_lines(run_docker(query, containers, "containers").output).size() +
                      output_lines(run_docker(query, networks, "networks").output).size();
    if (left == 0) return true;
    if (std::chrono::steady_clock::now() >= query.deadline)
      throw CommandError("docker stack rm " + stack + ": " + std::to_string(left) +
                         " container(s) or network(s) still there after " + std::to_string(looks) + " looks");
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 100 * looks)));
  }
}

std::vector<std::vector<std::string>> leftover_commands(const LeftoverQuery& query) {
  std::vector<std::vector<std::string>> commands;
  for (const char* kind : kObjectKinds) commands.push_back(command_for(query, kind));
  return commands;
}

std::vector<std::string> find_leftovers(const LeftoverQuery& query) {
  std::vector<std::string> found;
  const auto env_file = query.abra_dir / "servers" / query.server / (query.domain + ".env");
  std::error_code error;
  if (std::filesystem::exists(std::filesystem::symlink_status(env_file, error)))
    found.push_back("env file " + env_file.string());
  const std::string stack = stack_name(query.domain);
  for (const char* kind : kObjectKinds) {
    const CommandResult result = run_docker(query, command_for(query, kind), std::string(kind) + "s");
    // Docker's name filter matches anywhere in the name: keep only this app's.
    for (const auto& name : output_lines(result.output))
      if (name == stack || name.starts_with(stack + "_")) found.push_back(std::string(kind) + " " + name);
  }
  return found;
}

}  // namespace ccci
