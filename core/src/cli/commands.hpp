// The subcommands of cc-ci, each returning the process's exit code:
// cli/main.cpp parses the command line (its flags come from the settings
// table) and calls one.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace ccci {

inline constexpr int kExitPassed = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;

/// This program's own file: lane children are started from it.
std::filesystem::path self_executable();

/// `cc-ci list`: the plugins found, and the recipes each tests.
int command_list(const Settings& settings);
/// `cc-ci plan`: what a run would do, lane by lane, running nothing.
int command_plan(Settings settings, const std::vector<std::string>& recipes);
/// `cc-ci run`: the lanes of the recipes, the report, the exit code (130 after a signal).
int command_run(const Settings& settings, const std::vector<std::string>& recipes);
/// `cc-ci janitor`: removes apps that killed runs left (or lists them).
int command_janitor(const Settings& settings, bool dry_run);
/// `cc-ci report`: the PR comment, badges, card and run page of a report folder.
int command_report(const std::filesystem::path& folder, const Settings& settings);
/// `cc-ci dashboard`: the index of every run under a folder.
int command_dashboard(const std::filesystem::path& root);

/// What `cc-ci gitea` publishes, and for which pull request and commit.
struct GiteaCommand {
  std::string report_dir;
  std::string repo;
  long long pr = 0;
  std::string commit;
};
/// `cc-ci gitea`: the PR comment and commit statuses of a sealed report.
int command_gitea(const GiteaCommand& command, const Settings& settings);
/// `cc-ci bridge`: the !testme webhook server.
int command_bridge(const Settings& settings);

}  // namespace ccci
