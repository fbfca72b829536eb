// Running git against an app over HTTPS, with the run's TLS and routing
// settings and credentials that never reach a command line or a log.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ccci/command_error.hpp"
#include "ccci/http.hpp"

namespace ccci {

class GitClient {
 public:
  using Sink = std::function<void(std::string_view)>;

  /// `host` is the app's domain: --connect-to entries that match it are
  /// translated into git configuration (a URL rewrite plus curl's resolve),
  /// since git has no connect-to of its own. `log` receives each command and
  /// its output; pass credentials' values to the run's redactor beforehand.
  GitClient(HttpSettings http, std::string host, Sink log);
  GitClient(const GitClient&) = delete;
  GitClient& operator=(const GitClient&) = delete;
  ~GitClient();

  /// Runs `git <args…>` in `directory`. Credentials are handed to git by an
  /// askpass helper reading them from git's environment. Throws CheckFailure
  /// when git exits non-zero, CommandError when it cannot run or times out.
  std::string run(const std::vector<std::string>& args, const std::filesystem::path& directory,
                  const std::optional<Credentials>& credentials = std::nullopt,
                  std::chrono::milliseconds timeout = std::chrono::seconds(120));

  /// A fresh folder for a working copy, removed with this client.
  std::filesystem::path scratch(const std::string& name) const;

  /// The `-c` options this client passes to every git command (for tests and logs).
  const std::vector<std::string>& configuration() const { return configuration_; }

 private:
  HttpSettings http_;
  std::string host_;
  Sink log_;
  std::filesystem::path home_;  // a private HOME: no user config, holds the askpass helper
  std::vector<std::string> configuration_;
};

}  // namespace ccci
