#include "target.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "ccci/process.hpp"
#include "ccci/text.hpp"
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

// git arguments that limit a command to the change: the whole tree. (cc-ci's
// report folder is never inside it: claim_report_folder refuses that.)
std::vector<std::string> whole_tree() {
  return {"--", "."};
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
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
                     " has no release tag (an annotated X.Y.Z+UPSTREAM tag" + tags_not_releases(git) +
                     "); give --ref or --recipe-dir");
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
    return request.recipe_dir ? from_recipe_dir(recipe, *request.recipe_dir)
                              : from_repository(recipe, request.ref, recipes_from);
  } catch (const CommandError& error) {
    throw UsageError("recipe " + recipe + ": git could not run: " + error.what());
  } catch (const std::runtime_error& error) {
    if (dynamic_cast<const UsageError*>(&error)) throw;
    throw UsageError("recipe " + recipe + ": " + error.what());
  }
}

std::optional<RecipeTarget> release_of(const RecipeTarget& target, const std::string& version) {
  if (!is_release_version(version)) return std::nullopt;
  const auto found = Git{target.repository}.try_run(
      {"rev-parse", "--verify", "--quiet", "--end-of-options", "refs/tags/" + version + "^{commit}"});
  if (!found) return std::nullopt;
  RecipeTarget release;
  release.ref = version;
  release.commit = words(*found).at(0);
  release.version = version;
  release.repository = target.repository;
  return release;
}

std::optional<std::string> read_target_file(const RecipeTarget& target, const std::string& path) {
  std::string_view name = path;
  while (name.starts_with('/')) name.remove_prefix(1);
  const fs::path relative = fs::path(name).lexically_normal();
  const std::string what = "the recipe's file \"" + valid_utf8(strip_ansi(cut_utf8(path, 200))) + "\"";
  if (relative.empty() || *relative.begin() == ".." || relative == ".")
    throw UsageError(what + ": not a file inside the recipe's checkout");
  const std::string too_large = what + ": larger than " + std::to_string(kTargetFileMaxBytes >> 10) +
                                " KiB, more than cc-ci reads of a recipe file";

  if (target.local_changes && !target.working_tree.empty()) {
    std::error_code error;
    const fs::path root = fs::weakly_canonical(target.working_tree, error);
    const fs::path real = fs::weakly_canonical(target.working_tree / relative, error);
    if (error || !fs::exists(real, error)) return std::nullopt;
    const fs::path inside = real.lexically_relative(root);
    if (inside.empty() || *inside.begin() == "..")
      throw UsageError(what + ": a link that leads out of the recipe's checkout");
    if (!fs::is_regular_file(real, error)) throw UsageError(what + ": not a regular file");
    // Opened without following a link, in case one was put there since.
    const int fd = ::open(real.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    struct stat info {};
    std::string content;
    bool regular = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
    char buffer[65536];
    ssize_t count = 0;
    while (regular && content.size() <= kTargetFileMaxBytes &&
           (count = ::read(fd, buffer, sizeof buffer)) > 0)
      content.append(buffer, static_cast<std::size_t>(count));
    ::close(fd);
    if (!regular) throw UsageError(what + ": not a regular file");
    if (content.size() > kTargetFileMaxBytes) throw UsageError(too_large);
    return content;
  }
  // A committed file: its size from git first, so a huge blob is never read.
  const Git git{target.repository};
  const std::string object = target.commit + ":" + relative.generic_string();
  const auto type = git.try_run({"cat-file", "-t", "--end-of-options", object});
  if (!type) return std::nullopt;
  if (words(*type) != std::vector<std::string>{"blob"}) throw UsageError(what + ": not a file");
  const auto size = git.try_run({"cat-file", "-s", "--end-of-options", object});
  if (!size || std::stoull(words(*size).at(0)) > kTargetFileMaxBytes) throw UsageError(too_large);
  return git.run({"cat-file", "blob", "--end-of-options", object});
}

namespace {

// abra and Docker read the checkout's files, following links: a link in the
// change that leads out of the checkout (to the host's files) is refused
// before anything runs on it.
void refuse_links_out(const fs::path& checkout) {
  std::error_code error;
  const fs::path root = fs::weakly_canonical(checkout, error);
  fs::recursive_directory_iterator walk(checkout, error);
  for (auto entry = walk; !error && entry != fs::recursive_directory_iterator(); entry.increment(error)) {
    if (entry->path().filename() == ".git") {
      entry.disable_recursion_pending();
      continue;
    }
    if (!entry->is_symlink()) continue;
    const fs::path real = fs::weakly_canonical(entry->path(), error);
    const fs::path inside = real.lexically_relative(root);
    if (error || inside.empty() || *inside.begin() == "..")
      throw std::runtime_error("the recipe's " + entry->path().lexically_relative(checkout).string() +
                               " is a link that leads out of the checkout; cc-ci does not deploy a recipe "
                               "whose files reach outside it");
  }
  if (error)
    throw std::runtime_error("cannot read the checkout " + checkout.string() + ": " + error.message());
}

}  // namespace

void check_out_target(const RecipeTarget& target, const fs::path& destination) {
  fs::create_directories(destination.parent_path());
  const Git outside{destination.parent_path()};
  outside.run({"clone", "--quiet", "--no-checkout", "--", target.repository.string(), destination.string()});
  const Git clone{destination};
  clone.run({"checkout", "--quiet", "--detach", target.commit});
  if (target.working_tree.empty() || !target.local_changes) {
    refuse_links_out(destination);
    return;
  }
  // The changes under test that are not committed: every path that differs
  // from HEAD (staged or not, deleted included) and every untracked file.
  const Git local{target.working_tree};
  std::vector<std::string> paths;
  for (const auto& listing :
       {local.run(with({"diff", "--name-only", "--no-renames", "-z", "HEAD"}, whole_tree())),
        local.run(with({"ls-files", "--others", "--exclude-standard", "-z"}, whole_tree()))}) {
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
  refuse_links_out(destination);
}

}  // namespace ccci
