// The app's env file and the recipe checkout in abra's folder, as the
// harness edits them between abra's commands: settings a plugin asks for,
// the CI compose overlay.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "abra_forms.hpp"
#include "ccci/abra_client.hpp"
#include "ccci/process.hpp"
#include "ccci/redactor.hpp"

namespace ccci {

std::filesystem::path default_abra_dir() {
  if (const char* dir = std::getenv("ABRA_DIR"); dir && *dir) return dir;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".abra";
}

std::filesystem::path AbraClient::abra_root() const {
  return settings_.abra_dir.empty() ? default_abra_dir() : std::filesystem::path(settings_.abra_dir);
}

std::filesystem::path AbraClient::env_file(const std::string& domain) const {
  namespace fs = std::filesystem;
  const fs::path root = abra_root();
  std::error_code error;
  for (const auto& server : fs::directory_iterator(root / "servers", error))
    if (fs::exists(server.path() / (domain + ".env"))) return server.path() / (domain + ".env");
  throw AbraFailure("app " + domain + " has no env file under " + (root / "servers").string());
}

namespace {

// Where an active or commented-out "KEY=" line starts its key, if `line` is one.
bool sets_key(const std::string& line, const std::string& key, bool active_only) {
  const auto start = line.find_first_not_of(active_only ? " " : "# ");
  return start != std::string::npos && line.compare(start, key.size() + 1, key + "=") == 0;
}

std::vector<std::string> read_lines(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

void AbraClient::set_env(const std::string& domain, const std::string& key, const std::string& value) {
  const std::string line = key + "=" + value;
  if (plan_) {
    plan_("set " + line + " in " + domain + ".env");
    return;
  }
  const std::filesystem::path file = env_file(domain);
  std::vector<std::string> lines = read_lines(file);
  // An active or commented-out "KEY=" line is replaced in place, as a maintainer would edit it.
  const auto found = std::find_if(lines.begin(), lines.end(),
                                  [&](const std::string& current) { return sets_key(current, key, false); });
  if (found != lines.end())
    *found = line;
  else
    lines.push_back(line);
  std::ofstream out(file, std::ios::trunc);
  for (const auto& text : lines) out << text << '\n';
  if (!out) throw CommandError("cannot write " + file.string());
  log_("set " + redactor_.apply(line) + " in " + file.string());
}

std::optional<std::string> AbraClient::env_value(const std::string& domain, const std::string& key) const {
  const std::vector<std::string> lines = read_lines(env_file(domain));
  // The last active line wins, as in a shell.
  for (auto line = lines.rbegin(); line != lines.rend(); ++line)
    if (sets_key(*line, key, true)) {
      std::string value = line->substr(line->find('=') + 1);
      if (const auto comment = value.find(" #"); comment != std::string::npos) value.erase(comment);
      const auto first = value.find_first_not_of(" \t");
      const auto last = value.find_last_not_of(" \t\r");
      return first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
    }
  return std::nullopt;
}

void AbraClient::install_compose_overlay(const std::string& recipe, const std::filesystem::path& overlay) {
  namespace fs = std::filesystem;
  const fs::path checkout = abra_root() / "recipes" / recipe;
  if (plan_) {
    plan_("copy " + overlay.string() + " to " + (checkout / kComposeOverlay).string() +
          " (listed in .git/info/exclude)");
    return;
  }
  if (!fs::is_directory(checkout / ".git"))
    throw CommandError("no recipe checkout at " + checkout.string() + " to put the compose overlay in");
  std::error_code error;
  fs::copy_file(overlay, checkout / kComposeOverlay, fs::copy_options::overwrite_existing, error);
  if (error)
    throw CommandError("cannot copy the compose overlay " + overlay.string() + " into " + checkout.string() +
                       ": " + error.message());
  // The copy is not part of the recipe: hidden from git, the checkout stays
  // clean, so abra still deploys releases (it refuses a tree with local changes).
  const fs::path exclude = checkout / ".git" / "info" / "exclude";
  fs::create_directories(exclude.parent_path(), error);
  const std::vector<std::string> excluded = read_lines(exclude);
  if (std::find(excluded.begin(), excluded.end(), std::string("/") + kComposeOverlay) == excluded.end()) {
    std::ofstream out(exclude, std::ios::app);
    out << '/' << kComposeOverlay << '\n';
    if (!out) throw CommandError("cannot write " + exclude.string());
  }
  log_("compose overlay " + overlay.string() + " copied into " + checkout.string());
}

void AbraClient::add_compose_overlay(const std::string& domain, const std::string& recipe,
                                     const std::filesystem::path& overlay) {
  install_compose_overlay(recipe, overlay);
  if (plan_) {
    plan_(std::string("append ") + kComposeOverlay + " to " + AbraForms::kComposeFileEnv + " in " + domain +
          ".env");
    return;
  }
  // One line appended, as recipes themselves add a file (`COMPOSE_FILE=
  // "$COMPOSE_FILE:compose.x.yml"`): whatever lines, quotes and `$COMPOSE_FILE`
  // chains the env file already has, abra's dotenv reader ends with the
  // overlay after them. Without a value there is nothing to chain: compose.yml.
  const std::string key = AbraForms::kComposeFileEnv;
  const std::string chained = key + "=\"$" + key + ":" + kComposeOverlay + "\"";
  const std::filesystem::path file = env_file(domain);
  std::vector<std::string> lines = read_lines(file);
  if (std::find(lines.begin(), lines.end(), chained) != lines.end()) return;  // a second deploy adds nothing
  std::string value = env_value(domain, key).value_or("");
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
    value = value.substr(1, value.size() - 2);
  lines.push_back(value.empty() ? key + "=\"" + AbraForms::kDefaultComposeFile + ":" + kComposeOverlay + "\""
                                : chained);
  std::ofstream out(file, std::ios::trunc);
  for (const auto& text : lines) out << text << '\n';
  if (!out) throw CommandError("cannot write " + file.string());
  log_("appended " + lines.back() + " to " + file.string());
}

}  // namespace ccci
