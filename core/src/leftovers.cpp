#include "leftovers.hpp"

#include <algorithm>
#include <sstream>

#include "ccci/process.hpp"
#include "names.hpp"

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

}  // namespace

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
    const auto argv = command_for(query, kind);
    const auto left = query.deadline - std::chrono::steady_clock::now();
    const auto timeout = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(left),
                                    std::chrono::milliseconds(1000), std::chrono::milliseconds(60'000));
    const CommandResult result = run_command({.argv = argv, .timeout = timeout});
    if (!result.ok())
      throw CommandError("docker cannot list the server's " + std::string(kind) + "s (" + result.describe() +
                         "): " + result.output.substr(0, 300));
    // Docker's name filter matches anywhere in the name: keep only this app's.
    std::istringstream lines(result.output);
    for (std::string name; std::getline(lines, name);) {
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
      if (name == stack || name.starts_with(stack + "_")) found.push_back(std::string(kind) + " " + name);
    }
  }
  return found;
}

}  // namespace ccci
