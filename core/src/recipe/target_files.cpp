#include "recipe/target_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/usage_error.hpp"
#include "ccci/text.hpp"
#include "recipe/git.hpp"

namespace ccci {

namespace fs = std::filesystem;

namespace {

std::string too_large(const std::string& what) {
  return what + ": larger than " + std::to_string(kTargetFileMaxBytes >> 10) +
         " KiB, more than cc-ci reads of a recipe file";
}

// A file of a local checkout's working tree, never through a link out of it.
std::optional<std::string> read_working_tree(const fs::path& working_tree, const fs::path& relative,
                                             const std::string& what) {
  std::error_code error;
  const fs::path root = fs::weakly_canonical(working_tree, error);
  const fs::path real = fs::weakly_canonical(working_tree / relative, error);
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
  const bool regular = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
  char buffer[65536];
  ssize_t count = 0;
  while (regular && content.size() <= kTargetFileMaxBytes && (count = ::read(fd, buffer, sizeof buffer)) > 0)
    content.append(buffer, static_cast<std::size_t>(count));
  ::close(fd);
  if (!regular) throw UsageError(what + ": not a regular file");
  if (content.size() > kTargetFileMaxBytes) throw UsageError(too_large(what));
  return content;
}

}  // namespace

std::optional<std::string> TargetFiles::read(const std::string& path) const {
  std::string_view name = path;
  while (name.starts_with('/')) name.remove_prefix(1);
  const fs::path relative = fs::path(name).lexically_normal();
  const std::string what = "the recipe's file \"" + valid_utf8(strip_ansi(cut_utf8(path, 200))) + "\"";
  if (relative.empty() || *relative.begin() == ".." || relative == ".")
    throw UsageError(what + ": not a file inside the recipe's checkout");
  const std::string key = relative.generic_string();
  if (const auto known = read_.find(key); known != read_.end()) return known->second;
  std::optional<std::string> content = target_.local_changes && !target_.working_tree.empty()
                                           ? read_working_tree(target_.working_tree, relative, what)
                                           : read_committed(key, what);
  read_.emplace(key, content);
  return content;
}

// A committed file: its type and size from the tree's listing first, so a
// huge blob is never read.
std::optional<std::string> TargetFiles::read_committed(const std::string& relative,
                                                       const std::string& what) const {
  const std::map<std::string, Entry>* listed = nullptr;
  try {
    listed = &tree();
  } catch (const std::runtime_error& error) {  // e.g. a tree too large to list: the recipe's, named
    throw UsageError(what + ": " + error.what());
  }
  const auto& entries = *listed;
  const auto entry = entries.find(relative);
  if (entry == entries.end()) {
    // Not listed: a folder (its files are), or nothing at all.
    const auto below = entries.lower_bound(relative + "/");
    if (below != entries.end() && below->first.starts_with(relative + "/"))
      throw UsageError(what + ": not a file");
    return std::nullopt;
  }
  if (entry->second.type != "blob") throw UsageError(what + ": not a file");
  if (entry->second.size > kTargetFileMaxBytes) throw UsageError(too_large(what));
  return Git{target_.repository}.run({"cat-file", "blob", "--end-of-options", entry->second.object});
}

// Every file of the commit, listed once: "MODE TYPE OBJECT SIZE\tPATH", NUL-ended.
const std::map<std::string, TargetFiles::Entry>& TargetFiles::tree() const {
  if (tree_) return *tree_;
  const std::string listing = Git{target_.repository}.run(
      {"ls-tree", "-r", "-z", "--long", "--full-tree", "--end-of-options", target_.commit});
  std::map<std::string, Entry> entries;
  std::string_view rest = listing;
  while (!rest.empty()) {
    const auto end = rest.find('\0');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    const auto tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    const auto fields = words(std::string(line.substr(0, tab)));
    if (fields.size() != 4) continue;
    Entry entry{.type = fields[1], .object = fields[2]};
    if (fields[3] != "-") entry.size = std::stoull(fields[3]);
    entries.emplace(std::string(line.substr(tab + 1)), std::move(entry));
  }
  tree_ = std::move(entries);
  return *tree_;
}

}  // namespace ccci
