#include "run/janitor.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <stdexcept>

#include "recipe/names.hpp"

namespace ccci {

namespace fs = std::filesystem;

namespace {

fs::path home() {
  const char* value = std::getenv("HOME");
  return value && *value ? fs::path(value) : fs::current_path();
}

std::string escape_regex(const std::string& text) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(text, special, R"(\$&)");
}

// The marker's pid is a live cc-ci process.
bool run_is_alive(const fs::path& marker) {
  std::ifstream in(marker);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0) return false;
  std::ifstream command_line("/proc/" + std::to_string(pid) + "/cmdline");
  std::string text((std::istreambuf_iterator<char>(command_line)), std::istreambuf_iterator<char>());
  return text.find("cc-ci") != std::string::npos;  // not a recycled pid
}

}  // namespace

fs::path default_state_dir() {
  if (const char* dir = std::getenv("CC_CI_STATE_DIR"); dir && *dir) return dir;
  return home() / ".local" / "state" / "cc-ci";
}

RunningMarker::RunningMarker(const fs::path& state_dir, const std::string& domain) {
  // The domain names a file: it must be a plain DNS name, never a path.
  if (auto problem = dns_name_problem(domain))
    throw std::invalid_argument("cannot mark " + domain + " as running: " + *problem);
  path_ = state_dir / "running" / domain;
  std::error_code error;
  fs::create_directories(path_.parent_path(), error);
  std::ofstream(path_) << ::getpid() << '\n';
}

RunningMarker::~RunningMarker() {
  std::error_code ignored;
  fs::remove(path_, ignored);
}

std::vector<std::string> remove_dead_markers(const fs::path& state_dir) {
  std::vector<std::string> removed;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(state_dir / "running", error)) {
    if (!entry.is_regular_file() || run_is_alive(entry.path())) continue;
    if (fs::remove(entry.path(), error)) removed.push_back(entry.path().filename().string());
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

std::vector<Leftover> find_leftovers(const fs::path& abra_dir, const std::string& suffix,
                                     const fs::path& state_dir) {
  std::vector<Leftover> found;
  const std::regex ours("[a-z0-9][a-z0-9-]{0,3}-[0-9a-f]{6}\\." + escape_regex(suffix));
  std::error_code error;
  for (const auto& server : fs::directory_iterator(abra_dir / "servers", error)) {
    if (!server.is_directory()) continue;
    for (const auto& entry : fs::directory_iterator(server.path(), error)) {
      if (entry.path().extension() != ".env") continue;
      const std::string domain = entry.path().stem().string();
      if (!std::regex_match(domain, ours)) continue;
      if (run_is_alive(state_dir / "running" / domain)) continue;
      found.push_back({server.path().filename().string(), domain});
    }
  }
  std::sort(found.begin(), found.end(),
            [](const Leftover& a, const Leftover& b) { return a.server + a.domain < b.server + b.domain; });
  return found;
}

}  // namespace ccci
