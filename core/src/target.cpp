#include "target.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "ccci/process.hpp"
#include "settings.hpp"

namespace ccci {

namespace fs = std::filesystem;

nlohmann::json to_json(const RecipeTarget& target) {
  nlohmann::json json;
  to_json(json, target);
  return json;
}

RecipeTarget target_from_json(const nlohmann::json& json) {
  return json.get<RecipeTarget>();
}

namespace {

using Semver = std::array<int, 3>;

// X.Y.Z of "X.Y.Z+UPSTREAM", or nothing for any other tag.
std::optional<Semver> release_key(std::string_view tag) {
  const auto plus = tag.find('+');
  if (plus == std::string_view::npos || plus + 1 == tag.size() ||
      tag.find_first_of(" \t\n", plus) != std::string_view::npos)
    return std::nullopt;
  Semver key{};
  const char* at = tag.data();
  const char* end = tag.data() + plus;
  for (size_t part = 0; part < key.size(); ++part) {
    const auto [next, error] = std::from_chars(at, end, key[part]);
    if (error != std::errc() || next == at || key[part] < 0) return std::nullopt;
    at = next;
    if (part + 1 < key.size()) {
      if (at == end || *at != '.') return std::nullopt;
      ++at;
    }
  }
  if (at != end) return std::nullopt;
  return key;
}

struct Git {
  fs::path directory;

  CommandResult execute(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
    Command command{.argv = {"git", "-C", directory.string()}, .timeout = timeout};
    command.argv.insert(command.argv.end(), args.begin(), args.end());
    command.env = {{"GIT_TERMINAL_PROMPT", "0"}, {"GIT_CONFIG_NOSYSTEM", "1"}, {"LC_ALL", "C"}};
    return run_command(command);
  }

  /// git's output; nullopt when git says no (an unknown ref, not a repository).
  std::optional<std::string> try_run(const std::vector<std::string>& args) const {
    CommandResult result = execute(args, std::chrono::minutes(2));
    return result.ok() ? std::optional(std::move(result.output)) : std::nullopt;
  }

  /// git's output; throws std::runtime_error with git's last line when it fails.
  std::string run(const std::vector<std::string>& args) const {
    CommandResult result = execute(args, std::chrono::minutes(10));
    if (!result.ok()) {
      std::string why = result.output;
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      if (const auto cut = why.rfind('\n'); cut != std::string::npos) why = why.substr(cut + 1);
      throw std::runtime_error("git " + args.front() + " in " + directory.string() + ": " +
                               result.describe() + (why.empty() ? "" : ": " + why));
    }
    return std::move(result.output);
  }
};

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

// The repository's releases: annotated tags named X.Y.Z+UPSTREAM. A
// lightweight tag is not a release (abra's lint refuses them too).
std::vector<std::string> releases(const Git& git) {
  std::vector<std::string> found;
  std::istringstream lines(
      git.run({"for-each-ref", "--format=%(objecttype) %(refname:strip=2)", "refs/tags"}));
  for (std::string line; std::getline(lines, line);) {
    const auto space = line.find(' ');
    if (space == std::string::npos || line.substr(0, space) != "tag") continue;
    std::string name = line.substr(space + 1);
    if (release_key(name)) found.push_back(std::move(name));
  }
  std::sort(found.begin(), found.end(),
            [](const std::string& a, const std::string& b) { return *release_key(a) < *release_key(b); });
  return found;
}

// The newest of `candidates` (sorted oldest first) that is also in `among`.
std::string newest_in(const std::vector<std::string>& candidates, const std::vector<std::string>& among) {
  for (auto it = candidates.rbegin(); it != candidates.rend(); ++it)
    if (std::find(among.begin(), among.end(), *it) != among.end()) return *it;
  return "";
}

// Version and previous release of `target.commit`, from the repository's tags.
void add_versions(const Git& git, RecipeTarget& target, const std::string& asked_tag) {
  const auto all = releases(git);
  if (target.version.empty() && std::find(all.begin(), all.end(), asked_tag) != all.end())
    target.version = asked_tag;
  if (target.version.empty())
    target.version = newest_in(all, words(git.run({"tag", "--points-at", target.commit})));
  if (target.is_release()) {
    // The newest release older than this one.
    for (const auto& release : all)
      if (*release_key(release) < *release_key(target.version)) target.previous_release = release;
  } else {
    // Unreleased code: the newest release it builds on (one at the same commit
    // too, when local changes make the target newer than it).
    target.previous_release = newest_in(all, words(git.run({"tag", "--merged", target.commit})));
  }
}

// git arguments that limit a command to the change: the whole tree, less the ignored folders.
std::vector<std::string> change_pathspec(const RecipeTarget& target) {
  std::vector<std::string> pathspec = {"--", "."};
  for (const auto& folder : target.ignored) pathspec.push_back(":(exclude)" + folder);
  return pathspec;
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

RecipeTarget from_recipe_dir(const std::string& recipe, const fs::path& given,
                             const std::vector<fs::path>& not_the_change) {
  const std::string what = "--recipe-dir " + recipe + "=" + given.string();
  std::error_code error;
  const fs::path folder = fs::absolute(given, error);
  if (error || !fs::is_directory(folder, error)) throw UsageError(what + ": no such folder");
  const Git git{folder};
  const auto top = git.try_run({"rev-parse", "--show-toplevel"});
  if (!top)
    throw UsageError(what + ": not a git checkout (the recipe's repository is needed for its versions)");
  if (fs::weakly_canonical(words(*top).at(0), error) != fs::weakly_canonical(folder, error))
    throw UsageError(what + ": a folder inside the checkout " + words(*top).at(0) + "; give its top folder");
  const auto commit = git.try_run({"rev-parse", "--verify", "--quiet", "HEAD^{commit}"});
  if (!commit) throw UsageError(what + ": the checkout has no commit yet");
  RecipeTarget target;
  target.ref = "the working tree of " + folder.string();
  target.commit = words(*commit).at(0);
  target.repository = folder;
  target.working_tree = folder;
  for (const auto& path : not_the_change) {
    const fs::path inside =
        fs::weakly_canonical(path, error).lexically_relative(fs::weakly_canonical(folder, error));
    if (!inside.empty() && !inside.string().starts_with("..") && inside != ".")
      target.ignored.push_back(inside.string());
  }
  target.local_changes =
      !git.run(with({"status", "--porcelain", "--untracked-files=all"}, change_pathspec(target))).empty();
  add_versions(git, target, "");
  return target;
}

RecipeTarget from_repository(const std::string& recipe, const std::optional<std::string>& ref,
                             const fs::path& recipes_from) {
  const fs::path repository = fs::absolute(recipes_from / recipe);
  std::error_code error;
  const Git git{repository};
  if (!fs::is_directory(repository, error) || !git.try_run({"rev-parse", "--git-dir"}))
    throw UsageError("recipe " + recipe + ": no git repository at " + repository.string() +
                     " (fetch it with `abra recipe fetch " + recipe +
                     "`, set --recipes-from, or give --recipe-dir)");
  RecipeTarget target;
  target.repository = repository;
  if (ref) {
    const std::string what = "--ref " + recipe + "=" + *ref;
    if (ref->empty() || ref->starts_with('-') || ref->find_first_of(" \t\n") != std::string::npos)
      throw UsageError(what + ": not a commit, branch or tag name");
    target.ref = *ref;
    // A branch of a clone may only exist as origin/<branch>.
    for (const auto& candidate : {*ref, "origin/" + *ref}) {
      if (const auto found = git.try_run(
              {"rev-parse", "--verify", "--quiet", "--end-of-options", candidate + "^{commit}"})) {
        target.commit = words(*found).at(0);
        break;
      }
    }
    if (target.commit.empty())
      throw UsageError(what + ": no such commit, branch or tag in " + repository.string());
    add_versions(git, target, *ref);
    return target;
  }
  const auto all = releases(git);
  if (all.empty())
    throw UsageError("recipe " + recipe + ": " + repository.string() +
                     " has no release tag (an annotated X.Y.Z+UPSTREAM tag); give --ref or --recipe-dir");
  target.ref = all.back();
  target.commit =
      words(git.run({"rev-parse", "--verify", "--end-of-options", all.back() + "^{commit}"})).at(0);
  add_versions(git, target, all.back());
  return target;
}

}  // namespace

bool is_release_version(std::string_view tag) {
  return release_key(tag).has_value();
}

std::string RecipeTarget::describe() const {
  if (is_release()) return version;
  return "unreleased " + commit.substr(0, 8) + (local_changes ? " with local changes" : "");
}

RecipeTarget resolve_target(const std::string& recipe, const TargetRequest& request,
                            const fs::path& recipes_from) {
  if (request.ref && request.recipe_dir)
    throw UsageError("recipe " + recipe + ": give --ref or --recipe-dir, not both");
  try {
    return request.recipe_dir ? from_recipe_dir(recipe, *request.recipe_dir, request.not_the_change)
                              : from_repository(recipe, request.ref, recipes_from);
  } catch (const CommandError& error) {
    throw UsageError("recipe " + recipe + ": git could not run: " + error.what());
  } catch (const std::runtime_error& error) {
    if (dynamic_cast<const UsageError*>(&error)) throw;
    throw UsageError("recipe " + recipe + ": " + error.what());
  }
}

std::optional<std::string> read_target_file(const RecipeTarget& target, const std::string& path) {
  if (target.local_changes && !target.working_tree.empty()) {
    std::ifstream in(target.working_tree / path, std::ios::binary);
    if (!in) return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return Git{target.repository}.try_run({"show", target.commit + ":" + path});
}

void check_out_target(const RecipeTarget& target, const fs::path& destination) {
  fs::create_directories(destination.parent_path());
  const Git outside{destination.parent_path()};
  outside.run({"clone", "--quiet", "--no-checkout", "--", target.repository.string(), destination.string()});
  const Git clone{destination};
  clone.run({"checkout", "--quiet", "--detach", target.commit});
  if (target.working_tree.empty() || !target.local_changes) return;
  // The changes under test that are not committed: every path that differs
  // from HEAD (staged or not, deleted included) and every untracked file.
  const Git local{target.working_tree};
  std::vector<std::string> paths;
  for (const auto& listing :
       {local.run(with({"diff", "--name-only", "--no-renames", "-z", "HEAD"}, change_pathspec(target))),
        local.run(with({"ls-files", "--others", "--exclude-standard", "-z"}, change_pathspec(target)))}) {
    std::string_view rest = listing;
    while (!rest.empty()) {
      const auto end = rest.find('\0');
      paths.emplace_back(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    }
  }
  for (const auto& relative : paths) {
    if (relative.empty()) continue;
    const fs::path from = target.working_tree / relative;
    const fs::path to = destination / relative;
    // git names paths inside the checkout; a ".." in one would be a corrupt repository.
    if (fs::path(relative).lexically_normal().string().starts_with(".."))
      throw std::runtime_error("git listed a path outside the checkout: " + relative);
    std::error_code error;
    fs::remove(to, error);
    const auto status = fs::symlink_status(from, error);
    if (!fs::exists(status)) continue;  // deleted in the working tree
    fs::create_directories(to.parent_path());
    if (fs::is_symlink(status))
      fs::copy_symlink(from, to);
    else
      fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  }
}

}  // namespace ccci
