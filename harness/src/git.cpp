#include "ccci/git.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "ccci/abra_client.hpp"
#include "ccci/process.hpp"
#include "ccci/redactor.hpp"

namespace ccci {

namespace fs = std::filesystem;

namespace {

// Answers git's prompts from its own environment: the values are never on a
// command line (visible in ps) nor in a file.
constexpr const char* kAskpass = R"(#!/bin/sh
case "$1" in
  Username*) printf '%s\n' "$CCCI_GIT_USERNAME" ;;
  *) printf '%s\n' "$CCCI_GIT_PASSWORD" ;;
esac
)";

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);) parts.push_back(part);
  if (!text.empty() && text.back() == separator) parts.emplace_back();
  return parts;
}

}  // namespace

GitClient::GitClient(HttpSettings http, std::string host, Sink log)
    : http_(std::move(http)), host_(std::move(host)), log_(std::move(log)) {
  std::string pattern = (fs::temp_directory_path() / "cc-ci-git-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw CommandError("cannot create a temporary folder for git");
  home_ = pattern;
  const fs::path askpass = home_ / "askpass";
  std::ofstream(askpass) << kAskpass;
  fs::permissions(askpass, fs::perms::owner_all, fs::perm_options::replace);

  configuration_ = {"credential.helper=", "user.name=cc-ci", "user.email=cc-ci@localhost",
                    "init.defaultBranch=main", "http.sslVerify=true"};
  for (const auto& spec : http_.connect_to) {
    const auto fields = split(spec, ':');
    if (fields.size() != 4) continue;
    const auto& [from_host, from_port, to_host, to_port] =
        std::tie(fields[0], fields[1], fields[2], fields[3]);
    if (!from_host.empty() && from_host != host_) continue;
    if (!from_port.empty() && from_port != "443") continue;
    const std::string port = to_port.empty() ? "443" : to_port;
    if (port != "443")
      configuration_.push_back("url.https://" + host_ + ":" + port + "/.insteadOf=https://" + host_ + "/");
    if (!to_host.empty())
      configuration_.push_back("http.curloptResolve=" + host_ + ":" + port + ":" + to_host);
    break;  // curl uses the first matching entry too
  }
}

fs::path GitClient::scratch(const std::string& name) const {
  fs::path folder = home_ / "work" / name;
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

GitClient::~GitClient() {
  std::error_code ignored;
  fs::remove_all(home_, ignored);
}

std::string GitClient::run(const std::vector<std::string>& args, const fs::path& directory,
                           const std::optional<Credentials>& credentials, std::chrono::milliseconds timeout) {
  Command command{.timeout = timeout};
  command.argv = {"git", "-C", directory.string()};
  for (const auto& setting : configuration_) {
    command.argv.push_back("-c");
    command.argv.push_back(setting);
  }
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  command.env = {{"HOME", home_.string()},
                 {"GIT_CONFIG_NOSYSTEM", "1"},
                 {"GIT_TERMINAL_PROMPT", "0"},
                 {"GIT_ASKPASS", (home_ / "askpass").string()}};
  if (!http_.ca_file.empty()) {
    // Through the environment: git 2.39 ignores http.sslCAInfo given with -c here.
    command.env["GIT_SSL_CAINFO"] = http_.ca_file;
    command.env["GIT_SSL_CAPATH"] = "/etc/ssl/certs";
  }
  if (credentials) {
    command.env["CCCI_GIT_USERNAME"] = credentials->username;
    command.env["CCCI_GIT_PASSWORD"] = credentials->password;
  }

  std::vector<std::string> shown = {"git"};
  shown.insert(shown.end(), args.begin(), args.end());
  log_("$ " + format_command_line(shown));
  const CommandResult result = run_command(command);
  if (!result.output.empty()) log_(result.output);
  log_("  -> " + result.describe());
  if (result.timed_out || result.signal != 0)
    throw CommandError(format_command_line(shown) + ": " + result.describe());
  if (result.exit_code != 0) {
    std::string last = result.output;
    while (!last.empty() && last.back() == '\n') last.pop_back();
    last = last.substr(last.find_last_of('\n') == std::string::npos ? 0 : last.find_last_of('\n') + 1);
    throw CheckFailure(format_command_line(shown) + ": " + result.describe() + ": " + last);
  }
  return result.output;
}

}  // namespace ccci
