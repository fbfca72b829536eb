// `cc-ci janitor`: removing apps that earlier, killed runs left behind.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace ccci {

/// While a recipe test runs, a marker file <state>/running/<domain> holds the
/// host's pid, so the janitor leaves apps of live runs alone.
std::filesystem::path default_state_dir();  // $CC_CI_STATE_DIR, else ~/.local/state/cc-ci

class RunningMarker {
 public:
  RunningMarker(const std::filesystem::path& state_dir, const std::string& domain);
  RunningMarker(const RunningMarker&) = delete;
  RunningMarker& operator=(const RunningMarker&) = delete;
  ~RunningMarker();

 private:
  std::filesystem::path path_;
};

struct Leftover {
  std::string server;
  std::string domain;
};

/// Apps under <abra_dir>/servers/ named like cc-ci names them
/// (<recipe[:4]>-<6 hex>.<suffix>) whose run is not alive.
std::vector<Leftover> find_leftovers(const std::filesystem::path& abra_dir, const std::string& suffix,
                                     const std::filesystem::path& state_dir);

/// Removes the running markers of runs that are no longer alive (a killed
/// run leaves its markers behind). Returns the domains whose markers went.
std::vector<std::string> remove_dead_markers(const std::filesystem::path& state_dir);

}  // namespace ccci
