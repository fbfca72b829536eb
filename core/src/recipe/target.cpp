#include "recipe/target.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "base/usage_error.hpp"
#include "ccci/command_error.hpp"
#include "ccci/text.hpp"
#include "recipe/git.hpp"
#include "recipe/git_objects.hpp"

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

// The repository's releases: annotated tags named X.Y.Z+UPSTREAM. A
// lightweight tag is not a release (abra's lint refuses them too). nullopt
// when git finds no repository there.
std::optional<std::vector<std::string>> releases_if_repository(const Git& git) {
  const auto listed = git.try_run({"for-each-ref", "--format=%(objecttype) %(refname:strip=2)", "refs/tags"});
  if (!listed) return std::nullopt;
  std::vector<std::string> found;
  std::istringstream lines(*listed);
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

// The releases of a repository; throws std::runtime_error with git's own words
// when git cannot list them.
std::vector<std::string> releases(const Git& git) {
  if (auto found = releases_if_repository(git)) return std::move(*found);
  git.run({"for-each-ref", "refs/tags"});  // failed just now: throws with git's last line
  throw std::runtime_error("git for-each-ref in " + git.directory.string() + " failed");
}

// What a recipe without releases has instead, for its error: old recipes
// tag `v1.2.3`, or tag without annotating; abra's versions are neither.
std::string tags_not_releases(const Git& git) {
  std::istringstream lines(git.run(
      {"for-each-ref", "--sort=-creatordate", "--format=%(objecttype) %(refname:strip=2)", "refs/tags"}));
  std::vector<std::string> tags;
  size_t count = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto space = line.find(' ');
    if (space == std::string::npos) continue;
    if (++count > 3) continue;
    const std::string name = line.substr(space + 1);
    tags.push_back(name + (line.substr(0, space) == "tag" ? "" : " (lightweight)"));
  }
  if (tags.empty()) return "; it has no tags at all";
  std::string listed;
  for (const auto& tag : tags) listed += (listed.empty() ? "" : ", ") + tag;
  return "; its " + std::to_string(count) + " tag(s), newest first: " + listed +
         (count > tags.size() ? ", …" : "");
}

// The newest of `candidates` (sorted oldest first) that is also in `among`.
std::string newest_in(const std::vector<std::string>& candidates, const std::vector<std::string>& among) {
  for (auto it = candidates.rbegin(); it != candidates.rend(); ++it)
    if (std::find(among.begin(), among.end(), *it) != among.end()) return *it;
  return "";
}

// Version and previous release of `target.commit`, from the repository's
// releases (`all`, oldest first).
void add_versions(const Git& git, RecipeTarget& target, const std::string& asked_tag,
                  const std::vector<std::string>& all) {
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

RecipeTarget from_recipe_dir(const std::string& recipe, const fs::path& given) {
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
  target.local_changes =
      !git.run(with({"status", "--porcelain", "--untracked-files=all"}, whole_tree())).empty();
  add_versions(git, target, "", releases(git));
  return target;
}

// Commits are resolved by `objects`, the git that goes on to read the
// target's files: two git processes for the whole target.
RecipeTarget from_repository(const std::string& recipe, const std::optional<std::string>& ref,
                             GitObjects& objects) {
  const fs::path repository = objects.repository();
  std::error_code error;
  const Git git{repository};
  auto all = fs::is_directory(repository, error) ? releases_if_repository(git) : std::nullopt;
  // A repository whose tags git cannot list is git's error, in its words.
  if (!all && fs::is_directory(repository, error) && git.try_run({"rev-parse", "--git-dir"}))
    all = releases(git);
  if (!all)
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
      try {
        if (const auto found = objects.commit_of(candidate)) {
          target.commit = *found;
          break;
        }
      } catch (const CommandError&) {  // a name git ends on (`HEAD@{9}` past the reflog): no commit
      }
    }
    if (target.commit.empty())
      throw UsageError(what + ": no such commit, branch or tag in " + repository.string());
    add_versions(git, target, *ref, *all);
    return target;
  }
  if (all->empty())
    throw UsageError("recipe " + recipe + ": " + repository.string() +
                     " has no release tag (an annotated X.Y.Z+UPSTREAM tag" + tags_not_releases(git) +
                     "); give --ref or --recipe-dir");
  target.ref = all->back();
  const auto commit = objects.commit_of(all->back());
  if (!commit) throw UsageError("recipe " + recipe + ": the release " + all->back() + " names no commit");
  target.commit = *commit;
  add_versions(git, target, all->back(), *all);
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
                            const fs::path& recipes_from, std::shared_ptr<GitObjects>* objects) {
  if (request.ref && request.recipe_dir)
    throw UsageError("recipe " + recipe + ": give --ref or --recipe-dir, not both");
  try {
    if (request.recipe_dir) {
      RecipeTarget target = from_recipe_dir(recipe, *request.recipe_dir);
      if (objects) *objects = std::make_shared<GitObjects>(target.repository);
      return target;
    }
    auto reader = std::make_shared<GitObjects>(fs::absolute(recipes_from / recipe));
    RecipeTarget target = from_repository(recipe, request.ref, *reader);
    if (objects) *objects = std::move(reader);
    return target;
  } catch (const CommandError& error) {
    throw UsageError("recipe " + recipe + ": git could not run: " + error.what());
  } catch (const std::runtime_error& error) {
    if (dynamic_cast<const UsageError*>(&error)) throw;
    throw UsageError("recipe " + recipe + ": " + error.what());
  }
}

std::optional<RecipeTarget> release_of(const RecipeTarget& target, const std::string& version,
                                       GitObjects* objects) {
  if (!is_release_version(version)) return std::nullopt;
  // One of the repository's releases by its exact name (an annotated tag):
  // never a revision expression (`…~1`) or a lightweight tag.
  const Git git{target.repository};
  // The previous release was found among the releases already: not listed again.
  if (version != target.previous_release) {
    const auto all = releases(git);
    if (std::find(all.begin(), all.end(), version) == all.end()) return std::nullopt;
  }
  std::optional<GitObjects> own;
  if (!objects) objects = &own.emplace(target.repository);
  const auto found = objects->commit_of("refs/tags/" + version);
  if (!found) return std::nullopt;
  RecipeTarget release;
  release.ref = version;
  release.commit = *found;
  release.version = version;
  release.repository = target.repository;
  return release;
}

}  // namespace ccci
