#include "recipe/target_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string_view>
#include <utility>

#include "base/usage_error.hpp"
#include "ccci/command_error.hpp"
#include "ccci/text.hpp"

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

// A committed file, found folder by folder: its size is known before it is
// read, so a huge file never is.
std::optional<std::string> TargetFiles::read_committed(const std::string& relative,
                                                       const std::string& what) const {
  const auto objects = this->objects();
  try {
    if (!top_folder_) top_folder_ = objects->tree_of(target_.commit);
    std::string folder = *top_folder_;
    std::string_view rest = relative;
    for (;;) {
      const auto slash = rest.find('/');
      const auto entry = objects->entry(folder, std::string(rest.substr(0, slash)));
      if (!entry) return std::nullopt;
      using Type = GitObjects::Entry::Type;
      if (slash == std::string_view::npos) {
        // A submodule's files are in another repository, not in this one: as if absent.
        if (entry->type == Type::submodule) return std::nullopt;
        if (entry->type == Type::folder) throw UsageError(what + ": not a file");
        auto content = objects->file(entry->object, kTargetFileMaxBytes);
        if (!content) throw UsageError(too_large(what));
        return content;
      }
      // Below a file or a submodule there is nothing in this repository.
      if (entry->type != Type::folder) return std::nullopt;
      folder = entry->object;
      rest.remove_prefix(slash + 1);
    }
  } catch (const UsageError&) {
    throw;
  } catch (const CommandError&) {  // git itself failed (stopped, timed out): not the recipe's file
    throw;
  } catch (const std::runtime_error& error) {  // what the repository holds that cc-ci will not read
    throw UsageError(what + ": " + error.what());
  }
}

}  // namespace ccci
