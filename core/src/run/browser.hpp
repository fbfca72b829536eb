// Headless Chromium (Debian's package) kept running to shoot many pages, one
// at a time, each in a browser context of its own: no cookie, storage or
// cache of one page reaches the next. Its profile is a throwaway folder.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "run/devtools.hpp"

namespace ccci {

struct BrowserSetup {
  std::string executable;      ///< a path
  std::string resolver_rules;  ///< --host-resolver-rules: the only names it can reach
  /// The CA certificates (PEM) it trusts besides the system's, as the checks
  /// trust --ca-file: put in its profile's own NSS database. Empty: none.
  std::filesystem::path ca_file;
};

/// A fresh, empty folder, removed with this object; path() is empty when
/// none could be made.
class TemporaryFolder {
 public:
  explicit TemporaryFolder(const std::string& prefix);
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  ~TemporaryFolder();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class Browser {
 public:
  using Clock = std::chrono::steady_clock;

  /// Starts the browser, its profile trusting setup.ca_file. Throws
  /// CommandError when it cannot.
  explicit Browser(const BrowserSetup& setup);

  /// Shoots `url` at 1280x800 into `output` (a PNG) once the page settled,
  /// taking a page of one colour again, up to `attempts` tries in all.
  /// Returns why there is no picture (and leaves no file), or nullopt.
  std::optional<std::string> shoot(const std::string& url, const std::filesystem::path& output,
                                   Clock::time_point deadline, int attempts);

  /// It ended or garbled its answers: a new one is needed.
  bool broken() const { return devtools_.broken(); }
  /// Its process group: ended from another thread when a run must stop now.
  pid_t pid() const { return devtools_.pid(); }

  /// The longest one try at a page may take: a page whose fetches never end
  /// (an event stream, a hung request) keeps its clock paused.
  static constexpr std::chrono::seconds kLongestTry{30};

 private:
  // One page in a context of its own; throws DevToolsError.
  std::optional<std::string> shoot_once(const std::string& url, const std::filesystem::path& output,
                                        Clock::time_point deadline);

  // Every request of every page stops in the browser until this says: those
  // of the page being shot's own origin go on, all others fail. The browser
  // resolves all the run's apps; a page must still reach only its own.
  void decide(const nlohmann::json& event);

  TemporaryFolder profile_;  // before devtools_: the browser ends before its profile goes
  DevTools devtools_;
  std::string origin_;  // https://<domain> of the page being shot; empty: none is
};

}  // namespace ccci
