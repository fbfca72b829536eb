// git as the recipe code runs it (internal to core/src/recipe).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ccci/process.hpp"

namespace ccci {

/// git in a recipe repository, as cc-ci runs it: no prompt, no system
/// config, C locale, bounded output.
struct Git {
  std::filesystem::path directory;

  /// What git runs with: no prompt, no system config, C locale.
  static std::map<std::string, std::string> environment() {
    return {{"GIT_TERMINAL_PROMPT", "0"}, {"GIT_CONFIG_NOSYSTEM", "1"}, {"LC_ALL", "C"}};
  }

  CommandResult execute(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
    Command command{.argv = {"git", "-C", directory.string()}, .timeout = timeout};
    command.argv.insert(command.argv.end(), args.begin(), args.end());
    command.env = environment();
    return run_command(command);
  }

  /// A cut listing (a repository with megabytes of tags) would silently
  /// drop releases, and with them the upgrade lane: refuse it instead.
  static void refuse_cut(const std::vector<std::string>& args, const CommandResult& result) {
    if (result.output_cut > 0)
      throw std::runtime_error(
          "git " + args.front() + " printed " + std::to_string(result.output.size() + result.output_cut) +
          " bytes, more than cc-ci reads (" + std::to_string(Command{}.max_output >> 20) +
          " MiB); it does not decide from a cut listing (so many tags?)");
  }

  /// git's output; nullopt when git says no (an unknown ref, not a repository).
  std::optional<std::string> try_run(const std::vector<std::string>& args) const {
    CommandResult result = execute(args, std::chrono::minutes(2));
    refuse_cut(args, result);
    return result.ok() ? std::optional(std::move(result.output)) : std::nullopt;
  }

  /// git's output; throws std::runtime_error with git's last line when it fails.
  std::string run(const std::vector<std::string>& args) const {
    CommandResult result = execute(args, std::chrono::minutes(10));
    refuse_cut(args, result);
    if (!result.ok()) {
      const std::string why = last_line(result.output);
      throw std::runtime_error("git " + args.front() + " in " + directory.string() + ": " +
                               result.describe() + (why.empty() ? "" : ": " + why));
    }
    return std::move(result.output);
  }
};

/// The blank-separated words of git's output.
inline std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

// git arguments that limit a command to the change: the whole tree. (cc-ci's
// report folder is never inside it: claim_report_folder refuses that.)
inline std::vector<std::string> whole_tree() {
  return {"--", "."};
}

inline std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

}  // namespace ccci
