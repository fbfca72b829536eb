#include "recipe/target_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <utility>
#include <vector>

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
  std::string key = relative.generic_string();
  while (key.ends_with('/')) key.pop_back();  // "dir/" names the folder, as git reads it
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
  } catch (const std::runtime_error& error) {  // a listing that does not read whole: the recipe's, named
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
  // A submodule's files are in another repository, not in this one: as if absent.
  if (entry->second.type == "commit") return std::nullopt;
  if (entry->second.type != "blob") throw UsageError(what + ": not a file");
  if (entry->second.size > kTargetFileMaxBytes) throw UsageError(too_large(what));
  return Git{target_.repository}.run({"cat-file", "blob", "--end-of-options", entry->second.object});
}

namespace {

// A tree listing cc-ci reads whole or not at all: a recipe's tree is far
// smaller, and a cut listing would hide files.
constexpr size_t kTreeListingMaxBytes = size_t{64} << 20;

// One record of `git ls-tree -z --long`: "MODE TYPE OBJECT SIZE\tPATH".
std::pair<std::string, std::string> split_record(std::string_view record, std::vector<std::string>& fields) {
  const auto tab = record.find('\t');
  if (tab == std::string_view::npos) throw std::runtime_error("git ls-tree printed a record without a name");
  fields = words(std::string(record.substr(0, tab)));
  if (fields.size() != 4) throw std::runtime_error("git ls-tree printed a record cc-ci cannot read");
  return {std::string(record.substr(tab + 1)), fields[3]};
}

}  // namespace

// Every file of the commit, listed once, names byte for byte (no '\r' taken
// out: two names must never become one).
const std::map<std::string, TargetFiles::Entry>& TargetFiles::tree() const {
  if (tree_) return *tree_;
  const std::string listing = Git{target_.repository}.run(
      {"ls-tree", "-r", "-z", "--long", "--full-tree", "--end-of-options", target_.commit},
      {.max_output = kTreeListingMaxBytes, .keep_carriage_returns = true});
  std::map<std::string, Entry> entries;
  std::vector<std::string> fields;
  std::string_view rest = listing;
  while (!rest.empty()) {
    const auto end = rest.find('\0');
    if (end == std::string_view::npos) throw std::runtime_error("git ls-tree printed a record cut short");
    auto [name, size] = split_record(rest.substr(0, end), fields);
    rest.remove_prefix(end + 1);
    Entry entry{.type = fields[1], .object = fields[2]};
    if (size != "-") {
      const auto [at, error] = std::from_chars(size.data(), size.data() + size.size(), entry.size);
      if (error != std::errc() || at != size.data() + size.size())
        throw std::runtime_error("git ls-tree printed a size cc-ci cannot read");
    }
    if (!entries.emplace(name, std::move(entry)).second)
      throw std::runtime_error("git ls-tree listed two files of one name");
  }
  tree_ = std::move(entries);
  return *tree_;
}

}  // namespace ccci
