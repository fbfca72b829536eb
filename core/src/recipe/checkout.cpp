// Reading a target's files and cloning it for abra: the checkout is the
// change under test, so every read is bounded and stays inside it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "base/usage_error.hpp"
#include "ccci/text.hpp"
#include "recipe/git.hpp"
#include "recipe/target.hpp"
#include "recipe/target_files.hpp"

namespace ccci {

namespace fs = std::filesystem;

std::optional<std::string> read_target_file(const RecipeTarget& target, const std::string& path) {
  return TargetFiles(target).read(path);
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
